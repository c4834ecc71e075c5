package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.authhmac.testing.FreePorts;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.KeyCli;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A receiving server configured as james-conf/receiving with one typo, as an operator would make it, does not start:
 * James itself checks the processors our mailets declare they send mail to, and the log names the misspelt one.
 */
class StartUpChecksIT {
    private JamesServerProcess server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void aMisspeltReleaseProcessorStopsJamesAtStartUpAndTheLogNamesIt() throws IOException {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "start-up-checks").toAbsolutePath();
        JamesServerProcess.deleteRecursively(root);
        Path receiving = E2eLayout.current().receivingConf();
        String container = Files.readString(receiving.resolve("mailetcontainer.xml"));
        assertThat(container).contains("<releaseProcessor>transport</releaseProcessor>");
        String misspelt = container.replace("<releaseProcessor>transport</releaseProcessor>",
                "<releaseProcessor>transprot</releaseProcessor>");
        server = JamesServerProcess.builder("misspelt", root.resolve("james"))
                .baseConf().confLayer(receiving).confFile("mailetcontainer.xml", misspelt)
                .properties("auth-hmac.properties", Map.of("vault.backend", "pkcs12", "pkcs12.file", "keys.p12",
                        "pkcs12.password", "test-only-not-a-secret"))
                .extensionJar(JamesRuntime.javaxBundleJar())
                .build();
        server.gatewayTo(FreePorts.next()).prepare();
        KeyCli.fromSystemProperties().run(AuthHmacPair.authHmacConfig(server),
                "keys", "generate", "--keyset", AuthHmacPair.KEYSET, "--key-id", "k-misspelt",
                "--export", root.resolve("misspelt.secret").toString());

        server.launch();

        assertThatThrownBy(() -> server.awaitHealthy(Duration.ofSeconds(120)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("undefined processors: [transprot]");
    }
}
