package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.vault.guice.AuthHmacVaultModule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Guice module James loads: one vault, bound as KeyVault and PeriodKeys, or a start-up error naming the property. */
class GuiceModuleTest {
    @TempDir
    Path dir;

    @AfterEach
    void clearProperty() {
        System.clearProperty(AuthHmacVaultModule.CONFIG_PROPERTY);
        System.clearProperty("working.directory");
    }

    @Test
    void bindsOneVaultFromTheFileNamedBySystemProperty() throws Exception {
        Path conf = dir.resolve("auth-hmac.properties");
        Files.writeString(conf, "vault.backend=pkcs12\npkcs12.file=keys.p12\npkcs12.password=pw\n");
        System.setProperty(AuthHmacVaultModule.CONFIG_PROPERTY, conf.toString());

        Injector injector = Guice.createInjector(Stage.PRODUCTION, new AuthHmacVaultModule());

        KeyVault vault = injector.getInstance(KeyVault.class);
        assertThat(injector.getInstance(PeriodKeys.class)).isSameAs(vault);
        assertThat(vault.health().healthy()).isTrue();
        vault.close();
    }

    @Test
    void findsConfInJamesWorkingDirectory() throws Exception {
        Files.createDirectories(dir.resolve("conf"));
        Files.writeString(dir.resolve("conf/auth-hmac.properties"), "vault.backend=pkcs12\npkcs12.file=keys.p12\npkcs12.password=pw\n");
        System.setProperty("working.directory", dir.toString());

        assertThat(AuthHmacVaultModule.configFile()).isEqualTo(dir.resolve("conf/auth-hmac.properties"));
    }

    @Test
    void badPropertyFailsAtStartUpNamingIt() throws Exception {
        Path conf = dir.resolve("auth-hmac.properties");
        Files.writeString(conf, "vault.backend=tpm\ntpm.device=tcp\ntpm.port=abc\n");
        System.setProperty(AuthHmacVaultModule.CONFIG_PROPERTY, conf.toString());

        assertThatThrownBy(() -> Guice.createInjector(Stage.PRODUCTION, new AuthHmacVaultModule()))
                .hasMessageContaining("tpm.port: must be an integer");
    }

    @Test
    void missingFileFailsAtStartUpSayingWhereItLooked() {
        System.setProperty(AuthHmacVaultModule.CONFIG_PROPERTY, dir.resolve("nope.properties").toString());

        assertThatThrownBy(() -> Guice.createInjector(Stage.PRODUCTION, new AuthHmacVaultModule()))
                .hasMessageContaining("nope.properties does not exist");
    }
}
