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
 * Issue 5's scenarios on one shared pair of real James 3.8.1 servers, each with its own swtpm, the javax drop-in jar
 * in extensions-jars/, and the partner key provisioned through the CLI. Only SMTP, IMAP and WebAdmin are used.
 */
class AuthHmacEndToEndIT {
    static final String QUARANTINE = "memory://var/mail/auth-hmac-quarantine/";
    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "auth-hmac-pair");
        long t0 = System.nanoTime();
        pair = AuthHmacPair.start(root, E2eLayout.current(), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()), b -> b.extensionJar(JamesRuntime.javaxBundleJar()));
        System.out.printf("pair with swtpm, keys provisioned, healthy in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    void signedMailFromAArrivesInBobsInboxWithAuthHmacPass() {
        // given alice submits a mail to bob through A
        String id = UUID.randomUUID() + "@a.example";
        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "signed hello", id, "Hello Bob,\nsigned by A.\n"));

        // then bob reads it over IMAP on B, signed by A and verified by B
        ImapReader.Received mail = pair.bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered to bob; A log:\n" + pair.a().logTail(40) + "\nB log:\n" + pair.b().logTail(40)));
        assertThat(mail.header("X-Auth-HMAC")).singleElement().asString()
                .contains("d=a.example").contains("s=" + AuthHmacPair.FIRST_KEY_ID).contains("r=b.example");
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
        assertThat(mail.body()).contains("signed by A.");
    }
}
