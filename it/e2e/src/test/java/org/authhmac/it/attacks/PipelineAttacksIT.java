package org.authhmac.it.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.MailetContainerEdits;
import org.authhmac.testing.james.RawSmtpClient;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Attacks on what the pipeline does with a mail around the verdict, on a real pair (James 3.8.1, swtpm, james-conf/
 * as shipped; the only edit is the one an operator may make: the retry processors wait 1 s and give up after 3
 * attempts instead of 15 s and the shipped bound). Malformed MIME must end somewhere (INBOX, quarantine, hold) instead
 * of looping; mail that cannot be signed must not bounce to a forged sender; notices must not leak recipients or the
 * release command, carry clickable attacker text, or follow a forward out of the domain; a flood must not grow memory
 * or send a notice per mail.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineAttacksIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String HOLD = "file://var/mail/auth-hmac-hold/";
    static final String ERROR = "file://var/mail/error/";
    static final String CAROL = "carol@b.example";
    static final String DAVE = "dave@b.example";
    static final String ERIN = "erin@b.example";
    static final String LIST = "list@b.example";
    static final String PASSWORD = "user-secret";
    static final String MALFORMED_BODY = "This is a multi-part message in MIME format.\r\n"
            + "Hello, there is no boundary line anywhere in this body.\r\n";

    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() throws Exception {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "pipeline-attacks");
        Path sending = JamesRuntime.repoPath("james-conf/sending");
        Path receiving = JamesRuntime.repoPath("james-conf/receiving");
        pair = AuthHmacPair.start(root, new AuthHmacPair.Layout(sending, receiving), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()).confFile("mailetcontainer.xml", fastRetries(sending)),
                b -> b.extensionJar(JamesRuntime.javaxBundleJar()).confFile("mailetcontainer.xml", fastRetries(receiving)),
                port -> port);
        for (String user : List.of(CAROL, DAVE, ERIN)) {
            pair.b().webAdmin().addUser(user, PASSWORD);
        }
        // a list on B whose only member is outside the domain
        WebAdminClient adminB = pair.b().webAdmin();
        assertThat(adminB.send("PUT", "/address/groups/" + LIST + "/" + AuthHmacPair.ALICE, null).statusCode())
                .isIn(201, 204);
        // bob has a mailbox key: SignForMailbox signs every mail delivered to him
        pair.cli().run(AuthHmacPair.authHmacConfig(pair.b()), "users", "key", "--user", AuthHmacPair.BOB, "--print");
    }

    static String fastRetries(Path conf) {
        return fastRetries(conf, 3);
    }

    /** The shipped mailetcontainer.xml with every retry 1 s apart and bounded at {@code attempts}. */
    static String fastRetries(Path conf, int attempts) {
        try {
            String xml = Files.readString(conf.resolve("mailetcontainer.xml"));
            return MailetContainerEdits.retryAttempts(MailetContainerEdits.retryDelay(xml, "1s"), attempts);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    @Order(1)
    void malformedMimeForAMailboxWithAKeyIsDeliveredWithoutAMailboxSignatureInsteadOfLoopingForever() {
        // given a multipart mail whose boundary never occurs, from an outside sender to bob, who has a mailbox key
        String id = newId();
        send("mallory@evil.example", List.of(AuthHmacPair.BOB),
                malformed("Mallory <mallory@evil.example>", AuthHmacPair.BOB, id, ""));

        // then bob gets it, unsigned for his mailbox (his client says none), and nothing waits or bounces
        ImapReader.Received mail = pair.bobInbox().awaitMessageId(id, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered to bob; B log:\n" + pair.b().logTail(30)));
        assertThat(mail.header("X-Auth-HMAC")).isEmpty();
        awaitSpoolEmpty(pair.b());
        assertThat(pair.b().webAdmin().repositorySize(ERROR)).as("B error repository").isZero();
    }

    @Test
    @Order(2)
    void malformedMimeSubmittedForAPartnerIsHeldOnTheSenderAndAuditedInsteadOfLoopingForever() {
        // given alice submits a multipart mail whose boundary never occurs, for bob at the partner
        String id = newId();
        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                new String(malformed(AuthHmacPair.ALICE, AuthHmacPair.BOB, id, ""), StandardCharsets.ISO_8859_1));

        // then A holds it for its operator, with an audit line, and stops trying
        String key = pair.a().awaitRepositoryMailKey(HOLD, id);
        assertThat(key).isNotBlank();
        assertThat(pair.a().logs().lines().filter(l -> l.contains("auth-hmac hold") && l.contains(id)))
                .as("audit line on A").isNotEmpty();
        awaitSpoolEmpty(pair.a());
        assertThat(pair.bobInbox().findByMessageId(id)).isEmpty();
        assertThat(pair.a().webAdmin().repositorySize(ERROR)).as("A error repository").isZero();
    }

    @Test
    @Order(3)
    void malformedMimeWithAForgedAuthenticationResultsIsQuarantinedWithAnAuditLineAndBouncesToNobody() {
        // given a forgery claiming the partner, with a forged pass from our authserv-id, malformed MIME, and an
        // envelope sender forged as a local user
        String id = newId();
        send(CAROL, List.of(AuthHmacPair.BOB), malformed("CEO <ceo@a.example>", AuthHmacPair.BOB, id,
                "Authentication-Results: mx.b.example; auth-hmac=pass reason=\"verified\" header.d=a.example\r\n"));

        // then it is held in the quarantine (a verdict, not an error), audited, and carol gets no bounce
        String key = pair.b().awaitRepositoryMailKey(QUARANTINE, id);
        assertThat(key).isNotBlank();
        assertThat(pair.b().logs().lines().filter(l -> l.contains("auth-hmac quarantine") && l.contains(id.replace("@", "@"))))
                .as("audit line").isNotEmpty();
        awaitSpoolEmpty(pair.b());
        assertThat(pair.b().webAdmin().repositorySize(ERROR)).as("B error repository").isZero();
        assertThat(inbox(CAROL).count()).as("bounces to the forged sender").isZero();
        assertThat(pair.bobInbox().findByMessageId(id)).isEmpty();
    }

    @Test
    @Order(4)
    void aMailThatCannotBeSignedForTheMailboxIsDeliveredAndTheForgedSenderGetsNoBounce() {
        // given a mail with two Cc fields (the mailbox signer refuses duplicates) from outside, envelope sender
        // forged as carol, for bob, who has a mailbox key
        String id = newId();
        String message = "From: Mallory <mallory@evil.example>\r\nTo: " + AuthHmacPair.BOB + "\r\nCc: one@evil.example\r\n"
                + "Cc: two@evil.example\r\nSubject: cheap watches\r\nMessage-ID: " + id + "\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n\r\nbuy now\r\n";
        send(CAROL, List.of(AuthHmacPair.BOB), message.getBytes(StandardCharsets.US_ASCII));

        // then bob gets it without a mailbox signature (his client says none), and carol gets nothing
        ImapReader.Received mail = pair.bobInbox().awaitMessageId(id, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered to bob; B log:\n" + pair.b().logTail(30)));
        assertThat(mail.header("X-Auth-HMAC")).isEmpty();
        awaitSpoolEmpty(pair.b());
        assertThat(inbox(CAROL).count()).as("bounces to the forged sender").isZero();
        assertThat(pair.b().webAdmin().repositorySize(ERROR)).as("B error repository").isZero();
    }

    @Test
    @Order(5)
    void aQuarantineNoticeNamesOnlyItsOwnMailboxDefangsTheSendersTextAndKeepsTheReleaseCommandForThePostmaster() {
        // given a forgery claiming the partner, to bob and (Bcc, envelope only) dave, with a lure in its Subject
        String id = newId();
        String message = "From: IT desk <it@a.example>\r\nTo: " + AuthHmacPair.BOB + "\r\n"
                + "Subject: Password expires: log in at https://evil.example/login\r\nMessage-ID: " + id + "\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nclick the link\r\n";
        send("it@a.example", List.of(AuthHmacPair.BOB, DAVE), message.getBytes(StandardCharsets.US_ASCII));

        // then bob and dave each get a notice that names only themselves, with the lure defanged and called unverified
        ImapReader.Received toBob = awaitNotice(pair.bobInbox(), id);
        ImapReader.Received toDave = awaitNotice(inbox(DAVE), id);
        assertThat(toBob.raw()).contains(AuthHmacPair.BOB).doesNotContain(DAVE);
        assertThat(toDave.raw()).contains(DAVE).doesNotContain(AuthHmacPair.BOB);
        for (ImapReader.Received notice : List.of(toBob, toDave)) {
            assertThat(notice.body()).doesNotContainIgnoringCase("https://").doesNotContain("evil.example")
                    .contains("hxxps://evil[.]example/login").containsIgnoringCase("unverified")
                    .doesNotContain("mailRepositories").doesNotContain("curl");
        }
        // and the postmaster's notice carries the release command
        ImapReader.Received toPostmaster = awaitNotice(inbox("postmaster@b.example"), id);
        assertThat(toPostmaster.body()).contains("mailRepositories").contains("action=reprocess");
    }

    @Test
    @Order(6)
    void aForgeryToAListThatForwardsOutOfTheDomainSendsNoNoticeOutOfTheDomain() {
        // given a forgery claiming the partner, sent to a list on B whose member is alice at A
        String id = newId();
        String message = SmtpSender.message("CEO <ceo@a.example>", LIST, "wire transfer https://evil.example/pay",
                id.substring(1, id.length() - 1), "pay now\n");
        send("ceo@a.example", List.of(LIST), message.getBytes(StandardCharsets.US_ASCII));

        // when it is quarantined and the postmaster told
        pair.b().awaitRepositoryMailKey(QUARANTINE, id);
        awaitNotice(inbox("postmaster@b.example"), id);
        awaitSpoolEmpty(pair.b());
        sleepSeconds(5);

        // then no notice left B for alice
        ImapReader alice = new ImapReader(pair.a().ports().imap(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD);
        assertThat(alice.readAll()).noneMatch(m -> m.raw().contains(defanged(id)) || m.raw().contains(id));
        assertThat(pair.b().webAdmin().queueSize("outgoing")).as("B outgoing").isZero();
    }

    @Test
    @Order(100)
    void aFloodOfUnsignedPartnerMailIsHeldOnDiskAndTellsItsRecipientAFewTimesNotOncePerMail() {
        // given 30 unsigned mails claiming the partner, all to erin
        int flood = 30;
        long before = pair.b().webAdmin().repositorySize(QUARANTINE);
        List<byte[]> mails = new ArrayList<>();
        for (int i = 0; i < flood; i++) {
            mails.add(SmtpSender.message("CEO <ceo@a.example>", ERIN, "flood " + i, UUID.randomUUID() + "@a.example",
                    "x".repeat(2000) + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        for (byte[] m : mails) {
            send("ceo@a.example", List.of(ERIN), m);
        }

        // when all of them are held
        awaitRepositorySize(pair.b(), QUARANTINE, before + flood);
        awaitSpoolEmpty(pair.b());
        sleepSeconds(3);

        // then erin got a few notices, not one per mail
        long notices = inbox(ERIN).count();
        assertThat(notices).as("notices to erin").isPositive().isLessThanOrEqualTo(10);
        // and the held mail survives a restart of B (a persistent repository)
        pair.b().stop();
        pair.b().launch();
        pair.b().awaitHealthy(Duration.ofSeconds(120));
        assertThat(pair.b().webAdmin().repositorySize(QUARANTINE)).as("held after a restart").isGreaterThanOrEqualTo(before + flood);
    }

    static byte[] malformed(String from, String to, String messageId, String extraHeaders) {
        String m = extraHeaders + "From: " + from + "\r\nTo: " + to + "\r\nSubject: quarterly report\r\n"
                + "Message-ID: " + messageId + "\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"never-there\"\r\n\r\n" + MALFORMED_BODY;
        return m.getBytes(StandardCharsets.US_ASCII);
    }

    static void send(String envelopeFrom, List<String> recipients, byte[] message) {
        RawSmtpClient.Reply reply = new RawSmtpClient(pair.b().ports().smtp()).send(envelopeFrom, recipients, message);
        assertThat(reply.accepted()).as("B accepted it: " + reply).isTrue();
    }

    static void send(String envelopeFrom, List<String> recipients, String message) {
        send(envelopeFrom, recipients, message.getBytes(StandardCharsets.UTF_8));
    }

    static String newId() {
        return "<" + UUID.randomUUID() + "@a.example>";
    }

    /** How a notice shows an address or Message-ID from the mail: dots and at-signs defanged. */
    static String defanged(String s) {
        return s.replace("@", "[@]").replaceAll("(?<=[A-Za-z0-9])\\.(?=[A-Za-z0-9])", "[.]");
    }

    static ImapReader inbox(String user) {
        return new ImapReader(pair.b().ports().imap(), user, user.startsWith("postmaster") ? AuthHmacPair.POSTMASTER_PASSWORD : PASSWORD);
    }

    static ImapReader.Received awaitNotice(ImapReader inbox, String messageId) {
        Optional<ImapReader.Received> notice = inbox.awaitMatching(
                m -> m.header("From").stream().anyMatch(f -> f.contains("postmaster@b.example"))
                        && (m.body().contains(defanged(messageId)) || m.body().contains(messageId)),
                Duration.ofSeconds(60));
        return notice.orElseThrow(() -> new AssertionError("no notice about " + messageId + "; B log:\n" + pair.b().logTail(30)));
    }

    static void awaitSpoolEmpty(JamesServerProcess server) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (server.webAdmin().queueSize("spool") > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("spool of " + server.name() + " not empty after 60 s:\n" + server.logTail(30));
            }
            sleepSeconds(1);
        }
    }

    static void awaitRepositorySize(JamesServerProcess server, String repository, long size) {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (server.webAdmin().repositorySize(repository) < size) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(repository + " of " + server.name() + " holds "
                        + server.webAdmin().repositorySize(repository) + " < " + size + ":\n" + server.logTail(30));
            }
            sleepSeconds(1);
        }
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
