package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.authhmac.protocol.Fixtures.*;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class VerifierTest {
    private static final int P = 900;

    static String signedMessage() throws Exception {
        return signed(MESSAGE, request());
    }

    @Test
    void passesAFreshlySignedMessage() throws Exception {
        Verdict v = verify(signedMessage(), SIGNED_AT.plusSeconds(5));

        assertThat(v).isInstanceOf(Verdict.Pass.class);
        assertThat(v.result()).isEqualTo(AuthResult.PASS);
        assertThat(v.reason()).isEqualTo(Reason.VERIFIED);
        assertThat(v.signature()).get().extracting(SignatureHeader::keyId).isEqualTo(KEY_ID);
    }

    @Test
    void exposesTheSettingsItWasMadeWith() {
        VerifierSettings settings = VerifierSettings.defaults().withMaxHeaders(2);

        assertThat(verifier(settings, new InMemoryReplayCache(10, Clock.systemUTC())).settings()).isSameAs(settings);
    }

    @Test
    void saysNoneForAMessageWithoutSignature() {
        Verdict v = verify(MESSAGE, SIGNED_AT);

        assertThat(v.result()).isEqualTo(AuthResult.NONE);
        assertThat(v.reason()).isEqualTo(Reason.NO_SIGNATURE);
    }

    @Nested
    class TransitChanges {
        @Test
        void relaxedCanonicalizationSurvivesRefoldingWhitespaceAndLineEndRewrites() throws Exception {
            String changed = signedMessage()
                    .replace("Subject: Quarterly figures", "Subject:   Quarterly\r\n\tfigures  ")
                    .replace("Hello Bob,", "Hello   Bob,\t")
                    .replace("\r\n", "\n")
                    + "\n\n";

            assertThat(verify(changed, SIGNED_AT).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void traceFieldsAndResultsMayBeAddedAnywhere() throws Exception {
            String changed = "Received: from mx.a.example by mx.b.example\r\n" + signedMessage()
                    .replace("MIME-Version", "Authentication-Results: mx.b.example; spf=pass\r\nMIME-Version");

            assertThat(verify(changed, SIGNED_AT).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void anyOtherFieldAddedAfterSigningIsAnUnsignedHeader() throws Exception {
            String changed = signedMessage().replace("MIME-Version", "X-Spam-Score: 0\r\nMIME-Version");

            Verdict v = verify(changed, SIGNED_AT);

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.UNSIGNED_HEADER);
        }

        @Test
        void aFromDomainOtherThanTheSigningDomainIsAFromMismatch() throws Exception {
            String foreign = MESSAGE.replace("From: Alice <alice@a.example>", "From: \"CEO\" <ceo@b.example>");
            String changed = UncheckedSigning.signed(foreign, request(), keys());

            Verdict v = verify(changed, SIGNED_AT);

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.FROM_MISMATCH);
        }

        @Test
        void decidesCoverageAndFromAlignmentBeforeAskingForAKey() throws Exception {
            AtomicInteger derivations = new AtomicInteger();
            PeriodKeys counting = ctx -> {
                derivations.incrementAndGet();
                return keys().periodKey(ctx);
            };
            Verifier v = new Verifier(VerifierSettings.defaults(), counting, new InMemoryReplayCache(10, Clock.systemUTC()));
            String foreign = UncheckedSigning.signed(MESSAGE.replace("alice@a.example", "ceo@b.example"), request(), keys());

            v.verify(stream(signedMessage().replace("MIME-Version", "X-Added: 1\r\nMIME-Version")), SIGNED_AT, RECIPIENT);
            v.verify(stream(foreign), SIGNED_AT, RECIPIENT);

            assertThat(derivations).hasValue(0);
        }

        @Test
        void aFromFieldMovedAboveTheSignatureFieldStillAlignsWithD() throws Exception {
            String from = "From: Alice <alice@a.example>\r\n";
            String moved = from + signedMessage().replace(from, "");

            Verdict v = verify(moved, SIGNED_AT);

            assertThat(moved).startsWith(from);
            assertThat(v.result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void aChangedSignedHeaderIsABadMac() throws Exception {
            String changed = signedMessage().replace("Subject: Quarterly figures", "Subject: Quarterly figures (corrected)");

            Verdict v = verify(changed, SIGNED_AT);

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.BAD_MAC);
        }

        @Test
        void anAddedCcIsABadMacBecauseCcIsOversigned() throws Exception {
            String changed = signedMessage().replace("Subject:", "Cc: eve@evil.example\r\nSubject:");

            assertThat(verify(changed, SIGNED_AT).reason()).isEqualTo(Reason.BAD_MAC);
        }

        @Test
        void aChangedBodyIsBodyChanged() throws Exception {
            String changed = signedMessage().replace("the figures are attached.", "the figures are NOT attached.");

            Verdict v = verify(changed, SIGNED_AT);

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.BODY_CHANGED);
        }

        @Test
        void simpleCanonicalizationRejectsTrailingWhitespaceAddedToTheBody() throws Exception {
            Signer simple = new Signer(SignerSettings.defaults().withCanonicalization(Canonicalization.SIMPLE, Canonicalization.SIMPLE));
            String changed = signed(simple, MESSAGE, request()).replace("Hello Bob,", "Hello Bob, ");

            assertThat(verify(changed, SIGNED_AT).reason()).isEqualTo(Reason.BODY_CHANGED);
        }

        @Test
        void aSecondFromIsADuplicateHeaderEvenIfAddedAboveTheSignature() throws Exception {
            String changed = "From: Mallory <m@evil.example>\r\n" + signedMessage();

            Verdict v = verify(changed, SIGNED_AT);

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.DUPLICATE_HEADER);
        }

        @Test
        void aSecondSubjectIsADuplicateHeader() throws Exception {
            String changed = signedMessage().replace("Date:", "Subject: urgent\r\nDate:");

            assertThat(verify(changed, SIGNED_AT).reason()).isEqualTo(Reason.DUPLICATE_HEADER);
        }
    }

    @Nested
    class TimeWindow {
        // SIGNED_AT is the first second of a period.

        @Test
        void passesAtTheLastSecondOfTheSigningPeriod() throws Exception {
            assertThat(verify(signedMessage(), SIGNED_AT.plusSeconds(P - 1)).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void passesThroughoutThePreviousPeriodWindow() throws Exception {
            assertThat(verify(signedMessage(), SIGNED_AT.plusSeconds(P)).result()).isEqualTo(AuthResult.PASS);
            assertThat(verify(signedMessage(), SIGNED_AT.plusSeconds(2L * P - 1)).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void rejectsSignatureFromTwoPeriodsAgo() throws Exception {
            Verdict v = verify(signedMessage(), SIGNED_AT.plusSeconds(2L * P));

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.EXPIRED);
        }

        @Test
        void measuresAgeAgainstAcceptanceTimeNotProcessingTime() throws Exception {
            // The replay cache clock (processing time) is an hour later; only acceptedAt counts.
            Verifier late = verifier(VerifierSettings.defaults(),
                    new InMemoryReplayCache(10, Clock.fixed(SIGNED_AT.plus(Duration.ofHours(1)), ZoneOffset.UTC)));

            Verdict v = late.verify(stream(signedMessage()), SIGNED_AT.plusSeconds(60), RECIPIENT);

            assertThat(v.result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void appliesAConfiguredMaximumAgeInsideThePeriodWindow() throws Exception {
            Verifier strict = verifier(VerifierSettings.defaults().withMaxAge(Duration.ofSeconds(600)),
                    new InMemoryReplayCache(10, Clock.systemUTC()));

            assertThat(strict.verify(stream(signedMessage()), SIGNED_AT.plusSeconds(600), RECIPIENT).result())
                    .isEqualTo(AuthResult.PASS);
            assertThat(strict.verify(stream(signedMessage()), SIGNED_AT.plusSeconds(601), RECIPIENT).reason())
                    .isEqualTo(Reason.EXPIRED);
        }

        @Test
        void acceptsSigningTimesUpToTheFutureSkew() throws Exception {
            assertThat(verify(signedMessage(), SIGNED_AT.minusSeconds(300)).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void rejectsSigningTimesBeyondTheFutureSkew() throws Exception {
            Verdict v = verify(signedMessage(), SIGNED_AT.minusSeconds(301));

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.FUTURE);
        }

        @Test
        void decidesTheWindowBeforeAskingForAKey() throws Exception {
            AtomicInteger derivations = new AtomicInteger();
            PeriodKeys counting = ctx -> {
                derivations.incrementAndGet();
                return keys().periodKey(ctx);
            };
            Verifier v = new Verifier(VerifierSettings.defaults(), counting, new InMemoryReplayCache(10, Clock.systemUTC()));

            v.verify(stream(signedMessage()), SIGNED_AT.plusSeconds(10L * P), RECIPIENT);
            v.verify(stream(signedMessage()), SIGNED_AT.minusSeconds(10L * P), RECIPIENT);

            assertThat(derivations).hasValue(0);
        }
    }

    @Nested
    class Keys {
        @Test
        void anUnknownKeyIdIsAPermanentError() throws Exception {
            Verifier v = new Verifier(VerifierSettings.defaults(), StaticPeriodKeys.of("other", PRIMARY),
                    new InMemoryReplayCache(10, Clock.systemUTC()));

            Verdict verdict = v.verify(stream(signedMessage()), SIGNED_AT, RECIPIENT);

            assertThat(verdict.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(verdict.reason()).isEqualTo(Reason.UNKNOWN_KEY);
        }

        @Test
        void anUnreachableKeySourceIsATemporaryErrorNeverAPass() throws Exception {
            PeriodKeys down = ctx -> {
                throw new KeyUnavailableException("TPM not answering");
            };
            Verdict verdict = new Verifier(VerifierSettings.defaults(), down, new InMemoryReplayCache(10, Clock.systemUTC()))
                    .verify(stream(signedMessage()), SIGNED_AT, RECIPIENT);

            assertThat(verdict.result()).isEqualTo(AuthResult.TEMPERROR);
            assertThat(verdict.reason()).isEqualTo(Reason.KEY_UNAVAILABLE);
        }

        @Test
        void aCrashingKeySourceIsATemporaryError() throws Exception {
            PeriodKeys broken = ctx -> {
                throw new IllegalStateException("bug");
            };
            Verdict verdict = new Verifier(VerifierSettings.defaults(), broken, new InMemoryReplayCache(10, Clock.systemUTC()))
                    .verify(stream(signedMessage()), SIGNED_AT, RECIPIENT);

            assertThat(verdict.result()).isEqualTo(AuthResult.TEMPERROR);
            assertThat(verdict.reason()).isEqualTo(Reason.INTERNAL_ERROR);
        }

        @Test
        void tellsTheKeySourceWhetherEachMacVerifiedSoThatForgeriesCannotFillItsCache() throws Exception {
            // given: a key source that records what the verifier tells it
            List<Boolean> told = new ArrayList<>();
            PeriodKeys recording = new PeriodKeys() {
                @Override
                public PeriodKey periodKey(KdfContext ctx) throws UnknownKeyException, KeyUnavailableException {
                    return keys().periodKey(ctx);
                }

                @Override
                public void macChecked(PeriodKey key, boolean verified) {
                    told.add(verified);
                }
            };
            Verifier v = new Verifier(VerifierSettings.defaults(), recording, new InMemoryReplayCache(10, Clock.systemUTC()));
            String forged = signedMessage().replace("Subject: Quarterly figures", "Subject: Pay this invoice");

            // when
            v.verify(stream(signedMessage()), SIGNED_AT, RECIPIENT);
            v.verify(stream(forged), SIGNED_AT, RECIPIENT);

            // then
            assertThat(told).containsExactly(true, false);
        }

        @Test
        void aWrongPrimaryIsABadMac() throws Exception {
            byte[] other = PRIMARY.clone();
            other[0] ^= 1;
            Verdict verdict = new Verifier(VerifierSettings.defaults(), StaticPeriodKeys.of(KEY_ID, other),
                    new InMemoryReplayCache(10, Clock.systemUTC())).verify(stream(signedMessage()), SIGNED_AT, RECIPIENT);

            assertThat(verdict.reason()).isEqualTo(Reason.BAD_MAC);
        }
    }

    @Nested
    class Recipients {
        @Test
        void aDomainBindingCoversEveryMailboxOfTheDomain() throws Exception {
            assertThat(verifier().verify(stream(signedMessage()), SIGNED_AT, "carol@B.EXAMPLE").result())
                    .isEqualTo(AuthResult.PASS);
        }

        @Test
        void aSignatureForAnotherDomainIsWrongRecipient() throws Exception {
            Verdict v = verifier().verify(stream(signedMessage()), SIGNED_AT, "carol@c.example");

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.WRONG_RECIPIENT);
        }

        @Test
        void aMailboxBindingPassesOnlyForThatMailbox() throws Exception {
            String msg = signed(MESSAGE, new SignRequest(KEY_ID, SIGNING_DOMAIN, "Bob@b.example", SIGNED_AT).withFixedNonce(NONCE));

            assertThat(verifier().verify(stream(msg), SIGNED_AT, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
            assertThat(verifier().verify(stream(msg), SIGNED_AT, "carol@b.example").reason()).isEqualTo(Reason.WRONG_RECIPIENT);
        }

        @Test
        void readsNoBodyWhenNoSignatureBindsARecipient() throws Exception {
            String msg = signedMessage();
            int bodyStart = msg.indexOf("\r\n\r\n") + 4;

            Verdict elsewhere = verifier().verify(new FailingAfter(msg.substring(0, bodyStart)), SIGNED_AT, "carol@c.example");
            Verdict here = verifier().verify(new FailingAfter(msg.substring(0, bodyStart)), SIGNED_AT, "carol@b.example");

            assertThat(elsewhere.reason()).isEqualTo(Reason.WRONG_RECIPIENT);
            assertThat(here.result()).as("the body is read for a signature that binds").isEqualTo(AuthResult.TEMPERROR);
        }

        @Test
        void givesEachRecipientItsOwnVerdictFromOneRead() throws Exception {
            CountingStream in = new CountingStream(stream(signed(MESSAGE, request().withRecipientCount(2))));

            Map<String, Verdict> verdicts = verifier().verify(in, SIGNED_AT, List.of("bob@b.example", "carol@b.example", "dave@c.example"));

            assertThat(verdicts).hasSize(3);
            assertThat(verdicts.get("bob@b.example").result()).isEqualTo(AuthResult.PASS);
            assertThat(verdicts.get("carol@b.example").result()).isEqualTo(AuthResult.PASS);
            assertThat(verdicts.get("dave@c.example").reason()).isEqualTo(Reason.WRONG_RECIPIENT);
            assertThat(in.closedOrExhausted()).isTrue();
        }
    }

    @Nested
    class MultipleSignatures {
        private final Signer signer = new Signer(SignerSettings.defaults());

        @Test
        void usesTheSignatureMadeForThisRecipient() throws Exception {
            String msg = signed(signer, MESSAGE,
                    new SignRequest(KEY_ID, SIGNING_DOMAIN, "c.example", SIGNED_AT),
                    new SignRequest(KEY_ID, SIGNING_DOMAIN, "b.example", SIGNED_AT));

            assertThat(verify(msg, SIGNED_AT).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void evaluatesAtMostTheConfiguredNumberOfHeadersTopMostFirst() throws Exception {
            SignRequest[] requests = new SignRequest[3];
            requests[0] = new SignRequest(KEY_ID, SIGNING_DOMAIN, "c.example", SIGNED_AT);
            requests[1] = new SignRequest(KEY_ID, SIGNING_DOMAIN, "d.example", SIGNED_AT);
            requests[2] = new SignRequest(KEY_ID, SIGNING_DOMAIN, "b.example", SIGNED_AT);
            String msg = signed(signer, MESSAGE, requests);
            Verifier two = verifier(VerifierSettings.defaults().withMaxHeaders(2), new InMemoryReplayCache(10, Clock.systemUTC()));

            assertThat(two.verify(stream(msg), SIGNED_AT, RECIPIENT).reason()).isEqualTo(Reason.WRONG_RECIPIENT);
            assertThat(verify(msg, SIGNED_AT).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void reportsTheSignatureMadeForThisRecipientWhenNonePasses() throws Exception {
            String msg = signed(signer, MESSAGE,
                    new SignRequest(KEY_ID, SIGNING_DOMAIN, "c.example", SIGNED_AT),
                    new SignRequest(KEY_ID, SIGNING_DOMAIN, "b.example", SIGNED_AT))
                    .replace("the figures", "other figures");

            assertThat(verify(msg, SIGNED_AT).reason()).isEqualTo(Reason.BODY_CHANGED);
        }

        /** Two signatures for the recipient: one under k1 (the verifier holds another primary), one under a key whose source is down. */
        private Verdict verifyWithOneKeyDownAndOneBadMac(String first, String second) throws Exception {
            byte[] otherPrimary = PRIMARY.clone();
            otherPrimary[0] ^= 1;
            PeriodKeys signing = StaticPeriodKeys.of(Map.of(KEY_ID, PRIMARY, "k-down", PRIMARY));
            List<String> lines = signer.sign(stream(MESSAGE), List.of(
                    new SignRequest(first, SIGNING_DOMAIN, "b.example", SIGNED_AT),
                    new SignRequest(second, SIGNING_DOMAIN, "b.example", SIGNED_AT)), signing);
            String msg = String.join("\r\n", lines) + "\r\n" + MESSAGE;
            PeriodKeys verifying = ctx -> {
                if (ctx.keyId().equals("k-down")) {
                    throw new KeyUnavailableException("TPM not answering");
                }
                return StaticPeriodKeys.of(KEY_ID, otherPrimary).periodKey(ctx);
            };
            return new Verifier(VerifierSettings.defaults(), verifying, new InMemoryReplayCache(10, Clock.systemUTC()))
                    .verify(stream(msg), SIGNED_AT, RECIPIENT);
        }

        @Test
        void aTemporaryErrorOnOneSignatureWinsOverAFailOnAnotherSoThatTheMailIsRetried() throws Exception {
            Verdict failFirst = verifyWithOneKeyDownAndOneBadMac(KEY_ID, "k-down");
            Verdict temperrorFirst = verifyWithOneKeyDownAndOneBadMac("k-down", KEY_ID);

            assertThat(failFirst.result()).isEqualTo(AuthResult.TEMPERROR);
            assertThat(failFirst.reason()).isEqualTo(Reason.KEY_UNAVAILABLE);
            assertThat(temperrorFirst.result()).isEqualTo(AuthResult.TEMPERROR);
            assertThat(temperrorFirst.reason()).isEqualTo(Reason.KEY_UNAVAILABLE);
        }

        @Test
        void aFieldWhoseNameOnlyResemblesTheSignatureNameIsNoSignature() throws Exception {
            String value = signedMessage().substring("X-Auth-HMAC:".length(), signedMessage().indexOf("\r\nFrom:"));
            String lookAlikes = "X-Auth:" + value + "\r\nX-Auth-HMAC-Status: fail\r\nX-Auth-HMACs:" + value
                    + "\r\nX-Auth-HMA:" + value + "\r\nXX-Auth-HMAC:" + value + "\r\n";

            Verdict v = verify(lookAlikes + MESSAGE, SIGNED_AT);

            assertThat(v.result()).isEqualTo(AuthResult.NONE);
            assertThat(v.reason()).isEqualTo(Reason.NO_SIGNATURE);
        }

        @Test
        void readsTheSignatureNameInAnyCase() throws Exception {
            String msg = signedMessage().replaceFirst("X-Auth-HMAC:", "x-AUTH-hmac:");

            assertThat(verify(remac(msg), SIGNED_AT).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void aSecondFromIsAPermanentDuplicateHeaderFailEvenWhenNoSignatureCanBeParsed() {
            String msg = "X-Auth-HMAC: v=1; this is; not=valid\r\nFrom: Mallory <ceo@a.example>\r\n" + MESSAGE;

            Verdict v = verify(msg, SIGNED_AT);

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.DUPLICATE_HEADER);
            assertThat(v.signature()).isEmpty();
        }

        @Test
        void aMalformedHeaderDoesNotHideAValidOne() throws Exception {
            String msg = "X-Auth-HMAC: v=1; this is; not=valid\r\n" + signedMessage();

            assertThat(verify(msg, SIGNED_AT).result()).isEqualTo(AuthResult.PASS);
        }
    }

    @Nested
    class Replay {
        @Test
        void theSameSignatureDeliveredTwiceToTheSameRecipientIsAReplay() throws Exception {
            Verifier v = verifier();
            String msg = signedMessage();

            Verdict first = v.verify(stream(msg), SIGNED_AT, RECIPIENT);
            Verdict second = v.verify(stream(msg), SIGNED_AT.plusSeconds(30), RECIPIENT);

            assertThat(first.result()).isEqualTo(AuthResult.PASS);
            assertThat(second.result()).isEqualTo(AuthResult.FAIL);
            assertThat(second.reason()).isEqualTo(Reason.REPLAY);
        }

        @Test
        void aRetryThatDeliversTheRemainingRecipientsIsNotAReplay() throws Exception {
            Verifier v = verifier();
            String msg = signed(MESSAGE, request().withRecipientCount(2));

            v.verify(stream(msg), SIGNED_AT, "bob@b.example");
            Verdict retry = v.verify(stream(msg), SIGNED_AT.plusSeconds(600), "carol@b.example");

            assertThat(retry.result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void recipientsWhoseLocalPartIsAllSubAddressDetailShareOneReplayId() throws Exception {
            // "+x" and "+y" with the separator "+" are both the empty local part: one replay id, one of rc=1.
            Map<String, Verdict> verdicts = verifier().verify(stream(signedMessage()), SIGNED_AT,
                    List.of("+x@b.example", "+y@b.example"));

            assertThat(verdicts.values()).extracting(Verdict::result).containsOnly(AuthResult.PASS);
        }

        @Test
        void signatureScopeTreatsAnySecondSightingAsAReplay() throws Exception {
            Verifier v = verifier(VerifierSettings.defaults().withReplayScope(ReplayScope.SIGNATURE),
                    new InMemoryReplayCache(10, Clock.fixed(SIGNED_AT, ZoneOffset.UTC)));
            String msg = signedMessage();

            Map<String, Verdict> together = v.verify(stream(msg), SIGNED_AT, List.of("bob@b.example", "carol@b.example"));
            Verdict later = v.verify(stream(msg), SIGNED_AT, "dave@b.example");

            assertThat(together.values()).extracting(Verdict::result).containsOnly(AuthResult.PASS);
            assertThat(later.reason()).isEqualTo(Reason.REPLAY);
        }

        @Test
        void checksReplayOnlyAfterTheMacAndBodyPass() throws Exception {
            Verifier v = verifier();
            String msg = signedMessage();
            String forged = msg.replace("Quarterly", "Annual");

            assertThat(v.verify(stream(forged), SIGNED_AT, RECIPIENT).reason()).isEqualTo(Reason.BAD_MAC);
            assertThat(v.verify(stream(msg), SIGNED_AT, RECIPIENT).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void aFailingReplayStoreIsATemporaryError() throws Exception {
            ReplayCache down = (signature, replayId, maxRecipients, expiresAt) -> {
                throw new ReplayCacheException("store unreachable");
            };

            Verdict v = verifier(VerifierSettings.defaults(), down).verify(stream(signedMessage()), SIGNED_AT, RECIPIENT);

            assertThat(v.result()).isEqualTo(AuthResult.TEMPERROR);
            assertThat(v.reason()).isEqualTo(Reason.INTERNAL_ERROR);
        }
    }

    @Nested
    class HostileInput {
        @Test
        void aMalformedHeaderIsAPermErrorNotAnException() {
            Verdict v = verify("X-Auth-HMAC: v=1; a=hmac-sha256; d=\r\n" + MESSAGE, SIGNED_AT);

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void randomGarbageNeverEscapesAsAnException() throws Exception {
            Random random = new Random(7);
            String base = signedMessage();
            int headerEnd = base.indexOf("\r\nFrom:");
            for (int i = 0; i < 2000; i++) {
                char[] mutated = base.substring(0, headerEnd).toCharArray();
                for (int j = 0; j < 3; j++) {
                    mutated[12 + random.nextInt(mutated.length - 12)] = (char) random.nextInt(128);
                }
                String msg = new String(mutated) + base.substring(headerEnd);

                Verdict v = verify(msg, SIGNED_AT);

                assertThat(v).isNotNull();
                assertThat(v.reason()).isNotNull();
            }
        }

        @Test
        void anOversizedHeaderBlockIsMalformed() throws Exception {
            Verifier small = verifier(VerifierSettings.defaults().withMaxHeaderBytes(1024), new InMemoryReplayCache(10, Clock.systemUTC()));
            String msg = "X-Filler: " + "y".repeat(4000) + "\r\n" + signedMessage();

            Verdict v = small.verify(stream(msg), SIGNED_AT, RECIPIENT);

            assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
            assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        }

        @Test
        void aBrokenStreamIsATemporaryError() {
            InputStream broken = new InputStream() {
                @Override
                public int read() throws IOException {
                    throw new IOException("connection reset");
                }
            };

            Verdict v = verifier().verify(broken, SIGNED_AT, RECIPIENT);

            assertThat(v.result()).isEqualTo(AuthResult.TEMPERROR);
            assertThat(v.reason()).isEqualTo(Reason.INTERNAL_ERROR);
        }

        @Test
        void aStreamFailingWithAnUncheckedExceptionIsATemporaryError() {
            InputStream broken = new InputStream() {
                @Override
                public int read() {
                    throw new IllegalStateException("stream closed under the reader");
                }
            };

            Verdict v = verifier().verify(broken, SIGNED_AT, RECIPIENT);

            assertThat(v.result()).isEqualTo(AuthResult.TEMPERROR);
            assertThat(v.reason()).isEqualTo(Reason.INTERNAL_ERROR);
        }

        @Test
        void looksOnlyForTheConfiguredHeaderName() throws Exception {
            String msg = signed(new Signer(SignerSettings.defaults().withHeaderName("X-Partner-MAC")), MESSAGE, request());
            Verifier custom = verifier(VerifierSettings.defaults().withHeaderName("x-partner-mac"), new InMemoryReplayCache(10, Clock.systemUTC()));

            assertThat(custom.verify(stream(msg), SIGNED_AT, RECIPIENT).result()).isEqualTo(AuthResult.PASS);
            assertThat(verify(msg, SIGNED_AT).result()).isEqualTo(AuthResult.NONE);
        }
    }

    @Test
    void passesAMessageWithAnEmptyBodyAndNoBlankLine() throws Exception {
        String headersOnly = "From: a@a.example\r\nTo: b@b.example\r\nSubject: empty";
        String msg = signed(headersOnly, request());

        assertThat(verify(msg, SIGNED_AT).result()).isEqualTo(AuthResult.PASS);
        assertThat(verify(msg + "\r\n\r\n\r\n", SIGNED_AT).result()).isEqualTo(AuthResult.PASS);
        assertThat(verify(msg + "\r\n\r\nP.S.", SIGNED_AT).reason()).isEqualTo(Reason.BODY_CHANGED);
    }

    /** Records whether the verifier read the stream to its end. */
    static final class CountingStream extends InputStream {
        private final InputStream in;
        private boolean exhausted;

        CountingStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int c = in.read();
            exhausted |= c < 0;
            return c;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            exhausted |= n < 0;
            return n;
        }

        boolean closedOrExhausted() {
            return exhausted;
        }
    }

    /** Gives the text once, then fails every further read as a connection lost in the body would. */
    static final class FailingAfter extends InputStream {
        private final InputStream head;

        FailingAfter(String head) {
            this.head = stream(head);
        }

        @Override
        public int read() throws IOException {
            int c = head.read();
            if (c < 0) {
                throw new IOException("connection lost");
            }
            return c;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = head.read(b, off, len);
            if (n < 0) {
                throw new IOException("connection lost");
            }
            return n;
        }
    }

    static Instant at(long seconds) {
        return Instant.ofEpochSecond(seconds);
    }

    @Nested
    class RecipientForms {
        @Test
        void acceptsARecipientInAngleBracketsAsThePathForm() throws Exception {
            Verdict v = verifier().verify(stream(signedMessage()), SIGNED_AT.plusSeconds(5), "<bob@b.example>");

            assertThat(v.result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void throwsNamingAGarbageRecipientBeforeReadingTheMessage() {
            InputStream unread = new InputStream() {
                @Override
                public int read() throws IOException {
                    throw new IOException("the message must not be read");
                }
            };

            for (String garbage : List.of("not an address", "@b.example", "bob@", "<>", "bob@b..example")) {
                assertThatThrownBy(() -> verifier().verify(unread, SIGNED_AT, garbage))
                        .as(garbage)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("'" + garbage + "'");
            }
        }

        @Test
        void aMailboxBindingDoesNotBindANonAsciiLocalPartThatLowerCasesIntoIt() throws Exception {
            // given: a signature for kob@b.example, and a recipient written with the KELVIN SIGN (U+212A), which
            // String.toLowerCase turns into an ASCII 'k'
            String signed = signed(MESSAGE, new SignRequest(KEY_ID, SIGNING_DOMAIN, "kob@b.example", SIGNED_AT).withFixedNonce(NONCE));

            // when
            Verdict kelvin = verifier().verify(stream(signed), SIGNED_AT, "\u212Aob@b.example");
            Verdict ascii = verifier().verify(stream(signed), SIGNED_AT, "KOB@b.example");

            // then
            assertThat(kelvin.reason()).isEqualTo(Reason.WRONG_RECIPIENT);
            assertThat(ascii.result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void comparesAMailboxBindingCaseInsensitivelyAsAWhole() throws Exception {
            // given: a mailbox binding written in mixed case by some other signer, with a MAC over that form
            String signed = signed(MESSAGE, new SignRequest(KEY_ID, SIGNING_DOMAIN, RECIPIENT, SIGNED_AT).withFixedNonce(NONCE));
            String mixed = remac(signed.replace("r=bob@b.example", "r=Bob@B.Example"));

            // when
            Verdict v = verifier().verify(stream(mixed), SIGNED_AT.plusSeconds(5), "BOB@b.EXAMPLE");

            // then
            assertThat(mixed).contains("r=Bob@B.Example");
            assertThat(v.result()).isEqualTo(AuthResult.PASS);
        }
    }
}
