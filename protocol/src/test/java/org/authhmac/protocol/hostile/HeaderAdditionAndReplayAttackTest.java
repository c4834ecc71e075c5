package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.protocol.fuzz.FuzzFixtures.ACCEPTED_AT;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.ReplayScope;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Header-addition and replay attacks at the protocol level, with the real Signer and Verifier (the end-to-end versions on real
 * James are listed in docs/RELIABILITY.md): header addition after signing, replay, a signature made for another
 * recipient, downgrade, a future t=.
 */
class HeaderAdditionAndReplayAttackTest {
    static final String MESSAGE = String.join("\r\n",
            "From: Alice <alice@a.example>",
            "To: Bob <bob@b.example>",
            "Subject: Pay invoice 17",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <inv17@a.example>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "Please pay 100 EUR to account 1234.",
            "");

    static String signed(SignRequest request) throws Exception {
        List<String> lines = new Signer(SignerSettings.defaults())
                .sign(new ByteArrayInputStream(bytes(MESSAGE)), List.of(request), FuzzFixtures.keys());
        return lines.get(0) + "\r\n" + MESSAGE;
    }

    static String signed() throws Exception {
        return signed(FuzzFixtures.request());
    }

    static Verdict verify(String message, String recipient) {
        return FuzzFixtures.verifier().verify(new ByteArrayInputStream(bytes(message)), ACCEPTED_AT, recipient);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Puts a field right after the signature header (top) or right before the empty line (bottom). */
    static String withField(String message, String field, boolean top) {
        if (top) {
            int afterSignature = message.indexOf("\r\n") + 2;
            return message.substring(0, afterSignature) + field + "\r\n" + message.substring(afterSignature);
        }
        int end = message.indexOf("\r\n\r\n") + 2;
        return message.substring(0, end) + field + "\r\n" + message.substring(end);
    }

    @Nested
    class HeaderAdditionAfterSigning {
        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"From: Mallory <mallory@evil.example>", "Subject: URGENT: new bank details",
                "To: eve@evil.example", "Cc: eve@evil.example", "Reply-To: mallory@evil.example",
                "Date: Sun, 23 Nov 2025 09:00:00 +0000", "Message-ID: <evil@evil.example>"})
        void aSecondOversignedFieldAboveOrBelowIsCaught(String field) throws Exception {
            for (boolean top : new boolean[] {true, false}) {
                Verdict v = verify(withField(signed(), field, top), FuzzFixtures.RECIPIENT);

                assertThat(v.result()).as("%s added at the %s: %s", field, top ? "top" : "bottom", v).isEqualTo(AuthResult.FAIL);
                assertThat(v.reason()).isIn(Reason.DUPLICATE_HEADER, Reason.BAD_MAC);
            }
        }

        @Test
        void aReplyToAddedWhereThereWasNoneIsABadMacBecauseOfOversigning() throws Exception {
            assertThat(verify(withField(signed(), "Reply-To: mallory@evil.example", true), FuzzFixtures.RECIPIENT).reason())
                    .isEqualTo(Reason.BAD_MAC);
        }

        /**
         * MIME and threading fields added above the signed ones: a second instance of a field the message has is a
         * duplicate of an RFC 2045 / RFC 5322 singleton, and an added instance of an absent one breaks the MAC,
         * because the signer oversigns both kinds.
         */
        @ParameterizedTest(name = "{0}")
        @CsvSource(delimiter = '|', value = {
                "Content-Type: text/html; charset=us-ascii | DUPLICATE_HEADER",
                "MIME-Version: 1.0                          | DUPLICATE_HEADER",
                "Content-Transfer-Encoding: base64          | BAD_MAC",
                "Sender: ceo@a.example                      | BAD_MAC",
                "In-Reply-To: <x@a.example>                 | BAD_MAC"})
        void aMimeOrThreadingFieldAddedOnTopFails(String field, Reason expected) throws Exception {
            Verdict v = verify(withField(signed(), field, true), FuzzFixtures.RECIPIENT);

            assertThat(v.result()).as("%s added on top: %s", field, v).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(expected);
        }
    }

    @Nested
    class Replay {
        @Test
        void theSameMailToTheSameRecipientAgainIsAReplay() throws Exception {
            Verifier verifier = FuzzFixtures.verifier();
            String mail = signed();

            Verdict first = verifier.verify(new ByteArrayInputStream(bytes(mail)), ACCEPTED_AT, FuzzFixtures.RECIPIENT);
            Verdict second = verifier.verify(new ByteArrayInputStream(bytes(mail)), ACCEPTED_AT.plusSeconds(60), FuzzFixtures.RECIPIENT);

            assertThat(first.result()).isEqualTo(AuthResult.PASS);
            assertThat(second.reason()).isEqualTo(Reason.REPLAY);
        }

        @Test
        void theSameMailToAnotherRecipientDomainIsWrongRecipient() throws Exception {
            Verdict v = verify(signed(), "carol@c.example");

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.WRONG_RECIPIENT);
        }

        /**
         * PROTOCOL.md 11: with the default scope "recipient", a captured mail replayed to another mailbox of the
         * bound domain passes only while the signature has passed for fewer than rc= mailboxes (partial-delivery
         * retries need that); scope "signature" catches any second sighting.
         */
        @Test
        void anotherMailboxOfTheSameDomainPassesOnlyWithinRcUnderRecipientScopeAndIsAReplayUnderSignatureScope() throws Exception {
            String mail = signed(FuzzFixtures.request().withRecipientCount(2));
            Clock clock = Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC);
            Verifier perRecipient = new Verifier(VerifierSettings.defaults(), FuzzFixtures.keys(), new InMemoryReplayCache(100, clock));
            Verifier perSignature = new Verifier(VerifierSettings.defaults().withReplayScope(ReplayScope.SIGNATURE),
                    FuzzFixtures.keys(), new InMemoryReplayCache(100, clock));

            for (Verifier v : List.of(perRecipient, perSignature)) {
                assertThat(v.verify(new ByteArrayInputStream(bytes(mail)), ACCEPTED_AT, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
            }
            Verdict secondMailbox = perRecipient.verify(new ByteArrayInputStream(bytes(mail)), ACCEPTED_AT, "carol@b.example");
            Verdict thirdMailbox = perRecipient.verify(new ByteArrayInputStream(bytes(mail)), ACCEPTED_AT, "dave@b.example");
            Verdict signatureScope = perSignature.verify(new ByteArrayInputStream(bytes(mail)), ACCEPTED_AT, "carol@b.example");

            assertThat(secondMailbox.result()).isEqualTo(AuthResult.PASS);
            assertThat(thirdMailbox.reason()).isEqualTo(Reason.REPLAY);
            assertThat(signatureScope.reason()).isEqualTo(Reason.REPLAY);
        }

        @Test
        void aSignatureFromTheRightKeyMadeForAnotherRecipientDomainIsWrongRecipient() throws Exception {
            String forC = signed(new SignRequest(FuzzFixtures.KEY_ID, FuzzFixtures.SIGNING_DOMAIN, "c.example", FuzzFixtures.SIGNED_AT)
                    .withFixedNonce(FuzzFixtures.NONCE));

            Map<String, Verdict> v = FuzzFixtures.verifier().verify(new ByteArrayInputStream(bytes(forC)), ACCEPTED_AT,
                    List.of("bob@b.example", "carol@c.example"));

            assertThat(v.get("bob@b.example").reason()).isEqualTo(Reason.WRONG_RECIPIENT);
            assertThat(v.get("carol@c.example").result()).as("the recipient it was made for").isEqualTo(AuthResult.PASS);
        }
    }

    @Nested
    class DowngradeAndTime {
        @ParameterizedTest(name = "a={0}")
        @ValueSource(strings = {"hmac-sha1", "hmac-md5", "none", "rsa-sha256"})
        void anAlgorithmOutsideTheAllowedListIsPermerror(String algorithm) throws Exception {
            Verdict v = verify(signed().replace("a=hmac-sha256", "a=" + algorithm), FuzzFixtures.RECIPIENT);

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.UNSUPPORTED_ALGORITHM);
        }

        @Test
        void aSignatureDatedBeyondTheFutureSkewFailsAsFutureWithoutAnyKeyWork() throws Exception {
            String future = signed(new SignRequest(FuzzFixtures.KEY_ID, FuzzFixtures.SIGNING_DOMAIN, "b.example",
                    ACCEPTED_AT.plus(VerifierSettings.DEFAULT_MAX_FUTURE_SKEW).plus(Duration.ofSeconds(1))));
            CountingKeys keys = new CountingKeys(FuzzFixtures.keys());
            Verifier verifier = new Verifier(VerifierSettings.defaults(), keys,
                    new InMemoryReplayCache(100, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)));

            Verdict v = verifier.verify(new ByteArrayInputStream(bytes(future)), ACCEPTED_AT, FuzzFixtures.RECIPIENT);

            assertThat(v.reason()).isEqualTo(Reason.FUTURE);
            assertThat(keys.derivations.get()).isZero();
        }

        @Test
        void aSignatureDatedJustInsideTheSkewPasses() throws Exception {
            String nearFuture = signed(new SignRequest(FuzzFixtures.KEY_ID, FuzzFixtures.SIGNING_DOMAIN, "b.example",
                    ACCEPTED_AT.plus(VerifierSettings.DEFAULT_MAX_FUTURE_SKEW)));

            assertThat(verify(nearFuture, FuzzFixtures.RECIPIENT).result()).isEqualTo(AuthResult.PASS);
        }
    }
}
