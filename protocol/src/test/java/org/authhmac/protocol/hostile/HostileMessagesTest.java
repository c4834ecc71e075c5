package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.protocol.fuzz.FuzzFixtures.ACCEPTED_AT;
import static org.authhmac.protocol.fuzz.FuzzFixtures.RECIPIENT;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Messages built to hurt, each run through the real Verifier (docs/RELIABILITY.md, "Bad input"). Every one must get
 * a verdict that names what is wrong; none may crash, hang, or make the verifier do unbounded work.
 */
class HostileMessagesTest {
    static final String HEADER = String.join("\r\n",
            "From: Alice <alice@a.example>",
            "To: Bob <bob@b.example>",
            "Subject: Quarterly figures",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <1@a.example>",
            "") + "\r\n";
    static final String MESSAGE = HEADER + "\r\nHello Bob,\r\n";

    static final Signer RELAXED = FuzzFixtures.signer(Canonicalization.RELAXED, Canonicalization.RELAXED);

    static String signed(String message) throws Exception {
        return latin1(FuzzFixtures.signed(RELAXED, bytes(message)));
    }

    static String signatureLine(String message) throws Exception {
        String s = signed(message);
        return s.substring(0, s.indexOf("\r\n"));
    }

    static Verdict verify(String message) {
        return FuzzFixtures.verify(bytes(message));
    }

    /** Bytes this thread has allocated so far: time-independent evidence of what a call kept in memory. */
    static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Nested
    class Size {
        static final long FIFTY_MB = 50L * 1024 * 1024;

        @Test
        void aFiftyMegabyteBodyIsStreamedThroughTheHashNotHeldInMemory() throws Exception {
            List<String> sig = RELAXED.sign(new GeneratedMessage(HEADER + "\r\n", FIFTY_MB, -1),
                    List.of(FuzzFixtures.request()), FuzzFixtures.keys());
            String top = sig.get(0) + "\r\n";
            GeneratedMessage body = new GeneratedMessage(HEADER + "\r\n", FIFTY_MB, -1);
            Verifier verifier = FuzzFixtures.verifier();

            long before = allocatedBytes();
            Verdict v = verifier.verify(new SequenceInputStream(new ByteArrayInputStream(bytes(top)), body), ACCEPTED_AT, RECIPIENT);
            long allocated = allocatedBytes() - before;
            System.out.println("allocated while verifying 50 MB: " + allocated + " bytes");

            assertThat(v.result()).isEqualTo(AuthResult.PASS);
            assertThat(body.delivered()).as("the whole body was read and hashed").isEqualTo(HEADER.length() + 2 + FIFTY_MB);
            assertThat(allocated).as("bytes allocated while verifying 50 MB: the body was never buffered")
                    .isLessThan(FIFTY_MB / 10);
        }

        @Test
        void oneChangedByteDeepInAFiftyMegabyteBodyIsBodyChanged() throws Exception {
            List<String> sig = RELAXED.sign(new GeneratedMessage(HEADER + "\r\n", FIFTY_MB, -1),
                    List.of(FuzzFixtures.request()), FuzzFixtures.keys());
            InputStream changed = new SequenceInputStream(new ByteArrayInputStream(bytes(sig.get(0) + "\r\n")),
                    new GeneratedMessage(HEADER + "\r\n", FIFTY_MB, FIFTY_MB - 1000));

            Verdict v = FuzzFixtures.verifier().verify(changed, ACCEPTED_AT, RECIPIENT);

            assertThat(v.reason()).isEqualTo(Reason.BODY_CHANGED);
        }

        /** 9,100 trace fields (outside h=) and 900 signed ones, the most a signature may list being 1,024. */
        @Test
        void aTenThousandLineHeaderBlockIsVerified() throws Exception {
            StringBuilder filler = new StringBuilder();
            for (int i = 0; i < 9_100; i++) {
                filler.append("Received: from hop").append(i).append(" by hop").append(i + 1).append("\r\n");
            }
            for (int i = 0; i < 900; i++) {
                filler.append("X-F: value ").append(i).append("\r\n");
            }
            String message = filler + MESSAGE;

            assertThat(verify(signed(message)).result()).isEqualTo(AuthResult.PASS);
            assertThat(verify(signed(message).replace("from hop9099 by", "from changed by"))
                    .result()).as("trace fields may change").isEqualTo(AuthResult.PASS);
            assertThat(verify(signed(message).replace("X-F: value 899", "X-F: changed"))
                    .reason()).as("the other fields are signed").isEqualTo(Reason.BAD_MAC);
        }

        @Test
        void aSignedHeaderFoldedTenThousandTimesIsVerifiedAndItsChangeCaught() throws Exception {
            String subject = "Subject: start" + "\r\n word".repeat(10_000);
            String message = MESSAGE.replace("Subject: Quarterly figures", subject);
            String signed = signed(message);

            assertThat(verify(signed).result()).isEqualTo(AuthResult.PASS);
            assertThat(verify(signed.replace("\r\n word\r\nDate", "\r\n w0rd\r\nDate")).reason()).isEqualTo(Reason.BAD_MAC);
        }

        @Test
        void aHeaderBlockOverTheBoundIsMalformedWithoutReadingTheBody() throws Exception {
            String huge = "X-Big: " + "a".repeat(VerifierSettings.defaults().maxHeaderBytes()) + "\r\n";
            GeneratedMessage message = new GeneratedMessage(signatureLine(MESSAGE) + "\r\n" + huge + MESSAGE, FIFTY_MB, -1);

            Verdict v = FuzzFixtures.verifier().verify(message, ACCEPTED_AT, RECIPIENT);

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
            assertThat(message.delivered()).as("stopped at the bound").isLessThan(2L * VerifierSettings.defaults().maxHeaderBytes());
        }
    }

    @Nested
    class ManySignatures {
        /** Parseable, in-window signatures with a wrong MAC: each one that is evaluated costs a key derivation. */
        static String forged(String good, int i) {
            String b = good.substring(good.indexOf("; b=") + 4);
            String forgedMac = (char) ('A' + i % 26) + b.substring(1);
            return good.substring(0, good.indexOf("; b=") + 4) + forgedMac;
        }

        @Test
        void aThousandSignatureHeadersCostAtMostTheConfiguredFiveKeyDerivations() throws Exception {
            String good = signatureLine(MESSAGE);
            StringBuilder top = new StringBuilder();
            for (int i = 0; i < 1000; i++) {
                top.append(forged(good, i)).append("\r\n");
            }
            CountingKeys keys = new CountingKeys(FuzzFixtures.keys());
            Verifier verifier = new Verifier(VerifierSettings.defaults(), keys,
                    new InMemoryReplayCache(100, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)));

            Verdict v = verifier.verify(new ByteArrayInputStream(bytes(top + MESSAGE)), ACCEPTED_AT, RECIPIENT);

            assertThat(v.reason()).isEqualTo(Reason.BAD_MAC);
            assertThat(keys.derivations.get()).as("key derivations for 1,000 signature headers")
                    .isLessThanOrEqualTo(VerifierSettings.DEFAULT_MAX_HEADERS);
        }

        @Test
        void aGoodSignatureBelowTheCapIsNeverLookedAt() throws Exception {
            String good = signatureLine(MESSAGE);
            StringBuilder top = new StringBuilder();
            for (int i = 0; i < 1000; i++) {
                top.append(forged(good, i)).append("\r\n");
            }

            Verdict v = verify(top + good + "\r\n" + MESSAGE);

            assertThat(v.result()).as("the 1,001st signature is beyond the cap of 5").isEqualTo(AuthResult.FAIL);
        }

        @Test
        void aGoodSignatureInsideTheCapStillPasses() throws Exception {
            String good = signatureLine(MESSAGE);

            Verdict v = verify(forged(good, 1) + "\r\n" + forged(good, 2) + "\r\n" + good + "\r\n" + MESSAGE);

            assertThat(v.result()).isEqualTo(AuthResult.PASS);
        }
    }

    @Nested
    class ControlCharacters {
        @Test
        void nulBytesInTheBodyAreSignedAndVerifiedLikeAnyByte() throws Exception {
            String signed = signed(MESSAGE.replace("Hello Bob,", "Hel\0lo\0\0Bob,"));

            assertThat(verify(signed).result()).isEqualTo(AuthResult.PASS);
            assertThat(verify(signed.replace("\0\0", "\0")).reason()).isEqualTo(Reason.BODY_CHANGED);
        }

        @Test
        void aNulByteInASignedHeaderValueIsCoveredByTheMac() throws Exception {
            String signed = signed(MESSAGE.replace("Quarterly figures", "Quarterly\0figures"));

            assertThat(verify(signed).result()).isEqualTo(AuthResult.PASS);
            assertThat(verify(signed.replace("Quarterly\0figures", "Quarterly figures")).reason()).isEqualTo(Reason.BAD_MAC);
        }

        @Test
        void aNulByteInAHeaderNameMakesTheMessageMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("Subject:", "Sub\0ject:"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void aNulByteInsideTheSignatureHeaderIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("; s=k1", "; s=k\0001"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void bareCrInTheBodyIsAnOrdinaryByteThatTheMacCovers() throws Exception {
            String signed = signed(MESSAGE.replace("Hello Bob,", "Hello\rBob,"));

            assertThat(verify(signed).result()).isEqualTo(AuthResult.PASS);
            assertThat(verify(signed.replace("Hello\rBob,", "Hello\r\nBob,")).reason()).isEqualTo(Reason.BODY_CHANGED);
        }

        @Test
        void aBareCrInASignedHeaderValueMakesTheMessageMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("Quarterly figures", "Quarterly\rfigures"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void aBareCrInsideTheSignatureHeaderIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("; t=", ";\rt="));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void bareLfLineEndsEverywhereStillPassAsDocumented() throws Exception {
            assertThat(verify(signed(MESSAGE).replace("\r\n", "\n")).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void aMessageOfOnlyLineBreaksHasNoSignature() {
            assertThat(verify("\r\n\n\r\n\r\r\n").result()).isEqualTo(AuthResult.NONE);
        }

        @Test
        void aContinuationLineBeforeAnyFieldIsMalformed() throws Exception {
            Verdict v = verify(" folded first\r\n" + signed(MESSAGE));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }
    }

    @Nested
    class Encoding {
        @Test
        void invalidUtf8InASignedHeaderIsSignedByteForByte() throws Exception {
            String signed = signed(MESSAGE.replace("Quarterly figures", "Quarterly \u00c3\u0028 \u00ff\u00fe \u00ed\u00a0\u0080"));

            assertThat(verify(signed).result()).isEqualTo(AuthResult.PASS);
            assertThat(verify(signed.replace("\u00ff\u00fe", "\u00fe\u00ff")).reason()).isEqualTo(Reason.BAD_MAC);
        }

        @Test
        void invalidUtf8InsideTheSignatureHeaderIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("d=a.example", "d=a.\u00c3\u0028example"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void invalidUtf8InAnUnknownTagIsMalformedBecauseTagValuesAreAscii() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("; b=", "; x=\u00ff\u00fe; b="));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void base64WithJunkInBIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("; b=", "; b=*%$"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void base64WithJunkAfterThePaddingIsMalformed() throws Exception {
            String s = signed(MESSAGE);
            String line = s.substring(0, s.indexOf("\r\n"));

            Verdict v = verify(line + "AAAA" + s.substring(line.length()));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void base64WithJunkInBhIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("; bh=", "; bh=!"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void foldingWhitespaceInsideBase64IsAllowedAndPasses() throws Exception {
            String s = signed(MESSAGE);
            int b = s.indexOf("; b=") + 4;

            Verdict v = verify(s.substring(0, b + 10) + "\r\n\t" + s.substring(b + 10, b + 20) + " " + s.substring(b + 20));

            assertThat(v.result()).isEqualTo(AuthResult.PASS);
        }
    }

    @Nested
    class TagValues {
        @Test
        void anUnknownTagIsIgnoredAndTheSignatureStillDecides() throws Exception {
            // The tag is inside the signature header, which the MAC covers: adding it is a change.
            Verdict v = verify(signed(MESSAGE).replace("; b=", "; x=" + "a".repeat(5_000) + "; b="));

            assertThat(v.reason()).isEqualTo(Reason.BAD_MAC);
        }

        @Test
        void aSignatureFieldOverTheSizeBoundIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("; b=", "; x=" + "a".repeat(500_000) + "; b="));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void anOversizedDomainIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("d=a.example", "d=" + "a".repeat(100_000) + ".example"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void aHugeOversignedHeaderListIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("; h=", "; h=" + "from:".repeat(100_000)));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void anOversizedMacIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("; b=", "; b=" + "QUFB".repeat(100_000)));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void aNonNumericTimeIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("t=1763776800", "t=17637768OO"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void aNegativeTimeIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("t=1763776800", "t=-1763776800"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void aTimeTooLongForALongIsMalformedNotAnOverflow() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("t=1763776800", "t=" + "9".repeat(25)));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void theLargestTimeAllowedIsFarInTheFuture() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("t=1763776800", "t=999999999999"));

            assertThat(v.reason()).isEqualTo(Reason.FUTURE);
        }

        @Test
        void timeZeroIsExpired() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("t=1763776800", "t=0"));

            assertThat(v.reason()).isEqualTo(Reason.EXPIRED);
        }

        @Test
        void anUnknownVersionIsUnsupported() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("v=1;", "v=2;"));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.UNSUPPORTED_VERSION);
        }

        @Test
        void anUnknownAlgorithmIsUnsupported() throws Exception {
            for (String a : List.of("hmac-sha1", "hmac-sha512", "rsa-sha256", "none", "HMAC-SHA256x")) {
                Verdict v = verify(signed(MESSAGE).replace("a=hmac-sha256", "a=" + a));

                assertThat(v.result()).as(a).isEqualTo(AuthResult.PERMERROR);
                assertThat(v.reason()).as(a).isEqualTo(Reason.UNSUPPORTED_ALGORITHM);
            }
        }

        @Test
        void aDuplicatedTagIsMalformed() throws Exception {
            Verdict v = verify(signed(MESSAGE).replace("; b=", "; t=1763776800; b="));

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }
    }
}
