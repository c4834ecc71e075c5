package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.Defanged;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.RelaySmtpServer;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The main scenarios (it/README.md) on one shared pair of real James 3.8.1 servers, each with its own swtpm, the javax drop-in jar
 * in extensions-jars/, and the partner key provisioned through the CLI. Only SMTP, IMAP and WebAdmin are used.
 */
class AuthHmacEndToEndIT {
    /** As James names it (a trailing slash in the configuration is normalised away). */
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    /** Marks the mails the relay between A and B tampers with (scenario 3); every other mail passes untouched. */
    static final String TAMPER_MARK = "[tamper-in-transit]";
    private static AuthHmacPair pair;
    private static RelaySmtpServer relay;

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "auth-hmac-pair");
        long t0 = System.nanoTime();
        // A reaches B through a relay, as mail often crosses a smarthost; it rewrites one body line of marked mails only
        relay = new RelaySmtpServer(message -> message.contains(TAMPER_MARK)
                ? message.replace("Pay 100 EUR to account 1234", "Pay 9900 EUR to account 6666") : message);
        pair = AuthHmacPair.start(root, E2eLayout.current(), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()), b -> b.extensionJar(JamesRuntime.javaxBundleJar()),
                bSmtp -> {
                    relay.forwardTo(bSmtp);
                    return relay.port();
                });
        System.out.printf("pair with swtpm, keys provisioned, healthy in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
        if (relay != null) {
            relay.close();
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

    @Test
    void unsignedMailClaimingAIsQuarantinedAsNoneAndBobIsTold() {
        // given a forger talks straight to B's port 25 with alice's address and no signature
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "forged invoice", id, "Please pay.\n"));

        // then the admin finds it in the quarantine with verdict none (no-signature)
        JsonNode held = awaitQuarantined("<" + id + ">");
        assertThat(attribute(held, "org.authhmac.result")).isEqualTo("none");
        assertThat(attribute(held, "org.authhmac.reason")).isEqualTo("no-signature");
        // and bob gets a notice instead of the mail
        ImapReader.Received notice = pair.bobInbox().awaitMatching(m -> m.body().contains(Defanged.of("<" + id + ">")), Duration.ofSeconds(30))
                .orElseThrow(() -> new AssertionError("no notice for bob"));
        assertThat(notice.header("Subject")).singleElement().asString().contains("held");
        assertThat(pair.bobInbox().findByMessageId("<" + id + ">")).as("the forged mail itself").isEmpty();
    }

    /**
     * What users really send: raw UTF-8 in headers (no RFC 2047), encoded words, folded and tab-indented header
     * lines, an 8bit body with trailing blanks and blank lines. A's javax.mail parses and re-serialises the message
     * around the signing mailet and RemoteDelivery; none of it may turn a good mail into a quarantined one, and our
     * mailets may change nothing that James does not change by itself: the same message delivered locally on A
     * (to its postmaster, a path without our mailets) is the reference. (James 3.8.1 itself stores each 8-bit byte
     * of a raw UTF-8 header as '?', on both paths; the signature covers what James hands the mailet.)
     */
    @Test
    void mailWithRawUtf8HeadersFoldingAnd8bitBodyPassesAndOurMailetsChangeNothingJamesDoesNot() {
        String id = UUID.randomUUID() + "@a.example";
        String message = "From: =?UTF-8?B?QWxpY2UgTcO8bGxlcg==?= <" + AuthHmacPair.ALICE + ">\r\n"
                + "To: \"Bob Bérénice\" <" + AuthHmacPair.BOB + ">\r\n"
                + "Subject: Grüße aus Köln – 東京 ✓\r\n"
                + "Date: " + java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(java.time.ZonedDateTime.now()) + "\r\n"
                + "Message-ID: <" + id + ">\r\n"
                + "X-Folded: first part\r\n\tsecond part after a tab\r\n   third part after spaces\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain;\r\n charset=UTF-8;\r\n format=flowed\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n"
                + "\r\n"
                + "Hallo Bob,  \r\n\r\nÄrger mit der Straße?\t\r\n   \r\n€ 100, 東京\r\n\r\n\r\n";
        String postmaster = "postmaster@" + AuthHmacPair.A_DOMAIN;

        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), message);
        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(postmaster), message.replace(id, "local-" + id));

        ImapReader.Received mail = pair.bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered to bob; quarantined: "
                        + pair.b().webAdmin().repositorySize(QUARANTINE) + "\nB log:\n" + pair.b().logTail(40)));
        ImapReader.Received local = new ImapReader(pair.a().ports().imap(), postmaster, AuthHmacPair.POSTMASTER_PASSWORD)
                .awaitMessageId("<local-" + id + ">", Duration.ofSeconds(60)).orElseThrow();
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
        for (String name : List.of("From", "To", "Subject", "X-Folded", "Content-Type")) {
            assertThat(mail.header(name)).as(name).isEqualTo(local.header(name));
        }
        // the one intended change: the signing mailet's convertTo7Bit (james-conf/sending) signs what RemoteDelivery
        // would otherwise re-encode after signing; the text the reader sees is the same
        assertThat(mail.header("Content-Transfer-Encoding")).singleElement().asString().isEqualToIgnoringWhitespace("quoted-printable");
        assertThat(text(mail)).isEqualTo(text(local)).contains("Ärger mit der Straße?", "€ 100, 東京");
    }

    private static String text(ImapReader.Received mail) {
        try {
            return (String) new jakarta.mail.internet.MimeMessage(jakarta.mail.Session.getInstance(new java.util.Properties()),
                    new java.io.ByteArrayInputStream(mail.raw().getBytes(java.nio.charset.StandardCharsets.UTF_8))).getContent();
        } catch (jakarta.mail.MessagingException | java.io.IOException e) {
            throw new AssertionError("unreadable as text: " + e, e);
        }
    }

    @Test
    void bodyRewrittenByARelayInTransitIsQuarantinedAsBodyChanged() {
        // given alice's signed mail whose body a relay between A and B rewrites
        String id = UUID.randomUUID() + "@a.example";
        int rewrittenBefore = relay.rewritten();
        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "invoice " + TAMPER_MARK, id,
                        "Hello Bob,\nPay 100 EUR to account 1234\nAlice\n"));

        // then B quarantines it as body-changed: the headers still verify, the body does not
        JsonNode held = awaitQuarantined("<" + id + ">");
        assertThat(relay.rewritten()).as("the relay did tamper").isEqualTo(rewrittenBefore + 1);
        assertThat(attribute(held, "org.authhmac.result")).isEqualTo("fail");
        assertThat(attribute(held, "org.authhmac.reason")).isEqualTo("body-changed");
        assertThat(pair.bobInbox().findByMessageId("<" + id + ">")).isEmpty();
    }

    @Test
    void quarantinedMailReleasedThroughWebAdminReachesTheInboxWithItsVerdict() {
        // given an unsigned mail held in B's quarantine
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "held then released", id, "legit after all\n"));
        String key = awaitQuarantinedKey("<" + id + ">");

        // when the admin releases it with the documented WebAdmin reprocess call
        JsonNode task = pair.b().webAdmin().reprocess(QUARANTINE, key, RELEASE_PROCESSOR);
        assertThat(task.path("status").asText()).isEqualTo("completed");

        // then bob reads it, and the verdict it was held for travels with it
        ImapReader.Received released = pair.bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(30))
                .orElseThrow(() -> new AssertionError("released mail not delivered; B log:\n" + pair.b().logTail(40)));
        assertThat(released.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=none"));
        assertThat(pair.b().webAdmin().mailKeys(QUARANTINE)).doesNotContain(key);
    }

    @Test
    void signatureFromAClockTwoPeriodsBackIsQuarantinedAsExpired() throws Exception {
        // given a mail signed with the A-B key by a sender whose clock is two periods (2 x 900 s) behind
        String id = UUID.randomUUID() + "@a.example";
        String message = SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "from a slow clock", id, "Hello\n");
        java.time.Instant twoPeriodsAgo = java.time.Instant.now().minusSeconds(2 * 900);
        List<String> header = new org.authhmac.protocol.Signer(org.authhmac.protocol.SignerSettings.defaults()).sign(
                new java.io.ByteArrayInputStream(message.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                List.of(new org.authhmac.protocol.SignRequest(AuthHmacPair.FIRST_KEY_ID, "a.example", "b.example", twoPeriodsAgo)),
                org.authhmac.protocol.StaticPeriodKeys.of(AuthHmacPair.FIRST_KEY_ID, pair.partnerSecretForTests()));

        // when it reaches B's port 25
        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), header.get(0) + "\r\n" + message);

        // then B quarantines it as expired
        JsonNode held = awaitQuarantined("<" + id + ">");
        assertThat(attribute(held, "org.authhmac.result")).isEqualTo("fail");
        assertThat(attribute(held, "org.authhmac.reason")).isEqualTo("expired");
    }

    @Test
    void theSameSignedMailArrivingTwiceIsQuarantinedAsReplayTheSecondTime() {
        // given a signed mail that reached bob normally
        String id = UUID.randomUUID() + "@a.example";
        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "once only", id, "Transfer approved.\n"));
        ImapReader.Received first = pair.bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("first copy not delivered"));
        assertThat(first.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));

        // when an eavesdropper sends the very same bytes (signature included) to B again, minus B's own trace fields
        String replayed = first.raw().replaceAll("(?m)^(Return-Path|Delivered-To|Authentication-Results):.*\r\n", "");
        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), replayed);

        // then the second arrival is held as a replay, and bob still has exactly one copy
        JsonNode held = awaitQuarantined("<" + id + ">");
        assertThat(attribute(held, "org.authhmac.result")).isEqualTo("fail");
        assertThat(attribute(held, "org.authhmac.reason")).isEqualTo("replay");
        assertThat(pair.bobInbox().findByMessageId("<" + id + ">")).hasSize(1);
    }

    @Test
    void burstOfFiveHundredMailsIsFullyAccountedFor() {
        // given 450 signed mails from alice through A and 50 forged ones straight into B, all to carol
        String carol = "carol@b.example";
        pair.b().webAdmin().addUser(carol, "carol-secret");
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<String> signedIds = new java.util.ArrayList<>();
        List<String> forgedIds = new java.util.ArrayList<>();
        List<String> signed = new java.util.ArrayList<>();
        List<String> forged = new java.util.ArrayList<>();
        for (int i = 0; i < 500; i++) {
            String id = "burst-" + run + "-" + i + "@a.example";
            String message = SmtpSender.message(AuthHmacPair.ALICE, carol, "burst " + i, id, "mail " + i + " of 500\n");
            if (i % 10 == 9) {
                forgedIds.add("<" + id + ">");
                forged.add(message);
            } else {
                signedIds.add("<" + id + ">");
                signed.add(message);
            }
        }
        long quarantinedBefore = pair.b().webAdmin().repositorySize(QUARANTINE);

        // when they are sent (A's submission over one session; the forger over another)
        long t0 = System.nanoTime();
        pair.aliceSubmission().sendAll(AuthHmacPair.ALICE, List.of(carol), signed);
        SmtpSender.mta(pair.b().ports().smtp()).sendAll(AuthHmacPair.ALICE, List.of(carol), forged);

        // then every signed one reaches carol's INBOX and every forged one the quarantine: delivered + held = sent
        ImapReader carolInbox = new ImapReader(pair.b().ports().imap(), carol, "carol-secret");
        java.util.Set<String> delivered = new java.util.HashSet<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
        long held = 0;
        while (System.nanoTime() < deadline) {
            delivered.clear();
            carolInbox.messageIds().stream().filter(m -> m.contains("burst-" + run + "-")).forEach(delivered::add);
            held = pair.b().webAdmin().repositorySize(QUARANTINE) - quarantinedBefore;
            if (delivered.size() + held >= 500) {
                break;
            }
            sleepQuietly(1000);
        }
        System.out.printf("burst: 500 sent, %d delivered, %d quarantined after %d ms%n",
                delivered.size(), held, (System.nanoTime() - t0) / 1_000_000);
        assertThat(delivered).as("signed mails delivered").containsExactlyInAnyOrderElementsOf(signedIds);
        assertThat(held).as("forged mails quarantined").isEqualTo(forgedIds.size());
        assertThat(delivered.size() + held).isEqualTo(500);
    }

    /** The processor a released mail is sent to (docs/OPERATIONS.md). */
    static final String RELEASE_PROCESSOR = "transport";

    private static JsonNode awaitQuarantined(String messageId) {
        String key = awaitQuarantinedKey(messageId);
        return pair.b().webAdmin().mail(QUARANTINE, key);
    }

    private static String awaitQuarantinedKey(String messageId) {
        return pair.b().awaitRepositoryMailKey(QUARANTINE, messageId);
    }

    private static String attribute(JsonNode mail, String name) {
        return WebAdminClient.attribute(mail, name);
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
