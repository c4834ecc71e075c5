package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.Defanged;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.KeyCli;
import org.authhmac.testing.james.RawSmtpClient;
import org.authhmac.testing.james.RelaySmtpServer;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.authhmac.testing.tpm.SwtpmProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Release by reply on real James 3.8.1 receiving servers (b.example): a recipient gets their own copy of a held mail
 * by writing, logged in, to the one-time address of their quarantine notice; everybody else who writes to it gets
 * nothing, and the held mail's sender never hears of any of it.
 *
 * <p>No sending James is needed: the held mail is what a partner with a wrong clock (or a key B has not imported yet)
 * sends, signed here with the partner key and delivered to B's port 25, as in AuthHmacEndToEndIT. B's gateway for
 * every remote domain is {@link #senderSide}, a.example's MX: it keeps whatever B sends out, and must end up empty.
 *
 * <p>Two servers: B runs james-conf/receiving as shipped (swtpm vault); B2 (PKCS#12 vault) runs it with release
 * addresses valid for 15 s, and later restarted with AuthHmacRelease's {@code selfRelease} off, so B2's two tests run
 * in this order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SelfReleaseIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String NOTICE_SUBJECT = "Message held: it failed the X-Auth-HMAC check";
    static final String RELEASED = "Held message released";
    static final String DISCARDED = "Held message discarded";
    static final String CAROL = "carol@b.example";
    static final String MALLORY = "mallory@b.example";
    static final String POSTMASTER = "postmaster@b.example";
    static final Pattern RELEASE_ADDRESS = Pattern.compile("release-[a-z2-7]{40}@auth-hmac\\.b\\.example");
    static final Pattern DISCARD_ADDRESS = Pattern.compile("discard-[a-z2-7]{40}@auth-hmac\\.b\\.example");
    static final Duration SHORT_VALIDITY = Duration.ofSeconds(15);

    private static Path root;
    private static RelaySmtpServer senderSide;
    private static SwtpmProcess tpmB;
    private static JamesServerProcess b;
    private static JamesServerProcess b2;
    private static byte[] partnerKeyOfB;
    private static byte[] partnerKeyOfB2;

    @BeforeAll
    static void startServers() throws IOException {
        root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "self-release").toAbsolutePath();
        JamesServerProcess.deleteRecursively(root);
        long t0 = System.nanoTime();
        // a.example's MX as B sees it: it accepts and keeps everything, so any backscatter is there to be counted
        senderSide = new RelaySmtpServer(UnaryOperator.identity()).forwardOnly(recipient -> false);
        tpmB = new SwtpmProcess(root.resolve("tpm-b")).start();

        Path receiving = E2eLayout.current().receivingConf();
        b = JamesServerProcess.builder("b", root.resolve("james-b"))
                .baseConf().confLayer(receiving)
                .properties("auth-hmac.properties", AuthHmacPair.vaultProperties(AuthHmacPair.VaultKind.TPM, tpmB))
                .extensionJar(JamesRuntime.javaxBundleJar())
                .build();
        String shortValidity = replaceOnce(Files.readString(receiving.resolve("mailetcontainer.xml")),
                "<selfReleaseValidity>7d</selfReleaseValidity>", "<selfReleaseValidity>15s</selfReleaseValidity>");
        b2 = JamesServerProcess.builder("b2", root.resolve("james-b2"))
                .baseConf().confLayer(receiving).confFile("mailetcontainer.xml", shortValidity)
                .properties("auth-hmac.properties", AuthHmacPair.vaultProperties(AuthHmacPair.VaultKind.PKCS12, null))
                .extensionJar(JamesRuntime.javaxBundleJar())
                .build();
        b.gatewayTo(senderSide.port()).prepare();
        b2.gatewayTo(senderSide.port()).prepare();
        partnerKeyOfB = provisionPartnerKey(b);
        partnerKeyOfB2 = provisionPartnerKey(b2);

        b.launch();
        b2.launch();
        b.awaitHealthy(Duration.ofSeconds(120));
        b2.awaitHealthy(Duration.ofSeconds(120));
        addUsers(b);
        addUsers(b2);
        System.out.printf("self-release: B (swtpm) and B2 (PKCS#12) healthy in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterAll
    static void stopServers() {
        Thread stopB2 = Thread.ofPlatform().start(() -> {
            if (b2 != null) {
                b2.stop();
            }
        });
        if (b != null) {
            b.stop();
        }
        try {
            stopB2.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (tpmB != null) {
            tpmB.close();
        }
        if (senderSide != null) {
            senderSide.close();
        }
    }

    @Test
    @Order(1)
    void bobGetsHisHeldMailByReplyingAndCarolsStaysHeld() {
        // given a mail for bob and carol, signed by the partner two periods ago, held as expired
        Account bob = bob(b);
        Account carol = new Account(b, CAROL, "carol-secret");
        String id = sendSignedByPartner(b, partnerKeyOfB, AuthHmacPair.FIRST_KEY_ID, Instant.now().minusSeconds(2 * 900),
                List.of(AuthHmacPair.BOB, CAROL), "contract, signed copy");
        String key = awaitHeld(b, id, "expired");
        Notice bobsNotice = awaitNotice(bob, id);
        Notice carolsNotice = awaitNotice(carol, id);
        assertThat(carolsNotice.release()).as("each recipient has an address of their own").isNotEqualTo(bobsNotice.release());
        System.out.println("self-release: bob's notice as received:\n" + bobsNotice.mail().raw());
        Set<String> bobBefore = bob.messageIds();
        Set<String> carolBefore = carol.messageIds();
        int log = logMark(b);

        // when bob, logged in, replies to his notice
        bob.replyTo(bobsNotice);

        // then he is told it is released, and the held mail is in his INBOX
        ImapReader.Received reply = awaitOnlyReply(bob, bobBefore);
        assertThat(reply.header("Subject")).containsExactly(RELEASED);
        ImapReader.Received released = bob.inbox().awaitMessageId(id, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("released mail not in bob's INBOX; B log:\n" + b.logTail(60)));
        assertThat(text(released)).contains("contract, signed copy");
        String audit = awaitAuditLine(b, log, "action=release", "outcome=released", "mailbox=" + AuthHmacPair.BOB, "key=" + key);
        System.out.println("self-release: audit line of a release: " + audit);
        // and carol's copy is still held: the held mail is left with her alone, and her INBOX has neither the mail nor a reply
        assertThat(recipients(b, key)).containsExactly(CAROL);
        assertThat(carol.newSince(carolBefore)).isEmpty();

        // when the administrator then releases what is left through WebAdmin
        assertThat(b.webAdmin().reprocess(QUARANTINE, key, "transport").path("status").asText()).isEqualTo("completed");

        // then carol gets it, and bob, settled already, does not get it a second time
        assertThat(carol.inbox().awaitMessageId(id, Duration.ofSeconds(60))).as("carol's copy after the WebAdmin release").isPresent();
        awaitQuiet(b);
        assertThat(bob.inbox().findByMessageId(id)).as("bob's copies").hasSize(1);
    }

    @Test
    @Order(2)
    void mallorysRequestsForBobsAddressReleaseNothingAndLeaveItWorkingForBob() {
        // given a mail for bob held as expired, and its release address from bob's notice
        Account bob = bob(b);
        Account mallory = new Account(b, MALLORY, "mallory-secret");
        String id = sendSignedByPartner(b, partnerKeyOfB, AuthHmacPair.FIRST_KEY_ID, Instant.now().minusSeconds(2 * 900),
                List.of(AuthHmacPair.BOB), "payslip");
        String key = awaitHeld(b, id, "expired");
        Notice notice = awaitNotice(bob, id);
        Set<String> bobBefore = bob.messageIds();
        Set<String> malloryBefore = mallory.messageIds();
        int log = logMark(b);

        // when mallory writes to it from outside, without logging in, as bob
        RawSmtpClient.Reply smtp = new RawSmtpClient(b.ports().smtp()).send(AuthHmacPair.BOB, List.of(notice.release()),
                SmtpSender.message(AuthHmacPair.BOB, notice.release(), "Re: " + NOTICE_SUBJECT, UUID.randomUUID() + "@b.example", "release\n")
                        .getBytes(StandardCharsets.UTF_8));

        // then B refuses it at SMTP (auth-hmac.b.example is no local domain: relaying needs a login)
        System.out.println("self-release: unauthenticated request answered " + smtp);
        if (smtp.accepted()) {
            // accepted after all: then it must be refused inside, with no reply to anybody
            awaitAuditLine(b, log, "action=release", "outcome=refused", "refusal=not-authenticated");
            awaitQuiet(b);
        } else {
            assertThat(smtp.code()).as("refused for good, not deferred").isBetween(500, 599);
            assertThat(smtp.text()).as("refused as relaying, at RCPT").containsIgnoringCase("relay");
        }

        // when mallory, logged in as herself, writes to it with bob in From
        mallory.write(notice.release(), AuthHmacPair.BOB, "Re: " + NOTICE_SUBJECT);

        // then mallory is told it is refused as invalid (the token is bob's), and bob gets neither the mail nor a reply
        ImapReader.Received refusal = awaitOnlyReply(mallory, malloryBefore);
        assertThat(refusal.header("Subject")).containsExactly("Release refused (invalid)");
        awaitAuditLine(b, log, "action=release", "outcome=refused", "refusal=invalid", "mailbox=" + MALLORY);
        assertThat(bob.newSince(bobBefore)).as("bob's INBOX after mallory's requests").isEmpty();
        assertThat(mallory.inbox().findByMessageId(id)).as("in mallory's INBOX").isEmpty();
        assertThat(recipients(b, key)).as("still held for bob").containsExactly(AuthHmacPair.BOB);

        // when bob then uses the same address
        bob.replyTo(notice);

        // then it still works for him
        assertThat(awaitOnlyReply(bob, bobBefore).header("Subject")).containsExactly(RELEASED);
        assertThat(bob.inbox().awaitMessageId(id, Duration.ofSeconds(60))).as("released to bob").isPresent();
    }

    @Test
    @Order(3)
    void aReleaseAddressWorksOnlyOnce() {
        // given a mail for bob held as expired, released once by bob's reply
        Account bob = bob(b);
        String id = sendSignedByPartner(b, partnerKeyOfB, AuthHmacPair.FIRST_KEY_ID, Instant.now().minusSeconds(2 * 900),
                List.of(AuthHmacPair.BOB), "meeting notes");
        String key = awaitHeld(b, id, "expired");
        Notice notice = awaitNotice(bob, id);
        Set<String> before = bob.messageIds();
        bob.replyTo(notice);
        assertThat(awaitOnlyReply(bob, before).header("Subject")).containsExactly(RELEASED);
        assertThat(bob.inbox().awaitMessageId(id, Duration.ofSeconds(60))).as("released to bob").isPresent();
        awaitGone(b, key); // nobody left to hold it for
        Set<String> afterFirst = bob.messageIds();
        int log = logMark(b);

        // when bob writes to the same address again
        bob.replyTo(notice);

        // then the second request is refused, and bob still has one copy
        ImapReader.Received second = awaitOnlyReply(bob, afterFirst);
        assertThat(second.header("Subject")).singleElement().asString().isIn("Release refused (used)", "Release refused (not-held)");
        awaitAuditLine(b, log, "action=release", "outcome=refused", "mailbox=" + AuthHmacPair.BOB);
        assertThat(bob.inbox().findByMessageId(id)).as("bob's copies").hasSize(1);
    }

    @Test
    @Order(4)
    void anAddressWithOneCharacterChangedOrWithTheDiscardTokenUnderTheReleaseWordIsRefusedAsInvalid() {
        // given a mail for bob held as expired
        Account bob = bob(b);
        String id = sendSignedByPartner(b, partnerKeyOfB, AuthHmacPair.FIRST_KEY_ID, Instant.now().minusSeconds(2 * 900),
                List.of(AuthHmacPair.BOB), "quarterly report");
        String key = awaitHeld(b, id, "expired");
        Notice notice = awaitNotice(bob, id);
        // the last character of the token is in its MAC; every base32 character there decodes, so it stays well-formed
        String token = notice.release().substring(0, notice.release().indexOf('@'));
        char last = token.charAt(token.length() - 1);
        String altered = token.substring(0, token.length() - 1) + (last == 'a' ? 'b' : 'a') + notice.release().substring(token.length());
        assertThat(altered).matches(RELEASE_ADDRESS).isNotEqualTo(notice.release());
        Set<String> before = bob.messageIds();
        int log = logMark(b);

        // when bob writes to the altered address
        bob.write(altered, AuthHmacPair.BOB, "Re: " + NOTICE_SUBJECT);

        // then it is refused as invalid, and the mail stays held for him
        assertThat(awaitOnlyReply(bob, before).header("Subject")).containsExactly("Release refused (invalid)");
        String audit = awaitAuditLine(b, log, "action=release", "outcome=refused", "refusal=invalid", "mailbox=" + AuthHmacPair.BOB);
        System.out.println("self-release: audit line of a refusal: " + audit);
        assertThat(bob.inbox().findByMessageId(id)).isEmpty();
        assertThat(recipients(b, key)).containsExactly(AuthHmacPair.BOB);

        // when bob turns his discard address into a release address (the token is MAC'd with its action word)
        String swapped = notice.discard().replaceFirst("^discard-", "release-");
        assertThat(swapped).matches(RELEASE_ADDRESS);
        Set<String> beforeSwap = bob.messageIds();
        int logSwap = logMark(b);
        bob.write(swapped, AuthHmacPair.BOB, "Re: " + NOTICE_SUBJECT);

        // then that is refused as invalid too, and the mail stays held
        assertThat(awaitOnlyReply(bob, beforeSwap).header("Subject")).containsExactly("Release refused (invalid)");
        awaitAuditLine(b, logSwap, "action=release", "outcome=refused", "refusal=invalid", "mailbox=" + AuthHmacPair.BOB);
        assertThat(bob.inbox().findByMessageId(id)).isEmpty();
        assertThat(recipients(b, key)).containsExactly(AuthHmacPair.BOB);
    }

    @Test
    @Order(9)
    void anAddressInTheReleaseDomainThatIsNoTokenIsRefusedAsMalformed() {
        // given bob, logged in
        Account bob = bob(b);
        Set<String> before = bob.messageIds();
        int log = logMark(b);

        // when he writes to an address of the release subdomain that no notice gave
        bob.write("release-notatoken@auth-hmac.b.example", AuthHmacPair.BOB, "release everything");

        // then it is refused as malformed
        assertThat(awaitOnlyReply(bob, before).header("Subject")).containsExactly("Release refused (malformed)");
        awaitAuditLine(b, log, "outcome=refused", "refusal=malformed", "mailbox=" + AuthHmacPair.BOB);
    }

    @Test
    @Order(5)
    void bobDiscardsHisCopyOfAMailHeldAsFuture() {
        // given a mail for bob signed by the partner one period ahead of time, held as future
        Account bob = bob(b);
        String id = sendSignedByPartner(b, partnerKeyOfB, AuthHmacPair.FIRST_KEY_ID, Instant.now().plusSeconds(900),
                List.of(AuthHmacPair.BOB), "newsletter");
        String key = awaitHeld(b, id, "future");
        Notice notice = awaitNotice(bob, id);
        assertThat(notice.text()).contains("To delete your copy instead, write to:").contains(notice.discard());
        Set<String> before = bob.messageIds();
        int log = logMark(b);

        // when bob writes to the discard address of his notice
        bob.write(notice.discard(), AuthHmacPair.BOB, "discard it");

        // then he is told it is discarded, the held copy is gone, nothing is delivered, and the audit log says so
        assertThat(awaitOnlyReply(bob, before).header("Subject")).containsExactly(DISCARDED);
        String audit = awaitAuditLine(b, log, "action=discard", "outcome=discarded", "mailbox=" + AuthHmacPair.BOB, "key=" + key);
        System.out.println("self-release: audit line of a discard: " + audit);
        awaitGone(b, key);
        assertThat(bob.inbox().findByMessageId(id)).isEmpty();
    }

    @Test
    @Order(6)
    void aForgeryWithAnOldDateAndABadMacIsHeldAsExpiredButItsReleaseIsRefusedAsUnverified() {
        // given a forgery: a partner signature dated two periods ago whose MAC is garbage; B holds it as expired
        Account bob = bob(b);
        String id = UUID.randomUUID() + "@a.example";
        String genuine = signedByPartner(partnerKeyOfB, AuthHmacPair.FIRST_KEY_ID, Instant.now().minusSeconds(2 * 900),
                List.of(AuthHmacPair.BOB), id, "new bank details");
        byte[] garbage = new byte[32];
        new SecureRandom().nextBytes(garbage);
        Matcher mac = Pattern.compile("(;\\s*b=)[A-Za-z0-9+/=]+").matcher(genuine);
        assertThat(mac.find()).as("the signature's b= tag").isTrue();
        String forged = genuine.substring(0, mac.start()) + mac.group(1) + Base64.getEncoder().encodeToString(garbage)
                + genuine.substring(mac.end());
        SmtpSender.mta(b.ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), forged);
        String key = awaitHeld(b, "<" + id + ">", "expired");
        Notice notice = awaitNotice(bob, "<" + id + ">");
        Set<String> before = bob.messageIds();
        int log = logMark(b);

        // when bob replies to his notice
        bob.replyTo(notice);

        // then the release is refused: the MAC does not hold, whatever the date
        assertThat(awaitOnlyReply(bob, before).header("Subject")).containsExactly("Release refused (unverified)");
        awaitAuditLine(b, log, "action=release", "outcome=refused", "refusal=unverified", "mailbox=" + AuthHmacPair.BOB, "key=" + key);
        assertThat(bob.inbox().findByMessageId("<" + id + ">")).isEmpty();
        assertThat(recipients(b, key)).containsExactly(AuthHmacPair.BOB);
    }

    @Test
    @Order(7)
    void aMailSignedWithAKeyNotImportedYetIsReleasedByTheSameAddressOnceTheKeyIsThere() throws IOException {
        // given the partner signs with a new key k9 before B imported it: held as unknown-key
        Account bob = bob(b);
        Path export = root.resolve("partner-vault").resolve("a-b-k9.secret");
        byte[] k9 = newPartnerKey(export, "k9");
        String id = sendSignedByPartner(b, k9, "k9", Instant.now(), List.of(AuthHmacPair.BOB), "invoice 4711");
        String key = awaitHeld(b, id, "unknown-key");
        Notice notice = awaitNotice(bob, id);
        Set<String> before = bob.messageIds();
        int log = logMark(b);

        // when bob replies while the key is still missing
        bob.replyTo(notice);

        // then it is refused as key-missing, and nothing is delivered
        assertThat(awaitOnlyReply(bob, before).header("Subject")).containsExactly("Release refused (key-missing)");
        awaitAuditLine(b, log, "action=release", "outcome=refused", "refusal=key-missing", "mailbox=" + AuthHmacPair.BOB);
        assertThat(bob.inbox().findByMessageId(id)).isEmpty();
        assertThat(recipients(b, key)).containsExactly(AuthHmacPair.BOB);

        // when the operator imports k9 and bob writes to the same address again
        KeyCli.fromSystemProperties().run(AuthHmacPair.authHmacConfig(b), "keys", "import", "--from", export.toString(),
                "--keyset", AuthHmacPair.KEYSET);
        Files.delete(export);
        Set<String> afterRefusal = bob.messageIds();
        bob.replyTo(notice);

        // then the token was not used up: the mail is released to him
        assertThat(awaitOnlyReply(bob, afterRefusal).header("Subject")).containsExactly(RELEASED);
        assertThat(bob.inbox().awaitMessageId(id, Duration.ofSeconds(60))).as("released to bob").isPresent();
    }

    @Test
    @Order(8)
    void aMailHeldForAReasonNotInTheListOffersNoAddressButTheAdministrator() {
        // given an unsigned mail claiming a.example: held as none (no-signature), which may well be a forgery
        Account bob = bob(b);
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.mta(b.ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "urgent transfer", id, "Please pay.\n"));
        awaitHeld(b, "<" + id + ">", "no-signature");

        // then bob's notice sends him to an administrator, with no address to write to
        ImapReader.Received notice = awaitNoticeMail(bob, "<" + id + ">");
        assertThat(notice.header("Reply-To")).isEmpty();
        assertThat(text(notice)).contains("An administrator must decide").doesNotContainPattern("release-|discard-");
    }

    @Test
    @Order(20)
    void aReleaseAddressPastItsValidityIsRefusedAsExpired() throws InterruptedException {
        // given B2 (addresses valid 15 s) holds a mail for bob as expired, and bob waits beyond the validity
        Account bob = bob(b2);
        String id = sendSignedByPartner(b2, partnerKeyOfB2, AuthHmacPair.FIRST_KEY_ID, Instant.now().minusSeconds(2 * 900),
                List.of(AuthHmacPair.BOB), "late reply");
        String key = awaitHeld(b2, id, "expired");
        Notice notice = awaitNotice(bob, id);
        // the address was made before the notice was read, so it expired by this time
        Thread.sleep(SHORT_VALIDITY.plusSeconds(2).toMillis());
        Set<String> before = bob.messageIds();
        int log = logMark(b2);

        // when bob replies to his notice
        bob.replyTo(notice);

        // then it is refused as expired, and the mail stays held
        assertThat(awaitOnlyReply(bob, before).header("Subject")).containsExactly("Release refused (expired)");
        awaitAuditLine(b2, log, "action=release", "outcome=refused", "refusal=expired", "mailbox=" + AuthHmacPair.BOB);
        assertThat(bob.inbox().findByMessageId(id)).isEmpty();
        assertThat(recipients(b2, key)).containsExactly(AuthHmacPair.BOB);
    }

    @Test
    @Order(21)
    void withReleaseByReplyTurnedOffARequestIsRefusedAndTheWebAdminReleaseStillDelivers() throws IOException {
        // given B2 restarted with AuthHmacRelease's selfRelease off (its quarantine still hands out addresses)
        b2.stop();
        Path container = b2.confDir().resolve("mailetcontainer.xml");
        Files.writeString(container, releaseByReplyOff(Files.readString(container)));
        b2.launch();
        b2.awaitHealthy(Duration.ofSeconds(120));
        addUsers(b2); // the memory server forgets domains and users on restart; the file:// quarantine stays
        Account bob = bob(b2);
        String id = sendSignedByPartner(b2, partnerKeyOfB2, AuthHmacPair.FIRST_KEY_ID, Instant.now().minusSeconds(2 * 900),
                List.of(AuthHmacPair.BOB), "travel booking");
        String key = awaitHeld(b2, id, "expired");
        Notice notice = awaitNotice(bob, id);
        assertThat(notice.replyTo()).containsExactly(notice.release());
        Set<String> before = bob.messageIds();
        int log = logMark(b2);

        // when bob replies to his notice
        bob.replyTo(notice);

        // then it is refused as off, and nothing is delivered
        assertThat(awaitOnlyReply(bob, before).header("Subject")).containsExactly("Release refused (off)");
        awaitAuditLine(b2, log, "action=release", "outcome=refused", "refusal=off", "mailbox=" + AuthHmacPair.BOB);
        assertThat(bob.inbox().findByMessageId(id)).isEmpty();

        // when the administrator releases it through WebAdmin
        assertThat(b2.webAdmin().reprocess(QUARANTINE, key, "transport").path("status").asText()).isEqualTo("completed");

        // then bob gets it
        assertThat(bob.inbox().awaitMessageId(id, Duration.ofSeconds(60))).as("released through WebAdmin").isPresent();
        awaitGone(b2, key);
    }

    @Test
    @Order(99)
    void nothingOfAllThisReachesTheSendersSide() {
        // given every request above was answered (or refused) and both servers have nothing left to send
        awaitQuiet(b);
        awaitQuiet(b2);

        // then a.example's MX received nothing from B or B2: no bounce, no reply, no released copy (no backscatter)
        assertThat(senderSide.received()).isEmpty();
    }

    // ---- the people and their mailboxes ----

    /** A mailbox on one server: its INBOX over IMAP, and mail written from it through authenticated submission. */
    record Account(JamesServerProcess server, String address, String password) {
        ImapReader inbox() {
            return new ImapReader(server.ports().imap(), address, password);
        }

        Set<String> messageIds() {
            return Set.copyOf(inbox().messageIds());
        }

        List<ImapReader.Received> newSince(Set<String> before) {
            return inbox().readAll().stream().filter(m -> !before.contains(messageId(m))).toList();
        }

        /** A reply to a quarantine notice, as a mail client writes it: to its Reply-To, with In-Reply-To. */
        void replyTo(Notice notice) {
            String to = notice.replyTo().get(0);
            String reply = "In-Reply-To: " + messageId(notice.mail()) + "\r\n"
                    + SmtpSender.message(address, to, "Re: " + NOTICE_SUBJECT, UUID.randomUUID() + "@b.example",
                            "Yes, I expected it. Please release it.\n");
            SmtpSender.submission(server.ports().submission(), address, password).send(address, List.of(to), reply);
        }

        /** A mail to {@code to}, logged in as this account (the envelope sender), with {@code from} in the From field. */
        void write(String to, String from, String subject) {
            SmtpSender.submission(server.ports().submission(), address, password).send(address, List.of(to),
                    SmtpSender.message(from, to, subject, UUID.randomUUID() + "@b.example", "Please.\n"));
        }
    }

    private static Account bob(JamesServerProcess server) {
        return new Account(server, AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD);
    }

    private static void addUsers(JamesServerProcess server) {
        WebAdminClient admin = server.webAdmin();
        admin.addDomain(AuthHmacPair.B_DOMAIN);
        admin.addUser(AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD);
        admin.addUser(CAROL, "carol-secret");
        admin.addUser(MALLORY, "mallory-secret");
        admin.addUser(POSTMASTER, AuthHmacPair.POSTMASTER_PASSWORD);
    }

    // ---- the held mail ----

    /** Sends a mail from alice to B's port 25 with a genuine partner signature made at {@code signedAt}; its Message-ID. */
    private static String sendSignedByPartner(JamesServerProcess server, byte[] secret, String keyId, Instant signedAt,
                                              List<String> to, String subject) {
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.mta(server.ports().smtp()).send(AuthHmacPair.ALICE, to, signedByPartner(secret, keyId, signedAt, to, id, subject));
        return "<" + id + ">";
    }

    /** What the partner's signer makes with this key and clock: r=b.example, rc= the number of recipients. */
    private static String signedByPartner(byte[] secret, String keyId, Instant signedAt, List<String> to, String id, String subject) {
        String message = SmtpSender.message(AuthHmacPair.ALICE, String.join(", ", to), subject, id, "Hello,\n" + subject + "\nAlice\n");
        try {
            List<String> header = new Signer(SignerSettings.defaults()).sign(
                    new ByteArrayInputStream(message.getBytes(StandardCharsets.UTF_8)),
                    List.of(new SignRequest(keyId, AuthHmacPair.A_DOMAIN, AuthHmacPair.B_DOMAIN, signedAt, to.size())),
                    StaticPeriodKeys.of(keyId, secret));
            return header.get(0) + "\r\n" + message;
        } catch (Exception e) {
            throw new IllegalStateException("cannot sign", e);
        }
    }

    /** The held mail's repository key, once B holds it for {@code reason}. */
    private static String awaitHeld(JamesServerProcess server, String messageId, String reason) {
        String key = server.awaitRepositoryMailKey(QUARANTINE, messageId);
        JsonNode held = server.webAdmin().mail(QUARANTINE, key);
        assertThat(WebAdminClient.attribute(held, "org.authhmac.reason")).as("why " + messageId + " is held").isEqualTo(reason);
        return key;
    }

    /** Waits (up to 30 s) until the held mail is no longer in the quarantine. */
    private static void awaitGone(JamesServerProcess server, String key) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (server.webAdmin().mailKeys(QUARANTINE).contains(key)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(key + " still in the quarantine, held for " + recipients(server, key) + "; log:\n"
                        + server.logTail(40));
            }
            sleep(250);
        }
    }

    /** The recipients the held mail is still kept for. */
    private static List<String> recipients(JamesServerProcess server, String key) {
        List<String> recipients = new ArrayList<>();
        server.webAdmin().mail(QUARANTINE, key, "attributes").path("recipients").forEach(r -> recipients.add(r.asText()));
        return recipients;
    }

    // ---- notices and replies ----

    /** A quarantine notice that offers release by reply: its Reply-To and the two addresses in its text. */
    record Notice(ImapReader.Received mail, String text, List<String> replyTo, String release, String discard) {
    }

    private static ImapReader.Received awaitNoticeMail(Account who, String messageId) {
        return who.inbox().awaitMatching(m -> m.header("Subject").contains(NOTICE_SUBJECT) && text(m).contains(Defanged.of(messageId)),
                        Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("no notice for " + who.address() + " about " + messageId + "; log:\n"
                        + who.server().logTail(60)));
    }

    private static Notice awaitNotice(Account who, String messageId) {
        ImapReader.Received mail = awaitNoticeMail(who, messageId);
        String text = text(mail);
        Matcher release = RELEASE_ADDRESS.matcher(text);
        Matcher discard = DISCARD_ADDRESS.matcher(text);
        assertThat(release.find()).as("a release address in the notice:\n" + text).isTrue();
        assertThat(discard.find()).as("a discard address in the notice:\n" + text).isTrue();
        assertThat(mail.header("Reply-To")).as("a reply goes to the release address").containsExactly(release.group());
        return new Notice(mail, text, mail.header("Reply-To"), release.group(), discard.group());
    }

    private static boolean isReply(ImapReader.Received m) {
        return m.header("Subject").stream().anyMatch(s -> s.startsWith("Held message ") || s.startsWith("Release refused ("));
    }

    /**
     * The one reply a request gets: from the postmaster, to the requester alone. Waits for it, then for B to have
     * nothing left in its queues, and fails if a second reply came.
     */
    private static ImapReader.Received awaitOnlyReply(Account who, Set<String> before) {
        ImapReader.Received reply = who.inbox().awaitMatching(m -> !before.contains(messageId(m)) && isReply(m), Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("no reply to " + who.address() + "; log:\n" + who.server().logTail(60)));
        awaitQuiet(who.server());
        assertThat(who.newSince(before).stream().filter(SelfReleaseIT::isReply).toList()).as("replies to " + who.address()).hasSize(1);
        assertThat(reply.header("From")).singleElement().asString().contains(POSTMASTER);
        assertThat(reply.header("To")).singleElement().asString().contains(who.address());
        return reply;
    }

    /** Waits until the server's spool and outgoing queues have been empty twice in a row, half a second apart. */
    private static void awaitQuiet(JamesServerProcess server) {
        WebAdminClient admin = server.webAdmin();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int quiet = 0;
        while (quiet < 2) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(server.name() + " still has mail queued; log:\n" + server.logTail(40));
            }
            quiet = admin.queueSize("spool") + admin.queueSize("outgoing") == 0 ? quiet + 1 : 0;
            sleep(500);
        }
    }

    // ---- the audit log ----

    private static int logMark(JamesServerProcess server) {
        return server.logs().length();
    }

    /** The first audit line "auth-hmac release ..." written after {@code mark} that has every field given. */
    private static String awaitAuditLine(JamesServerProcess server, int mark, String... fields) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            String logs = server.logs();
            for (String line : logs.substring(Math.min(mark, logs.length())).lines().toList()) {
                int start = line.indexOf("auth-hmac release ");
                if (start >= 0 && List.of(fields).stream().allMatch(f -> hasField(line.substring(start), f))) {
                    return line.substring(start);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no audit line \"auth-hmac release\" with " + List.of(fields) + "; the release lines:\n"
                        + String.join("\n", logs.substring(Math.min(mark, logs.length())).lines()
                                .filter(l -> l.contains("auth-hmac release")).toList()) + "\nlog:\n" + server.logTail(40));
            }
            sleep(250);
        }
    }

    /** {@code field} (name=value) as a whole field of the line, not the prefix of a longer value. */
    private static boolean hasField(String line, String field) {
        return Pattern.compile("(^|\\s)" + Pattern.quote(field) + "(\\s|$)").matcher(line).find();
    }

    // ---- configuration and keys ----

    /** AuthHmacRelease's selfRelease set to off; the quarantine's own selfRelease is left as it is. */
    static String releaseByReplyOff(String xml) {
        Matcher m = Pattern.compile("(class=\"org\\.authhmac\\.james\\.mailets\\.AuthHmacRelease\"[^>]*>(?:(?!</mailet>).)*?<selfRelease>)"
                + "[^<]*(</selfRelease>)", Pattern.DOTALL).matcher(xml);
        assertThat(m.find()).as("AuthHmacRelease with a <selfRelease> in mailetcontainer.xml").isTrue();
        return xml.substring(0, m.start()) + m.group(1) + "off" + m.group(2) + xml.substring(m.end());
    }

    private static String replaceOnce(String text, String from, String to) {
        assertThat(text.split(Pattern.quote(from), -1)).as("\"" + from + "\" exactly once").hasSize(2);
        return text.replace(from, to);
    }

    /** The partner key of the shipped configuration, generated in this prepared server's vault; its secret for signing here. */
    private static byte[] provisionPartnerKey(JamesServerProcess server) throws IOException {
        Path export = root.resolve(server.name() + "-" + AuthHmacPair.KEYSET + ".secret");
        KeyCli.fromSystemProperties().run(AuthHmacPair.authHmacConfig(server), "keys", "generate", "--keyset", AuthHmacPair.KEYSET,
                "--key-id", AuthHmacPair.FIRST_KEY_ID, "--export", export.toString());
        byte[] secret = exportedSecret(export);
        Files.delete(export);
        return secret;
    }

    /** A new key drawn in the partner's own vault (a PKCS#12 file standing in for A's), exported to {@code export}. */
    private static byte[] newPartnerKey(Path export, String keyId) throws IOException {
        Path vault = Files.createDirectories(export.getParent());
        Path config = vault.resolve("auth-hmac.properties");
        Properties p = new Properties();
        AuthHmacPair.vaultProperties(AuthHmacPair.VaultKind.PKCS12, null).forEach(p::setProperty);
        try (var out = Files.newOutputStream(config)) {
            p.store(out, "the partner's vault (a.example), for a key B does not have yet");
        }
        KeyCli.fromSystemProperties().run(config, "keys", "generate", "--keyset", AuthHmacPair.KEYSET, "--key-id", keyId,
                "--export", export.toString());
        return exportedSecret(export);
    }

    private static byte[] exportedSecret(Path export) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newInputStream(export)) {
            p.load(in);
        }
        return Base64.getUrlDecoder().decode(p.getProperty("secret"));
    }

    // ---- reading mail ----

    private static String messageId(ImapReader.Received m) {
        return m.header("Message-ID").stream().findFirst().orElse("");
    }

    /** The text a reader sees (transfer encoding undone). */
    static String text(ImapReader.Received mail) {
        try {
            Object content = new jakarta.mail.internet.MimeMessage(jakarta.mail.Session.getInstance(new Properties()),
                    new ByteArrayInputStream(mail.raw().getBytes(StandardCharsets.UTF_8))).getContent();
            return content instanceof String s ? s : mail.body();
        } catch (jakarta.mail.MessagingException | IOException e) {
            throw new AssertionError("unreadable as text: " + e, e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
