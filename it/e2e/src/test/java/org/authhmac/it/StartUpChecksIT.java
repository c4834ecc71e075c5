package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.authhmac.testing.FreePorts;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.KeyCli;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A receiving server configured as james-conf/receiving with one typo, as an operator would make it, does not start:
 * James itself checks the processors our mailets declare they send mail to, the partner file is read strictly, and
 * the failure names the misspelt processor or the bad key. A keyset the vault does not hold is the exception: James
 * starts (the key may be imported while it runs) and the health check names the keyset.
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
        Path receiving = E2eLayout.current().receivingConf();
        String container = Files.readString(receiving.resolve("mailetcontainer.xml"));
        assertThat(container).contains("<releaseProcessor>transport</releaseProcessor>");
        String misspelt = container.replace("<releaseProcessor>transport</releaseProcessor>",
                "<releaseProcessor>transprot</releaseProcessor>");
        server = receivingServer("misspelt", b -> b.confFile("mailetcontainer.xml", misspelt));

        server.launch();

        // both mailets that name it (AuthHmacRelease and AuthHmacQuarantine): James lists it once for each
        assertThatThrownBy(() -> server.awaitHealthy(Duration.ofSeconds(120)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("undefined processors: [transprot, transprot]");
    }

    @Test
    void aPartnerSettingJamesCannotUseStopsJamesAtStartUpAndTheFailureNamesTheKey() throws IOException {
        server = receivingServer("bad-partner", b -> b.properties("auth-hmac-partners.properties",
                Map.of("partner.a.example.failOn", "fail,pass")));

        server.launch();

        assertThatThrownBy(() -> server.awaitHealthy(Duration.ofSeconds(120)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("partner.a.example.failOn")
                .hasMessageContaining("pass cannot count as failure");
    }

    @Test
    void aKeysetTheVaultDoesNotHoldLetsJamesStartButTheHealthCheckNamesItAndTheCommand() throws Exception {
        // given the partner file names keyset a-bb, a typo: the vault holds a-b
        server = receivingServer("keyset-typo", b -> b.properties("auth-hmac-partners.properties",
                Map.of("partner.a.example.keyset", "a-bb")));

        server.launch();
        awaitStarted(server, Duration.ofSeconds(120));

        // then James runs, and its health check says what is missing and what to run
        java.net.http.HttpResponse<String> health = server.webAdmin().healthcheck();
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(health.body()).contains("AuthHmacKeyVault", "keyset 'a-bb' holds no PRIMARY or ACTIVE key",
                "partner a.example", "keys import --keyset a-bb", "partner.a.example.keyset");
    }

    /** Waits for James's own start-up line: the health check is not expected to turn healthy. */
    private static void awaitStarted(JamesServerProcess s, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!s.logs().contains("JAMES server started")) {
            if (System.nanoTime() > deadline || s.logs().contains("Fatal error while starting James")) {
                throw new AssertionError("James did not start:\n" + s.logTail(60));
            }
            Thread.sleep(200);
        }
    }

    /** james-conf/receiving with one edit, on a PKCS#12 vault that holds the partner's keyset; prepared, not started. */
    private static JamesServerProcess receivingServer(String name, UnaryOperator<JamesServerProcess.Builder> edit)
            throws IOException {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "start-up-checks", name)
                .toAbsolutePath();
        JamesServerProcess.deleteRecursively(root);
        JamesServerProcess s = edit.apply(JamesServerProcess.builder(name, root.resolve("james"))
                        .baseConf().confLayer(E2eLayout.current().receivingConf())
                        .properties("auth-hmac.properties", Map.of("vault.backend", "pkcs12", "pkcs12.file", "keys.p12",
                                "pkcs12.password", "test-only-not-a-secret"))
                        .extensionJar(JamesRuntime.javaxBundleJar()))
                .build();
        s.gatewayTo(FreePorts.next()).prepare();
        KeyCli.fromSystemProperties().run(AuthHmacPair.authHmacConfig(s),
                "keys", "generate", "--keyset", AuthHmacPair.KEYSET, "--key-id", "k-" + name,
                "--export", root.resolve(name + ".secret").toString());
        return s;
    }
}
