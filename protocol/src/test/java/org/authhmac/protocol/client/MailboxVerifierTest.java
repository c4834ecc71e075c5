package org.authhmac.protocol.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.protocol.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MailboxVerifierTest {
    static final byte[] ALICE_SECRET = "alice's 32-byte mailbox secret!!".getBytes(StandardCharsets.US_ASCII);
    static final byte[] BOB_SECRET = "bob's 32-byte mailbox secret....".getBytes(StandardCharsets.US_ASCII);
    static final Instant DELIVERED = Instant.parse("2026-11-22T02:00:00Z");
    static final String MESSAGE = "From: carol@a.example\r\nTo: alice@b.example, bob@b.example\r\nSubject: hi\r\n"
            + "Date: Sun, 22 Nov 2026 02:00:00 +0000\r\nMessage-ID: <1@a.example>\r\n\r\nHello.\r\n";

    static byte[] signedFor(String mailbox, String keyId, byte[] secret, Instant at) throws Exception {
        return signed(new SignRequest(keyId, "b.example", mailbox, at), secret, MESSAGE);
    }

    /** What SignForMailbox stores: the message with the mailbox signature on top, sv= and pd= as requested. */
    static byte[] signed(SignRequest request, byte[] secret, String message) throws Exception {
        List<String> lines = new Signer(SignerSettings.defaults()).sign(
                new ByteArrayInputStream(message.getBytes(StandardCharsets.US_ASCII)),
                List.of(request), StaticPeriodKeys.of(request.keyId(), secret));
        return (lines.get(0) + "\r\n" + message).getBytes(StandardCharsets.US_ASCII);
    }

    static MailboxVerifier alices() {
        return new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));
    }

    static SignRequest forAlice() {
        return new SignRequest("mbx-a1", "b.example", "alice@b.example", DELIVERED);
    }

    @Test
    void passesMailSignedAtDeliveryForThisMailbox() throws Exception {
        // given
        MailboxVerifier verifier = new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));
        // when
        Verdict v = verifier.verify(signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, DELIVERED), DELIVERED.plusSeconds(1)).signature();
        // then
        assertThat(v).isInstanceOf(Verdict.Pass.class);
        assertThat(v.signature().orElseThrow().time()).isEqualTo(DELIVERED.getEpochSecond());
    }

    @Test
    void passesOldMailJudgedAtItsDeliveryTimeNotNow() throws Exception {
        MailboxVerifier verifier = new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));
        Instant lastYear = DELIVERED.minusSeconds(365L * 86400);

        Verdict v = verifier.verify(signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, lastYear), lastYear).signature();

        assertThat(v.result()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void failsMailSignedForAnotherMailboxAsWrongRecipient() throws Exception {
        // given bob has a copy of alice's mail and, absurdly, alice's key as well: the binding still refuses it
        MailboxVerifier bob = new MailboxVerifier(MailboxKey.of("bob@b.example", "mbx-a1", ALICE_SECRET));

        Verdict v = bob.verify(signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, DELIVERED), DELIVERED).signature();

        assertThat(v.reason()).isEqualTo(Reason.WRONG_RECIPIENT);
        assertThat(v.result()).isEqualTo(AuthResult.FAIL);
    }

    @Test
    void givesUnknownKeyForMailSignedUnderSomeoneElsesKey() throws Exception {
        MailboxVerifier bob = new MailboxVerifier(MailboxKey.of("bob@b.example", "mbx-b1", BOB_SECRET));

        Verdict v = bob.verify(signedFor("bob@b.example", "mbx-a1", ALICE_SECRET, DELIVERED), DELIVERED).signature();

        assertThat(v.reason()).isEqualTo(Reason.UNKNOWN_KEY);
    }

    @Test
    void failsAForgeryUnderTheRightKeyIdAsBadMac() throws Exception {
        MailboxVerifier bob = new MailboxVerifier(MailboxKey.of("bob@b.example", "mbx-b1", BOB_SECRET));

        Verdict v = bob.verify(signedFor("bob@b.example", "mbx-b1", ALICE_SECRET, DELIVERED), DELIVERED).signature();

        assertThat(v.reason()).isEqualTo(Reason.BAD_MAC);
    }

    @Test
    void reportsUnsignedMailAsNone() {
        MailboxVerifier verifier = new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));

        Verdict v = verifier.verify(MESSAGE.getBytes(StandardCharsets.US_ASCII), DELIVERED).signature();

        assertThat(v.result()).isEqualTo(AuthResult.NONE);
    }

    @Test
    void failsTheSecondCopyOfOneDeliveredMessageAsReplay() throws Exception {
        MailboxVerifier verifier = new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));
        byte[] mail = signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, DELIVERED);

        Verdict first = verifier.verify(mail, DELIVERED).signature();
        Verdict copy = verifier.verify(mail, DELIVERED).signature();

        assertThat(first.result()).isEqualTo(AuthResult.PASS);
        assertThat(copy.reason()).isEqualTo(Reason.REPLAY);
    }

    @Test
    void verifiesMailUnderAnOldKeyWhenTheOldKeyFileIsAddedAfterARotation() throws Exception {
        MailboxKey rotated = MailboxKey.of("alice@b.example", "mbx-a2", BOB_SECRET)
                .plus(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));

        Verdict v = new MailboxVerifier(rotated).verify(signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, DELIVERED), DELIVERED).signature();

        assertThat(v.result()).isEqualTo(AuthResult.PASS);
        assertThat(rotated.keyIds()).containsExactly("mbx-a2", "mbx-a1");
    }

    @Test
    void readsTheKeyFileTheServerHandsOut() {
        String file = "# secret\nversion=1\nkey-id=mbx-a1\nkeyset=user:Alice@b.example\ncreated=2026-11-22T02:00:00Z\n"
                + "secret=" + Base64.getUrlEncoder().withoutPadding().encodeToString(ALICE_SECRET) + "\n";

        MailboxKey key = MailboxKey.parse(file);

        assertThat(key.mailbox()).isEqualTo("alice@b.example");
        assertThat(key.keyIds()).containsExactly("mbx-a1");
        assertThat(key.toString()).doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(ALICE_SECRET));
    }

    @Test
    void refusesAKeyFileWithoutMailboxOrWithAShortSecret() {
        assertThatThrownBy(() -> MailboxKey.parse("version=1\nkey-id=k\nkeyset=partner-b\nsecret=AAAA\n"))
                .hasMessageContaining("mailbox");
        assertThatThrownBy(() -> MailboxKey.parse("version=1\nkey-id=k\nmailbox=a@b.example\nsecret=AAAA\n"))
                .hasMessageContaining("16..64 bytes");
    }

    @Test
    void refusesAReplayMemoryOfCapacityZeroAsAConfigurationError() {
        assertThatThrownBy(() -> new SeenSignatures(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity");
    }

    @Test
    void showsPartnerVerifiedWithThePartnerDomainOnlyForTheServersPass() throws Exception {
        byte[] mail = signed(forAlice().withServerVerdict("pass", "a.example"), ALICE_SECRET, MESSAGE);

        MailboxVerdict v = alices().verify(mail, DELIVERED);

        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.PARTNER_VERIFIED);
        assertThat(v.partnerVerified()).isTrue();
        assertThat(v.partnerDomain()).contains("a.example");
        assertThat(v.shown()).isEqualTo("delivered by your server, sender verified from partner a.example");
    }

    @ParameterizedTest(name = "sv={0} -> {1}")
    @CsvSource({"none, SENDER_UNVERIFIED", "fail, PARTNER_FAILED", "permerror, PARTNER_FAILED", "released, RELEASED",
            "notice, SERVER_NOTICE"})
    void showsEveryOtherServerVerdictAsItsOwnStatusAndNeverAsPartnerVerified(String sv, MailboxVerdict.Status status) throws Exception {
        byte[] mail = signed(forAlice().withServerVerdict(sv, null), ALICE_SECRET, MESSAGE);

        MailboxVerdict v = alices().verify(mail, DELIVERED);

        assertThat(v.signature().result()).as("the mailbox signature itself is valid").isEqualTo(AuthResult.PASS);
        assertThat(v.serverVerdict()).contains(ServerVerdict.fromToken(sv));
        assertThat(v.status()).isEqualTo(status);
        assertThat(v.partnerVerified()).isFalse();
        assertThat(v.partnerDomain()).isEmpty();
        assertThat(v.shown()).doesNotContain("verified from partner");
    }

    @Test
    void showsAValidSignatureWithoutServerVerdictAsSenderUnverified() throws Exception {
        MailboxVerdict v = alices().verify(signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, DELIVERED), DELIVERED);

        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.SENDER_UNVERIFIED);
        assertThat(v.serverVerdict()).isEmpty();
        assertThat(v.shown()).contains("records no server verdict");
    }

    @Test
    void aForgedAuthenticationResultsOrStatusFieldDoesNotMakeUnverifiedMailPartnerVerified() throws Exception {
        // given mail the server delivered with sv=none, carrying a pass claim in the fields a sender (or anyone on the
        // way, the ignore list allows Authentication-Results anywhere) can add
        String claims = "Authentication-Results: mx.b.example; auth-hmac=pass reason=\"verified\" header.d=a.example\r\n";
        byte[] signed = signed(forAlice().withServerVerdict("none", null), ALICE_SECRET, MESSAGE);
        byte[] withClaim = (claims + new String(signed, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);

        MailboxVerdict v = alices().verify(withClaim, DELIVERED);

        assertThat(v.signature().result()).isEqualTo(AuthResult.PASS);
        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.SENDER_UNVERIFIED);
        assertThat(v.partnerVerified()).isFalse();
    }

    @Test
    void aServerVerdictRewrittenInTheStoreIsABadMacAndNoValidSignature() throws Exception {
        // given a released forgery whose sv= someone with access to the mailbox rewrites to a partner pass
        String stored = new String(signed(forAlice().withServerVerdict("released", null), ALICE_SECRET, MESSAGE), StandardCharsets.US_ASCII);
        byte[] rewritten = stored.replace("; sv=released;", "; sv=pass; pd=a.example;").getBytes(StandardCharsets.US_ASCII);

        MailboxVerdict v = alices().verify(rewritten, DELIVERED);

        assertThat(v.signature().reason()).isEqualTo(Reason.BAD_MAC);
        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.NO_VALID_SIGNATURE);
        assertThat(v.serverVerdict()).isEmpty();
    }

    @Test
    void showsUnsignedAndWrongMailboxMailAsNoValidSignature() throws Exception {
        MailboxVerdict unsigned = alices().verify(MESSAGE.getBytes(StandardCharsets.US_ASCII), DELIVERED);
        MailboxVerdict bobs = new MailboxVerifier(MailboxKey.of("bob@b.example", "mbx-a1", ALICE_SECRET))
                .verify(signed(forAlice().withServerVerdict("pass", "a.example"), ALICE_SECRET, MESSAGE), DELIVERED);

        assertThat(unsigned.status()).isEqualTo(MailboxVerdict.Status.NO_VALID_SIGNATURE);
        assertThat(unsigned.shown()).contains("none", "no-signature", "suspect");
        assertThat(bobs.status()).isEqualTo(MailboxVerdict.Status.NO_VALID_SIGNATURE);
        assertThat(bobs.partnerDomain()).isEmpty();
    }

    @Test
    void aDomainBoundSignatureUnderTheMailboxKeyIsNoValidMailboxSignature() throws Exception {
        // given a signature bound to the whole domain, made with alice's key: a valid MAC, but not a delivery signature
        String fromB = MESSAGE.replace("From: carol@a.example", "From: carol@b.example");
        byte[] mail = signed(new SignRequest("mbx-a1", "b.example", "b.example", DELIVERED), ALICE_SECRET, fromB);

        MailboxVerdict v = alices().verify(mail, DELIVERED);

        assertThat(v.signature().result()).isEqualTo(AuthResult.PASS);
        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.NO_VALID_SIGNATURE);
    }

    @Test
    void aFullReplayMemoryIsTemperrorNotAVerdict() throws Exception {
        MailboxVerifier verifier = new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET),
                org.authhmac.protocol.VerifierSettings.defaults(), new SeenSignatures(1));
        verifier.verify(signed(forAlice().withServerVerdict("none", null), ALICE_SECRET, MESSAGE), DELIVERED);

        MailboxVerdict second = verifier.verify(signed(forAlice().withServerVerdict("pass", "a.example"), ALICE_SECRET, MESSAGE), DELIVERED);

        assertThat(second.status()).isEqualTo(MailboxVerdict.Status.TEMPERROR);
        assertThat(second.partnerVerified()).isFalse();
    }

    @Test
    void theClientsVerdictTokensAreTheProtocolsSvValues() {
        assertThat(java.util.Arrays.stream(ServerVerdict.values()).map(ServerVerdict::token).toList())
                .containsExactlyElementsOf(org.authhmac.protocol.SignatureHeader.SERVER_VERDICTS);
    }

    @Test
    void refusesToCombineTheKeysOfTwoMailboxes() {
        MailboxKey alice = MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET);
        MailboxKey bob = MailboxKey.of("bob@b.example", "mbx-b1", BOB_SECRET);

        assertThatThrownBy(() -> alice.plus(bob))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("alice@b.example").hasMessageContaining("bob@b.example");
    }

    @Test
    void refusesTwoDifferentSecretsUnderOneKeyIdAndAcceptsTheSameKeyFileTwice() {
        MailboxKey alice = MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET);

        assertThatThrownBy(() -> alice.plus(MailboxKey.of("Alice@B.example", "mbx-a1", BOB_SECRET)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mbx-a1");
        assertThat(alice.plus(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET)).keyIds()).containsExactly("mbx-a1");
    }

    @Test
    void remembersASignatureWhateverItsAgeSoACopyOfOldMailIsStillAReplay() throws Exception {
        // given mail delivered a year ago, long outside any window, verified once
        MailboxVerifier verifier = alices();
        Instant lastYear = DELIVERED.minusSeconds(365L * 86400);
        byte[] mail = signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, lastYear);
        verifier.verify(mail, lastYear);

        // when a second copy of it is verified
        Verdict copy = verifier.verify(mail, lastYear).signature();

        // then
        assertThat(copy.reason()).isEqualTo(Reason.REPLAY);
    }
}
