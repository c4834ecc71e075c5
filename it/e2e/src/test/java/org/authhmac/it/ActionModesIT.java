package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.authhmac.testing.FreePorts;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.Defanged;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.KeyCli;
import org.authhmac.testing.james.SmtpSender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scenario 9: the two other actions of AuthHmacQuarantine, each on a receiving server of its own whose
 * configuration is james-conf/receiving with only {@code <action>} changed, as an operator would change it.
 * A failing mail (unsigned, claiming a.example) is delivered marked in mark mode, and gone in delete mode.
 */
class ActionModesIT {
    private static JamesServerProcess markServer;
    private static JamesServerProcess deleteServer;

    @BeforeAll
    static void startServers() throws IOException {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "action-modes").toAbsolutePath();
        JamesServerProcess.deleteRecursively(root);
        markServer = receivingServer(root, "mark");
        deleteServer = receivingServer(root, "delete");
        markServer.launch();
        deleteServer.launch();
        markServer.awaitHealthy(Duration.ofSeconds(120));
        deleteServer.awaitHealthy(Duration.ofSeconds(120));
        for (JamesServerProcess s : List.of(markServer, deleteServer)) {
            s.webAdmin().addDomain(AuthHmacPair.B_DOMAIN);
            s.webAdmin().addUser(AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD);
            s.webAdmin().addUser("postmaster@" + AuthHmacPair.B_DOMAIN, AuthHmacPair.POSTMASTER_PASSWORD);
        }
    }

    @AfterAll
    static void stopServers() {
        Thread stopMark = Thread.ofPlatform().start(() -> {
            if (markServer != null) {
                markServer.stop();
            }
        });
        if (deleteServer != null) {
            deleteServer.stop();
        }
        try {
            stopMark.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void markModeDeliversTheFailingMailWithAHeaderAndASubjectTag() {
        // given an unsigned mail claiming a.example, sent to the server in mark mode
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.mta(markServer.ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "quarterly figures", id, "see attached\n"));

        // then bob receives it, visibly marked, with the verdict
        ImapReader.Received mail = new ImapReader(markServer.ports().imap(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD)
                .awaitMessageId("<" + id + ">", Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("marked mail not delivered:\n" + markServer.logTail(40)));
        assertThat(mail.header("Subject")).singleElement().asString().contains("[AUTH-HMAC FAILED]").contains("quarterly figures");
        assertThat(mail.header("X-Auth-HMAC-Status")).singleElement().asString().contains("none");
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=none"));
        assertThat(markServer.webAdmin().repositorySize(AuthHmacEndToEndIT.QUARANTINE)).isZero();
    }

    @Test
    void markModeReplacesAStatusFieldTheSenderForgedWithTheVerdictOnTop() {
        // given an unsigned mail claiming a.example that carries its own "pass"
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.mta(markServer.ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), "X-Auth-HMAC-Status: pass verified\r\n"
                + SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "forged status", id, "trust me\n"));

        // then bob's copy carries one status field: the verdict, on top
        ImapReader.Received mail = new ImapReader(markServer.ports().imap(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD)
                .awaitMessageId("<" + id + ">", Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("marked mail not delivered:\n" + markServer.logTail(40)));
        assertThat(mail.header("X-Auth-HMAC-Status")).singleElement().asString().startsWith("none");
    }

    @Test
    void aStatusFieldOnMailThatNeedsNoCheckIsRemoved() {
        // given a mail from a domain that is no partner, carrying a "pass" of its own
        String id = UUID.randomUUID() + "@c.example";
        SmtpSender.mta(markServer.ports().smtp()).send("carol@c.example", List.of(AuthHmacPair.BOB), "X-Auth-HMAC-Status: pass verified\r\n"
                + SmtpSender.message("carol@c.example", AuthHmacPair.BOB, "hello", id, "hi\n"));

        // then bob's copy has no status field at all
        ImapReader.Received mail = new ImapReader(markServer.ports().imap(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD)
                .awaitMessageId("<" + id + ">", Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("mail not delivered:\n" + markServer.logTail(40)));
        assertThat(mail.header("X-Auth-HMAC-Status")).isEmpty();
    }

    @Test
    void deleteModeDropsTheFailingMailAfterAnAuditLine() throws InterruptedException {
        // given an unsigned mail claiming a.example, sent to the server in delete mode
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.mta(deleteServer.ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "to be dropped", id, "bye\n"));

        // then the audit log records the deletion of exactly this mail
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!auditedDelete(id) && System.nanoTime() < deadline) {
            Thread.sleep(250);
        }
        assertThat(auditedDelete(id)).as("audit line for the deletion").isTrue();
        // and the mail is neither delivered nor kept; bob is told it was deleted
        ImapReader bob = new ImapReader(deleteServer.ports().imap(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD);
        assertThat(bob.awaitMatching(m -> m.body().contains(Defanged.of("<" + id + ">")) && m.body().contains("deleted"), Duration.ofSeconds(30)))
                .as("notice to bob").isPresent();
        assertThat(bob.findByMessageId("<" + id + ">")).isEmpty();
        assertThat(deleteServer.webAdmin().repositorySize(AuthHmacEndToEndIT.QUARANTINE)).isZero();
    }

    private static boolean auditedDelete(String id) {
        return deleteServer.logs().lines().anyMatch(l -> l.contains("auth-hmac delete") && l.contains("<" + id + ">"));
    }

    /** james-conf/receiving with one change: the action. A PKCS#12 vault (these servers never see a signature). */
    private static JamesServerProcess receivingServer(Path root, String action) throws IOException {
        Path receiving = E2eLayout.current().receivingConf();
        String container = Files.readString(receiving.resolve("mailetcontainer.xml"));
        assertThat(container.split("<action>quarantine</action>", -1)).as("james-conf/receiving sets <action>quarantine</action> exactly once")
                .hasSize(2);
        String changed = container.replace("<action>quarantine</action>", "<action>" + action + "</action>");
        JamesServerProcess server = JamesServerProcess.builder(action, root.resolve("james-" + action))
                .baseConf().confLayer(receiving).confFile("mailetcontainer.xml", changed)
                .properties("auth-hmac.properties", Map.of("vault.backend", "pkcs12", "pkcs12.file", "keys.p12",
                        "pkcs12.password", "test-only-not-a-secret"))
                .extensionJar(JamesRuntime.javaxBundleJar())
                .build();
        server.gatewayTo(FreePorts.next()).prepare();
        KeyCli.fromSystemProperties().run(AuthHmacPair.authHmacConfig(server),
                "keys", "generate", "--keyset", AuthHmacPair.KEYSET, "--key-id", "k-" + action,
                "--export", root.resolve(action + ".secret").toString());
        return server;
    }
}
