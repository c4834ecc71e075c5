package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scenario 7 on a pair of its own: A's TPM disappears before A has derived any period key (so no cached key can
 * hide the outage). Mail submitted meanwhile must neither leave unsigned nor be lost, and goes out signed once the
 * TPM is back.
 */
class TpmOutageIT {
    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "tpm-outage");
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
        assertThat(pair.a().webAdmin().repositorySize("memory://var/mail/error/")).as("not parked as an error").isZero();

        // when the TPM comes back (same state, same port)
        pair.tpmA().start();

        // then the mail arrives, signed by A and verified by B
        ImapReader.Received mail = pair.bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(90))
                .orElseThrow(() -> new AssertionError("mail lost after the TPM came back; A log:\n" + pair.a().logTail(60)));
        assertThat(mail.header("X-Auth-HMAC")).singleElement().asString().contains("d=a.example");
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
    }
}
