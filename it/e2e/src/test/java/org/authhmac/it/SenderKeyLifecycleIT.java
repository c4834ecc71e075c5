package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.SmtpSender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Scenarios 7 and 6 on a pair of their own, in this order: the TPM outage must come first, before A has derived any
 * period key (a cached key would hide the outage); the key rotation then runs on the recovered pair.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SenderKeyLifecycleIT {
    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "sender-key-lifecycle");
        Path bundle = JamesRuntime.javaxBundleJar();
        pair = AuthHmacPair.start(root, E2eLayout.current(), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(bundle), b -> b.extensionJar(bundle), port -> port);
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    @Order(1)
    void mailSubmittedWhileTheSendersTpmIsDownWaitsAndLeavesSignedWhenItIsBack() throws InterruptedException {
        // given A's swtpm is killed
        pair.tpmA().kill();

        // when alice submits a mail to bob
        String id = UUID.randomUUID() + "@a.example";
        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "sent during a TPM outage", id, "Hello Bob\n"));

        // then for a while nothing reaches B: neither bob's INBOX nor B's quarantine (it was not sent unsigned)
        Thread.sleep(Duration.ofSeconds(8));
        assertThat(pair.bobInbox().findByMessageId("<" + id + ">")).isEmpty();
        assertThat(pair.b().webAdmin().repositorySize(AuthHmacEndToEndIT.QUARANTINE)).isZero();
        assertThat(pair.a().logs()).as("A reports the outage and keeps the mail").contains("key vault unavailable");
        assertThat(pair.a().webAdmin().repositorySize("file://var/mail/error/")).as("not parked as an error").isZero();
        assertThat(pair.a().webAdmin().queueSize("spool") + pair.a().webAdmin().queueSize("outgoing"))
                .as("held in A's queues, waiting to be signed").isEqualTo(1);

        // when the TPM comes back (same state, same port)
        pair.tpmA().start();

        // then the mail arrives, signed by A and verified by B
        ImapReader.Received mail = pair.bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(90))
                .orElseThrow(() -> new AssertionError("mail lost after the TPM came back; A log:\n" + pair.a().logTail(60)));
        assertThat(mail.header("X-Auth-HMAC")).singleElement().asString().contains("d=a.example");
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
    }

    @Test
    @Order(2)
    void keyRotationOnBothSidesWhileMailFlowsLosesNothingAndQuarantinesNothing() throws Exception {
        // given alice sends a steady stream of mail to bob (one every 250 ms) in the background
        String run = UUID.randomUUID().toString().substring(0, 8);
        java.util.List<String> sent = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        java.util.concurrent.atomic.AtomicBoolean flowing = new java.util.concurrent.atomic.AtomicBoolean(true);
        long quarantinedBefore = pair.b().webAdmin().repositorySize(AuthHmacEndToEndIT.QUARANTINE);
        Thread sender = Thread.ofPlatform().name("alice-stream").start(() -> {
            for (int i = 0; flowing.get() && i < 400; i++) {
                String id = "rot-" + run + "-" + i + "@a.example";
                pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                        SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "stream " + i, id, "mail " + i + "\n"));
                sent.add("<" + id + ">");
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });

        // when both operators rotate a-b from k1 to k2 with the CLI, in Tink's order, while James runs
        Thread.sleep(1500);
        Path export = pair.root().resolve("a-b-k2.secret");
        pair.cli().run(AuthHmacPair.authHmacConfig(pair.a()), "keys", "rotate", "add", "--keyset", AuthHmacPair.KEYSET,
                "--key-id", "k2", "--export", export.toString());
        pair.cli().run(AuthHmacPair.authHmacConfig(pair.b()), "keys", "import", "--keyset", AuthHmacPair.KEYSET, "--from", export.toString());
        java.nio.file.Files.delete(export);
        Thread.sleep(1500);
        pair.cli().run(AuthHmacPair.authHmacConfig(pair.b()), "keys", "rotate", "promote", "--key-id", "k2");
        pair.cli().run(AuthHmacPair.authHmacConfig(pair.a()), "keys", "rotate", "promote", "--key-id", "k2");
        Thread.sleep(3000);
        // A no longer signs with k1, so A may retire it at once; B keeps k1 ACTIVE for mail still in flight
        pair.cli().run(AuthHmacPair.authHmacConfig(pair.a()), "keys", "rotate", "retire", "--key-id", "k1");
        Thread.sleep(2000);
        flowing.set(false);
        sender.join();

        // then every mail reaches bob with auth-hmac=pass, those after the switch signed with k2; none is held
        ImapReader bob = pair.bobInbox();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        java.util.Set<String> delivered = new java.util.HashSet<>();
        while (System.nanoTime() < deadline) {
            delivered.clear();
            bob.messageIds().stream().filter(m -> m.contains("rot-" + run + "-")).forEach(delivered::add);
            if (delivered.size() >= sent.size()) {
                break;
            }
            Thread.sleep(500);
        }
        assertThat(pair.b().webAdmin().repositorySize(AuthHmacEndToEndIT.QUARANTINE)).as("false quarantines").isEqualTo(quarantinedBefore);
        assertThat(delivered).as("every mail of the stream").containsExactlyInAnyOrderElementsOf(sent);
        ImapReader.Received firstMail = bob.findByMessageId(sent.get(0)).get(0);
        ImapReader.Received lastMail = bob.findByMessageId(sent.get(sent.size() - 1)).get(0);
        assertThat(firstMail.header("X-Auth-HMAC")).singleElement().asString().contains("s=k1;");
        assertThat(lastMail.header("X-Auth-HMAC")).singleElement().asString().contains("s=k2;");
        assertThat(lastMail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass").contains("header.s=k2"));
        System.out.printf("rotation: %d mails streamed, all delivered with pass%n", sent.size());
    }
}
