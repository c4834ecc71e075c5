package org.authhmac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.cli.ClientFixtures.ALICE_SECRET;
import static org.authhmac.cli.ClientFixtures.BOB_SECRET;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.authhmac.cli.AuthHmacCliTest.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * auth-hmac verify: offline, with the user's key file; the status (read from the mailbox signature and the server's
 * verdict it carries), the signature's verdict, reason and signing time on stdout, the status as exit status.
 */
class VerifyCommandTest {
    static final Instant DELIVERED = Instant.parse("2026-11-22T02:00:07Z");

    @TempDir
    Path dir;

    Path eml(String text) throws Exception {
        Path f = Files.createTempFile(dir, "msg", ".eml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void showsAPartnerMailTheServerPassedAsVerifiedFromThePartnerJudgedAtItsReceivedDate() throws Exception {
        Path key = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);
        Path mail = eml(ClientFixtures.delivered("alice@b.example", "mbx-a1", ALICE_SECRET, "lunch", DELIVERED, "pass", "a.example"));

        Run r = AuthHmacCliTest.run("verify", "--key", key.toString(), mail.toString());

        assertThat(r.exit()).isEqualTo(0);
        assertThat(r.out()).contains("status: partner-verified", "shown: delivered by your server, sender verified from partner a.example",
                "server-verdict: pass", "partner: a.example", "mailbox-signature: pass", "reason: verified",
                "signed: 2026-11-22T02:00:07Z", "key-id: mbx-a1", "mailbox: alice@b.example");
    }

    @ParameterizedTest(name = "sv={0} -> {1}")
    @CsvSource({"none, sender-unverified", "fail, partner-failed", "permerror, partner-failed", "released, released",
            "notice, server-notice"})
    void showsMailTheServerDidNotPassWithItsOwnStatusAndExitThreeNeverAsPass(String sv, String status) throws Exception {
        // given mail alice's server delivered intact, with a verdict other than a partner pass: a mark-mode failure,
        // a released forgery, a notice of the server, ordinary mail from outside
        Path key = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);
        Path mail = eml(ClientFixtures.delivered("alice@b.example", "mbx-a1", ALICE_SECRET, "lunch", DELIVERED, sv, null));

        Run r = AuthHmacCliTest.run("verify", "--key", key.toString(), mail.toString());

        assertThat(r.exit()).isEqualTo(VerifyCommand.NOT_VERIFIED_FROM_PARTNER);
        assertThat(r.out()).contains("status: " + status, "server-verdict: " + sv, "partner: -", "mailbox-signature: pass")
                .doesNotContain("partner-verified", "verified from partner");
    }

    @Test
    void aForgedAuthenticationResultsAboveTheSignatureDoesNotChangeWhatIsShown() throws Exception {
        Path key = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);
        String delivered = ClientFixtures.delivered("alice@b.example", "mbx-a1", ALICE_SECRET, "lunch", DELIVERED, "none", null);
        Path mail = eml("Authentication-Results: mx.b.example; auth-hmac=pass header.from=a.example header.d=a.example\r\n"
                + delivered);

        Run r = AuthHmacCliTest.run("verify", "--key", key.toString(), mail.toString());

        assertThat(r.exit()).isEqualTo(VerifyCommand.NOT_VERIFIED_FROM_PARTNER);
        assertThat(r.out()).contains("status: sender-unverified", "partner: -");
    }

    @Test
    void showsAMailboxSignatureWithoutServerVerdictAsSenderUnverified() throws Exception {
        Path key = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);
        Path mail = eml(ClientFixtures.signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, "lunch", DELIVERED));

        Run r = AuthHmacCliTest.run("verify", "--key", key.toString(), mail.toString());

        assertThat(r.exit()).isEqualTo(VerifyCommand.NOT_VERIFIED_FROM_PARTNER);
        assertThat(r.out()).contains("status: sender-unverified", "server-verdict: -", "records no server verdict");
    }

    @Test
    void failsAMessageSignedForAnotherMailboxAsWrongRecipientWithExitOne() throws Exception {
        Path bobKey = ClientFixtures.keyFile(dir, "bob@b.example", "mbx-b1", BOB_SECRET);
        Path aliceCopy = eml(ClientFixtures.delivered("alice@b.example", "mbx-a1", ALICE_SECRET, "lunch", DELIVERED, "pass", "a.example"));

        Run r = AuthHmacCliTest.run("verify", "--key", bobKey.toString(), aliceCopy.toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("status: no-valid-signature", "mailbox-signature: fail", "reason: wrong-recipient",
                "server-verdict: -", "partner: -");
    }

    @Test
    void reportsAnUnsignedMessageAsNoValidSignatureWithExitOne() throws Exception {
        Path key = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);

        Run r = AuthHmacCliTest.run("verify", "--key", key.toString(), eml(ClientFixtures.unsigned("alice@b.example", "x", DELIVERED)).toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("status: no-valid-signature", "mailbox-signature: none", "reason: no-signature", "signed: -");
    }

    @Test
    void judgesByTheDeliveryTimeGivenNotByTheClock() throws Exception {
        Path key = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);
        Path mail = eml(ClientFixtures.signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, "lunch", DELIVERED));

        Run late = AuthHmacCliTest.run("verify", "--key", key.toString(), "--delivered-at", "2026-11-22T05:00:00Z", mail.toString());

        assertThat(late.exit()).isEqualTo(1);
        assertThat(late.out()).contains("reason: expired");
    }

    @Test
    void refusesUnusableInputWithExitTwo() throws Exception {
        Path key = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);
        Path noReceived = eml("From: a@a.example\r\nSubject: x\r\n\r\nbody\r\n");
        Path badKey = eml("version=1\nkey-id=k\nmailbox=alice@b.example\n");

        Run noDate = AuthHmacCliTest.run("verify", "--key", key.toString(), noReceived.toString());
        Run noKey = AuthHmacCliTest.run("verify", "--key", badKey.toString(), noReceived.toString(), "--delivered-at", "2026-11-22T02:00:00Z");

        assertThat(noDate.exit()).isEqualTo(2);
        assertThat(noDate.err()).contains("--delivered-at");
        assertThat(noKey.exit()).isEqualTo(2);
        assertThat(noKey.err()).contains("no secret");
    }
}
