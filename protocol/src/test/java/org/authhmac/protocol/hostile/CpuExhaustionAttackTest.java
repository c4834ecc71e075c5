package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.authhmac.protocol.fuzz.FuzzFixtures.ACCEPTED_AT;
import static org.authhmac.protocol.fuzz.FuzzFixtures.RECIPIENT;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignatureFormatException;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One unauthenticated mail must not pin a core. Each input here is one a verifier gets from anybody: a forged
 * signature header needs no key, and a key id is printed in every signed mail of the partner. Where only time
 * can show a quadratic blow-up, the input is made large enough that quadratic work would take minutes, and the
 * timeout is seconds; the linear work these inputs now cost is milliseconds.
 */
class CpuExhaustionAttackTest {
    /** The signing time of the forged headers below: inside the window at ACCEPTED_AT. */
    static final long T = FuzzFixtures.SIGNED_AT.getEpochSecond();

    static final String MESSAGE_FIELDS = String.join("\r\n",
            "From: Alice <alice@a.example>",
            "To: Bob <bob@b.example>",
            "Subject: Quarterly figures",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <1@a.example>",
            "") + "\r\n";
    static final String BODY = "\r\nHello Bob,\r\n";

    /** The n-th distinct tag name or header field name: a letter, then base-36 digits (tag-name syntax). */
    static String name(int n) {
        return "x" + Integer.toString(n, 36);
    }

    static Verdict verify(String message, CountingKeys counting) {
        Verifier v = new Verifier(VerifierSettings.defaults(), counting,
                new InMemoryReplayCache(100, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)));
        return v.verify(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)), ACCEPTED_AT, RECIPIENT);
    }

    /** A forged signature header: the tags a verifier needs to get to key work, with a known key id and a fresh t. */
    static String forgedSignature(String h) {
        return "X-Auth-HMAC: v=1; a=hmac-sha256; d=a.example; s=" + FuzzFixtures.KEY_ID + "; t=" + T
                + "; p=900; c=relaxed/relaxed; r=b.example; n=" + FuzzFixtures.NONCE + "; h=" + h
                + "; bh=" + "A".repeat(43) + "=; b=" + "A".repeat(43) + "=";
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSignatureFieldOfTwoHundredThousandUnknownTagsIsMalformedWithoutQuadraticWork() {
        // given: one forged field just under the 1 MiB header-block bound, ~200,000 distinct unknown tags folded into
        // short lines. Comparing each tag with every earlier one took 32 s at 160,000 tags.
        StringBuilder sig = new StringBuilder("X-Auth-HMAC: v=1");
        int lineStart = 0;
        for (int i = 0; sig.length() < 1_000_000; i++) {
            sig.append(';').append(name(i)).append('=');
            if (sig.length() - lineStart > 70) {
                sig.append("\r\n ");
                lineStart = sig.length();
            }
        }
        CountingKeys counting = new CountingKeys(FuzzFixtures.keys());

        // when
        Verdict v = verify(sig + "\r\n" + MESSAGE_FIELDS + BODY, counting);

        // then
        assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
        assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        assertThat(counting.derivations.get()).isZero();
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void parsingAHeaderValueOfTwoMillionTagsFailsAtOnce() {
        // given: the parser's public entry point has no header-block bound in front of it
        StringBuilder value = new StringBuilder("v=1");
        for (int i = 0; i < 2_000_000; i++) {
            value.append("; ").append(name(i)).append('=');
        }

        // when / then
        assertThatThrownBy(() -> SignatureHeader.parse(value.toString()))
                .isInstanceOfSatisfying(SignatureFormatException.class, e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aHundredThousandUnmatchedHNamesOnAHundredThousandFieldsAreMalformedBeforeAnyKeyWork() {
        // given: a known key id and a fresh t get a forgery to the MAC step; there, h= names that match no field were
        // each looked for in every field (7 s for 100,000 x 100,000)
        StringBuilder h = new StringBuilder("from");
        for (int i = 0; i < 100_000; i++) {
            h.append(':').append(name(i));
        }
        String filler = "a:\r\n".repeat(120_000);
        CountingKeys counting = new CountingKeys(FuzzFixtures.keys());

        // when
        Verdict v = verify(forgedSignature(h.toString()) + "\r\n" + filler + MESSAGE_FIELDS + BODY, counting);

        // then
        assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
        assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        assertThat(counting.derivations.get()).as("key derivations").isZero();
    }
}
