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

class MailboxVerifierTest {
    static final byte[] ALICE_SECRET = "alice's 32-byte mailbox secret!!".getBytes(StandardCharsets.US_ASCII);
    static final byte[] BOB_SECRET = "bob's 32-byte mailbox secret....".getBytes(StandardCharsets.US_ASCII);
    static final Instant DELIVERED = Instant.parse("2026-11-22T02:00:00Z");
    static final String MESSAGE = "From: carol@a.example\r\nTo: alice@b.example, bob@b.example\r\nSubject: hi\r\n"
            + "Date: Sun, 22 Nov 2026 02:00:00 +0000\r\nMessage-ID: <1@a.example>\r\n\r\nHello.\r\n";

    static byte[] signedFor(String mailbox, String keyId, byte[] secret, Instant at) throws Exception {
        List<String> lines = new Signer(SignerSettings.defaults()).sign(
                new ByteArrayInputStream(MESSAGE.getBytes(StandardCharsets.US_ASCII)),
                List.of(new SignRequest(keyId, "b.example", mailbox, at)), StaticPeriodKeys.of(keyId, secret));
        return (lines.get(0) + "\r\n" + MESSAGE).getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void passesMailSignedAtDeliveryForThisMailbox() throws Exception {
        // given
        MailboxVerifier verifier = new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));
        // when
        Verdict v = verifier.verify(signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, DELIVERED), DELIVERED.plusSeconds(1));
        // then
        assertThat(v).isInstanceOf(Verdict.Pass.class);
        assertThat(v.signature().orElseThrow().time()).isEqualTo(DELIVERED.getEpochSecond());
    }

    @Test
    void passesOldMailJudgedAtItsDeliveryTimeNotNow() throws Exception {
        MailboxVerifier verifier = new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));
        Instant lastYear = DELIVERED.minusSeconds(365L * 86400);

        Verdict v = verifier.verify(signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, lastYear), lastYear);

        assertThat(v.result()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void failsMailSignedForAnotherMailboxAsWrongRecipient() throws Exception {
        // given bob has a copy of alice's mail and, absurdly, alice's key as well: the binding still refuses it
        MailboxVerifier bob = new MailboxVerifier(MailboxKey.of("bob@b.example", "mbx-a1", ALICE_SECRET));

        Verdict v = bob.verify(signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, DELIVERED), DELIVERED);

        assertThat(v.reason()).isEqualTo(Reason.WRONG_RECIPIENT);
        assertThat(v.result()).isEqualTo(AuthResult.FAIL);
    }

    @Test
    void givesUnknownKeyForMailSignedUnderSomeoneElsesKey() throws Exception {
        MailboxVerifier bob = new MailboxVerifier(MailboxKey.of("bob@b.example", "mbx-b1", BOB_SECRET));

        Verdict v = bob.verify(signedFor("bob@b.example", "mbx-a1", ALICE_SECRET, DELIVERED), DELIVERED);

        assertThat(v.reason()).isEqualTo(Reason.UNKNOWN_KEY);
    }

    @Test
    void failsAForgeryUnderTheRightKeyIdAsBadMac() throws Exception {
        MailboxVerifier bob = new MailboxVerifier(MailboxKey.of("bob@b.example", "mbx-b1", BOB_SECRET));

        Verdict v = bob.verify(signedFor("bob@b.example", "mbx-b1", ALICE_SECRET, DELIVERED), DELIVERED);

        assertThat(v.reason()).isEqualTo(Reason.BAD_MAC);
    }

    @Test
    void reportsUnsignedMailAsNone() {
        MailboxVerifier verifier = new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));

        Verdict v = verifier.verify(MESSAGE.getBytes(StandardCharsets.US_ASCII), DELIVERED);

        assertThat(v.result()).isEqualTo(AuthResult.NONE);
    }

    @Test
    void failsTheSecondCopyOfOneDeliveredMessageAsReplay() throws Exception {
        MailboxVerifier verifier = new MailboxVerifier(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));
        byte[] mail = signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, DELIVERED);

        Verdict first = verifier.verify(mail, DELIVERED);
        Verdict copy = verifier.verify(mail, DELIVERED);

        assertThat(first.result()).isEqualTo(AuthResult.PASS);
        assertThat(copy.reason()).isEqualTo(Reason.REPLAY);
    }

    @Test
    void verifiesMailUnderAnOldKeyWhenTheOldKeyFileIsAddedAfterARotation() throws Exception {
        MailboxKey rotated = MailboxKey.of("alice@b.example", "mbx-a2", BOB_SECRET)
                .plus(MailboxKey.of("alice@b.example", "mbx-a1", ALICE_SECRET));

        Verdict v = new MailboxVerifier(rotated).verify(signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, DELIVERED), DELIVERED);

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
}
