package org.authhmac.tpm.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.tpm.KeyVault;
import org.authhmac.tpm.KeyVaults;
import org.authhmac.tpm.VaultConfigException;

/**
 * Binds {@link KeyVault} for James (listed in extensions.properties as guice.extension.module).
 * The properties file is, in order: system property {@value #CONFIG_PROPERTY}; then
 * {@code <working.directory>/conf/auth-hmac.properties} (James's server root); then {@code conf/auth-hmac.properties}
 * under the current directory.
 */
public class AuthHmacVaultModule extends AbstractModule {
    public static final String CONFIG_PROPERTY = "authhmac.config";
    public static final String FILE_NAME = "auth-hmac.properties";

    @Override
    protected void configure() {
        // the mailets may ask for the narrower protocol interface
        bind(PeriodKeys.class).to(KeyVault.class);
    }

    @Provides
    @Singleton
    KeyVault keyVault() {
        Path file = configFile();
        Properties properties = load(file);
        Path baseDir = file.toAbsolutePath().getParent();
        KeyVault vault = KeyVaults.open(properties, baseDir);
        Runtime.getRuntime().addShutdownHook(new Thread(vault::close, "auth-hmac-vault-close"));
        return vault;
    }

    /** Where the vault configuration lives, as described in the class comment. */
    public static Path configFile() {
        String explicit = System.getProperty(CONFIG_PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String root = System.getProperty("working.directory");
        if (root != null && !root.isBlank()) {
            return Path.of(root, "conf", FILE_NAME);
        }
        return Path.of("conf", FILE_NAME);
    }

    static Properties load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new VaultConfigException(CONFIG_PROPERTY, "vault configuration " + file.toAbsolutePath()
                    + " does not exist (set -D" + CONFIG_PROPERTY + "=<file> or create conf/" + FILE_NAME + ")");
        }
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            properties.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new VaultConfigException(CONFIG_PROPERTY, "cannot read " + file.toAbsolutePath() + ": " + e.getMessage(), e);
        }
        return properties;
    }
}
