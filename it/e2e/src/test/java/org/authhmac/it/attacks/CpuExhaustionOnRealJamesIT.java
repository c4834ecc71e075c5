package org.authhmac.it.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.JamesMetrics;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.RawSmtpClient;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One forged mail must not pin a core of the receiving server, on a real pair (James 3.8.1, swtpm, james-conf/ as
 * shipped, B's {@code /metrics} route on). Each mail below is what anybody can send to B's port 25: unsigned, claiming
 * the partner a.example, with a forged {@code X-Auth-HMAC} built to make the verifier's work grow with the square of
 * the mail's size, within what James 3.8.1's SMTP server accepts: lines of at most 8,192 octets (the framer of
 * {@code SMTPServer} answers a longer line with 500 and drops it), no limit on a header field or the header block,
 * {@code maxmessagesize} 0 as James ships smtpserver.xml. The verifier
 * bounds the signature field (8,192 octets, 32 tag-specs, 1,024 {@code h=} names, PROTOCOL.md 3.2) before parsing it.
 *
 * <p>Each test asserts the verdict B records and that B verified the mail exactly once ({@code authhmac.verify.time}
 * counted one run, one verdict counted, no key derived in vain): work is shown by counts, never by timing. B's timer
 * quantiles are printed for the record only.
 */
class CpuExhaustionOnRealJamesIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String FORGER = "ceo@a.example";
    /** Folded lines stay short, as James's SMTP framer requires (it drops a line over 8,192 octets). */
    static final int FOLD_AT = 70;

    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "cpu-exhaustion-pair");
        pair = AuthHmacPair.start(root,
                new AuthHmacPair.Layout(JamesRuntime.repoPath("james-conf/sending"), JamesRuntime.repoPath("james-conf/receiving")),
                AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()),
                b -> b.extensionJar(JamesRuntime.javaxBundleJar()).properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES),
                bSmtp -> bSmtp);
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    void aForgedSignatureOfAHundredAndFiftyThousandUnknownTagsIsHeldAsMalformedAfterOneBoundedVerification() {
        // given an unsigned mail claiming a.example whose X-Auth-HMAC carries the partner's key id, a fresh t and
        // 150,000 distinct unknown tags folded into short lines (about 0.9 MB): the duplicate-tag check of a
        // verifier without bounds compares each tag with every earlier one
        String id = newMessageId();
        StringBuilder signature = new StringBuilder(folded(knownKeySignaturePrefix("from:to:subject:date:message-id")
                + "; bh=" + "A".repeat(43) + "=; b=" + "A".repeat(43) + "="));
        int lineStart = signature.lastIndexOf("\r\n");
        for (int i = 0; i < 150_000; i++) {
            signature.append(';').append(fourLetterName(i)).append('=');
            if (signature.length() - lineStart > FOLD_AT) {
                signature.append("\r\n ");
                lineStart = signature.length();
            }
        }
        byte[] mail = (signature + "\r\n" + ordinaryFields(id) + "\r\nPlease pay invoice 4711 today.\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        assertThat(mail.length).as("mail size").isBetween(850_000, 1_000_000);

        // when it is sent to B's port 25
        Verification v = sendAndAwaitVerdict(id, mail);

        // then B held it as permerror / malformed, verified once, and derived no key for it
        assertThat(v.result()).isEqualTo("permerror");
        assertThat(v.reason()).isEqualTo("malformed");
        v.assertVerifiedOnceWithoutKeyWork("malformed");
    }

    @Test
    void aHundredThousandHNamesOverAHundredThousandTinyFieldsAreHeldAsMalformedAfterOneBoundedVerification() {
        // given the partner's key id and a fresh t (which get a forgery as far as the MAC) and an h= of 100,000
        // names that match no field, over 100,000 tiny fields: a verifier that looks for each name in every field
        // does 10^10 comparisons
        String id = newMessageId();
        StringBuilder h = new StringBuilder("from");
        for (int i = 0; i < 100_000; i++) {
            h.append(':').append(name(i));
        }
        byte[] mail = (folded(knownKeySignaturePrefix(h.toString()) + "; bh=" + "A".repeat(43) + "=; b=" + "A".repeat(43) + "=")
                + "\r\n" + "a:\r\n".repeat(100_000) + ordinaryFields(id) + "\r\nPlease pay invoice 4711 today.\r\n")
                .getBytes(StandardCharsets.US_ASCII);

        // when it is sent to B's port 25
        Verification v = sendAndAwaitVerdict(id, mail);

        // then B held it as permerror / malformed (more than 1,024 h= names), verified once, no key derived
        assertThat(v.result()).isEqualTo("permerror");
        assertThat(v.reason()).isEqualTo("malformed");
        v.assertVerifiedOnceWithoutKeyWork("malformed");
    }

    @Test
    void anHOfExactlyTheBoundOf1024NamesOverAHundredThousandTinyFieldsIsHeldAsUnsignedHeaderBeforeAnyKeyWork() {
        // given the largest h= the bound allows (1,024 names, each short enough that the field stays under 8,192
        // octets), the partner's key id and a fresh t, over 100,000 tiny fields the h= does not cover
        String id = newMessageId();
        StringBuilder h = new StringBuilder("from");
        for (int i = 0; i < 1023; i++) {
            h.append(':').append(name(i));
        }
        String signature = folded(knownKeySignaturePrefix(h.toString()) + "; bh=" + "A".repeat(43) + "=; b=" + "A".repeat(43) + "=");
        assertThat(signature.length()).as("signature field octets").isLessThanOrEqualTo(8192);
        byte[] mail = (signature + "\r\n" + "a:\r\n".repeat(100_000) + ordinaryFields(id) + "\r\nPlease pay invoice 4711 today.\r\n")
                .getBytes(StandardCharsets.US_ASCII);

        // when it is sent to B's port 25
        Verification v = sendAndAwaitVerdict(id, mail);

        // then it is parsed, and the coverage rule fails it before any key is asked for: fail / unsigned-header
        assertThat(v.result()).isEqualTo("fail");
        assertThat(v.reason()).isEqualTo("unsigned-header");
        v.assertVerifiedOnceWithoutKeyWork("unsigned-header");
    }

    @Test
    void theLargestForgeryThatReachesTheMacIsABadMacForAtMostOneKeyDerivation() {
        // given about the most a forger can make B do within the bounds: 1,024 h= names (half of them arc-seal) over
        // 70,000 tiny ARC-Seal fields, a name the coverage rule ignores, so that the mail passes every check before
        // the key and the MAC, which then covers 512 of them (Received would do the same, but James's RelayLimit
        // drops a mail with more than 30)
        String id = newMessageId();
        StringBuilder h = new StringBuilder("from:to:subject:date:message-id:mime-version:content-type");
        for (int i = 7; i < 1024; i++) {
            h.append(i % 2 == 0 ? ":arc-seal" : ":" + name(i));
        }
        String signature = folded(knownKeySignaturePrefix(h.toString()) + "; bh=" + "A".repeat(43) + "=; b=" + "A".repeat(43) + "=");
        assertThat(signature.length()).as("signature field octets").isLessThanOrEqualTo(8192);
        byte[] mail = (signature + "\r\n" + "ARC-Seal: x\r\n".repeat(70_000) + ordinaryFields(id)
                + "\r\nPlease pay invoice 4711 today.\r\n").getBytes(StandardCharsets.US_ASCII);

        // when it is sent to B's port 25
        Verification v = sendAndAwaitVerdict(id, mail);

        // then the MAC fails, after one verification and at most one derivation of the partner's period key
        assertThat(v.result()).isEqualTo("fail");
        assertThat(v.reason()).isEqualTo("bad-mac");
        assertThat(v.verifications()).as("verifications B ran for this mail (authhmac.verify.time)").isEqualTo(1);
        assertThat(v.delta("authhmac.verify.reason.bad-mac")).as("verdicts counted").isEqualTo(1);
        assertThat(v.delta("authhmac.verify.retried")).as("temperror retries").isZero();
        assertThat(v.delta("authhmac.verify.wastedKeyDerivations")).as("key derivations for a MAC that did not verify")
                .isLessThanOrEqualTo(1);
        v.print("bad-mac");
    }

    /** B's verdict for one mail, and B's counters before and after it. */
    record Verification(String result, String reason, JamesMetrics before, JamesMetrics after) {
        void assertVerifiedOnceWithoutKeyWork(String reasonToken) {
            assertThat(verifications()).as("verifications B ran for this mail (authhmac.verify.time)").isEqualTo(1);
            assertThat(delta("authhmac.verify.reason." + reasonToken)).as("verdicts counted").isEqualTo(1);
            assertThat(delta("authhmac.verify.retried")).as("temperror retries").isZero();
            assertThat(delta("authhmac.verify.wastedKeyDerivations")).as("key derivations for a MAC that did not verify").isZero();
            print(reasonToken);
        }

        /** B's timer after this mail, for the record only (a loaded machine's times prove nothing). */
        void print(String label) {
            JamesMetrics.Timer t = after.timer("authhmac.verify.time").orElseThrow();
            System.out.printf("cpu exhaustion: %s: B's authhmac.verify.time count %d, p50 %.1f ms, p99.9 %.1f ms;"
                            + " wasted key derivations %d (informative)%n",
                    label, t.count(), t.p50Millis(), t.maxQuantileSeconds() * 1e3, delta("authhmac.verify.wastedKeyDerivations"));
        }

        long verifications() {
            return after.timer("authhmac.verify.time").orElseThrow().count()
                    - before.timer("authhmac.verify.time").map(JamesMetrics.Timer::count).orElse(0L);
        }

        long delta(String counter) {
            return after.counter(counter) - before.counter(counter);
        }
    }

    private static Verification sendAndAwaitVerdict(String messageId, byte[] mail) {
        JamesMetrics before = JamesMetrics.scrape(pair.b());
        RawSmtpClient.Reply reply = new RawSmtpClient(pair.b().ports().smtp()).send(FORGER, List.of(AuthHmacPair.BOB), mail);
        assertThat(reply.accepted()).as("B accepted the mail over SMTP: " + reply).isTrue();
        JsonNode held = awaitHeld(messageId, Duration.ofMinutes(5));
        assertThat(pair.bobInbox().findByMessageId(messageId)).as("delivered to bob").isEmpty();
        return new Verification(WebAdminClient.attribute(held, "org.authhmac.result"),
                WebAdminClient.attribute(held, "org.authhmac.reason"), before, JamesMetrics.scrape(pair.b()));
    }

    /**
     * Waits for the mail in B's quarantine. The wait is long on purpose: a verifier without bounds spends tens of
     * seconds on these mails and then gives another verdict, which is what this test must show failing.
     */
    private static JsonNode awaitHeld(String messageId, Duration timeout) {
        WebAdminClient admin = pair.b().webAdmin();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (String key : admin.mailKeys(QUARANTINE)) {
                JsonNode mail;
                try {
                    mail = admin.mail(QUARANTINE, key, "attributes,headers");
                } catch (IllegalStateException stillBeingWritten) {
                    continue; // the repository lists a key it is still writing ("Cannot lock"): read it next round
                }
                if (mail.path("headers").toString().contains(messageId)) {
                    return mail;
                }
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("not held at B within " + timeout + ": " + messageId + "; B log:\n" + pair.b().logTail(40));
    }

    /** The tags a verifier needs to reach key work: the partner's key id, d=a.example, a fresh t, the shipped p. */
    static String knownKeySignaturePrefix(String h) {
        return "X-Auth-HMAC: v=1; a=hmac-sha256; d=a.example; s=" + AuthHmacPair.FIRST_KEY_ID + "; t="
                + Instant.now().getEpochSecond() + "; p=900; c=relaxed/relaxed; r=b.example; rc=1; n="
                + UUID.randomUUID().toString().replace("-", "") + "; h=" + h;
    }

    /** Folds a field into lines of about {@link #FOLD_AT} octets at its colons and semicolons. */
    static String folded(String field) {
        StringBuilder out = new StringBuilder(field.length() + field.length() / 20);
        int lineStart = 0;
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if ((c == ':' || c == ';') && out.length() - lineStart > FOLD_AT && i > field.indexOf(':')) {
                out.append("\r\n ");
                lineStart = out.length() - 1;
            }
            out.append(c);
        }
        return out.toString();
    }

    static String ordinaryFields(String messageId) {
        return "From: CEO <ceo@a.example>\r\nTo: " + AuthHmacPair.BOB + "\r\nSubject: invoice\r\n"
                + "Date: " + java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(java.time.ZonedDateTime.now()) + "\r\n"
                + "Message-ID: " + messageId + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n";
    }

    /** The n-th distinct four-character tag name (a letter, then three base-36 digits): up to 1,213,056 of them. */
    static String fourLetterName(int n) {
        String digits = Integer.toString(n % 46_656, 36);
        return (char) ('a' + n / 46_656) + "0".repeat(3 - digits.length()) + digits;
    }

    /** The n-th distinct tag or field name: a letter, then base-36 digits. */
    static String name(int n) {
        return "x" + Integer.toString(n, 36);
    }

    static String newMessageId() {
        return "<" + UUID.randomUUID() + "@a.example>";
    }
}
