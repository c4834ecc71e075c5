package org.authhmac.it.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.RawSmtpClient;
import org.authhmac.testing.james.SmtpSender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Attacks on the pipeline around the verdict that need a real pair (James 3.8.1, swtpm, james-conf/ exactly as
 * shipped): a logged-in user who names somebody else as the Sender, a postmaster whose mail is forwarded out of the
 * domain, and one mail whose header block makes a header edit of ours cost names x fields.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VerdictPipelineAttacksIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String POSTMASTER_B = "postmaster@b.example";
    /** 200,000 header fields of as many names (2.6 MB): 4 x 10^10 name comparisons per header edit done name by name. */
    static final int FLOOD_FIELDS = 200_000;

    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "verdict-pipeline-attacks");
        pair = AuthHmacPair.start(root,
                new AuthHmacPair.Layout(JamesRuntime.repoPath("james-conf/sending"), JamesRuntime.repoPath("james-conf/receiving")),
                AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()),
                b -> b.extensionJar(JamesRuntime.javaxBundleJar()),
                port -> port);
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    @Order(1)
    void aliceNamingTheCeoAsSenderIsNotSignedNotSentAndBouncedToHer() {
        // given alice, logged in on A, writing From herself but with Sender: CEO (Outlook: "CEO on behalf of alice")
        String id = newId();
        String message = "Sender: CEO <ceo@a.example>\r\n"
                + SmtpSender.message("Alice <alice@a.example>", AuthHmacPair.BOB, "new bank details", bare(id), "Pay to 6666.\n");

        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), message);

        // then A bounces it to her and nothing of it reaches B
        ImapReader aliceInbox = new ImapReader(pair.a().ports().imap(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD);
        Optional<ImapReader.Received> bounce = aliceInbox.awaitMatching(r -> !r.header("Message-ID").contains(id)
                && r.raw().contains(id), Duration.ofSeconds(60));
        assertThat(bounce).as("a bounce to alice; A log:\n%s", pair.a().logTail(30)).isPresent();
        assertThat(bounce.get().raw()).contains("not the address you logged in with");
        awaitSpoolEmpty(pair.b());
        assertThat(pair.bobInbox().findByMessageId(id)).isEmpty();
        assertThat(heldAtB(id)).isEmpty();
    }

    @Test
    @Order(2)
    void thePostmastersNoticeDoesNotFollowAForwardOfThePostmasterOutOfTheDomain() {
        // given B's postmaster address forwarded to alice at A (the operator reads postmaster mail elsewhere)
        pair.b().webAdmin().addForward(POSTMASTER_B, AuthHmacPair.ALICE);
        String id = newId();
        byte[] forgery = ("From: CEO <ceo@a.example>\r\nTo: " + AuthHmacPair.BOB + "\r\nSubject: wire transfer\r\n"
                + "Message-ID: " + id + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\npay now\r\n")
                .getBytes(StandardCharsets.US_ASCII);

        // when a forgery to bob is quarantined and bob told
        send("ceo@a.example", List.of(AuthHmacPair.BOB), forgery);
        pair.b().awaitRepositoryMailKey(QUARANTINE, id);
        assertThat(pair.bobInbox().awaitMatching(m -> m.body().contains(defanged(id)), Duration.ofSeconds(60)))
                .as("bob's own notice").isPresent();
        awaitSpoolEmpty(pair.b());
        awaitQueueEmpty(pair.b(), "outgoing");
        awaitSpoolEmpty(pair.a());
        sleepSeconds(3);

        // then no notice with B's recipients and release command reached A
        ImapReader alice = new ImapReader(pair.a().ports().imap(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD);
        assertThat(alice.readAll()).as("notices at A").noneMatch(m -> m.raw().contains(defanged(id)) || m.raw().contains("mailRepositories"));
    }

    @Test
    @Order(3)
    void aForgeryWithTwoHundredThousandHeaderFieldsOfDistinctNamesIsHeldWithinTwoMinutes() {
        // given a forgery claiming the partner, with a forged pass in B's name and 200,000 fields of distinct names
        String id = newId();
        StringBuilder m = new StringBuilder(FLOOD_FIELDS * 14 + 512);
        m.append("Authentication-Results: mx.b.example; auth-hmac=pass reason=\"verified\" header.d=a.example\r\n");
        for (int i = 0; i < FLOOD_FIELDS; i++) {
            m.append(String.format("X-%07d: v\r\n", i));
        }
        m.append("From: CEO <ceo@a.example>\r\nTo: ").append(AuthHmacPair.BOB).append("\r\nSubject: pay now\r\nMessage-ID: ")
                .append(id).append("\r\n\r\npay now\r\n");

        send("ceo@a.example", List.of(AuthHmacPair.BOB), m.toString().getBytes(StandardCharsets.US_ASCII));

        // then B holds it in the quarantine within two minutes (a header block rebuilt name by name takes hours here)
        String key = awaitHeld(id, Duration.ofMinutes(2));
        assertThat(key).isNotBlank();
        assertThat(pair.bobInbox().findByMessageId(id)).isEmpty();
    }

    static String awaitHeld(String messageId, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> key = heldAtB(messageId);
            if (key.isPresent()) {
                return key.get();
            }
            sleepSeconds(2);
        }
        throw new AssertionError("not held within " + timeout + ": " + messageId + "; B log:\n" + pair.b().logTail(30));
    }

    static Optional<String> heldAtB(String messageId) {
        var admin = pair.b().webAdmin();
        return admin.mailKeys(QUARANTINE).stream()
                .filter(k -> admin.mail(QUARANTINE, k).path("headers").toString().contains(bare(messageId)))
                .findFirst();
    }

    static void send(String envelopeFrom, List<String> recipients, byte[] message) {
        RawSmtpClient.Reply reply = new RawSmtpClient(pair.b().ports().smtp()).send(envelopeFrom, recipients, message);
        assertThat(reply.accepted()).as("B accepted it: " + reply).isTrue();
    }

    static void awaitSpoolEmpty(JamesServerProcess server) {
        awaitQueueEmpty(server, "spool");
    }

    static void awaitQueueEmpty(JamesServerProcess server, String queue) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (server.webAdmin().queueSize(queue) > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(queue + " of " + server.name() + " not empty after 60 s:\n" + server.logTail(30));
            }
            sleepSeconds(1);
        }
    }

    static String newId() {
        return "<" + UUID.randomUUID() + "@a.example>";
    }

    static String bare(String id) {
        return id.substring(1, id.length() - 1);
    }

    /** How a notice shows a Message-ID: dots and at-signs defanged. */
    static String defanged(String s) {
        return s.replace("@", "[@]").replaceAll("(?<=[A-Za-z0-9])\\.(?=[A-Za-z0-9])", "[.]");
    }

    static void sleepSeconds(int s) {
        try {
            Thread.sleep(s * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
