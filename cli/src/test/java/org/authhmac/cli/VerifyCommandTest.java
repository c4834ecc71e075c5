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

/** auth-hmac verify: offline, with the user's key file; verdict, reason and signing time on stdout, result as exit status. */
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
    void passesAMessageSignedForTheMailboxJudgedAtItsReceivedDate() throws Exception {
        Path key = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);
        Path mail = eml(ClientFixtures.signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, "lunch", DELIVERED));

        Run r = AuthHmacCliTest.run("verify", "--key", key.toString(), mail.toString());

        assertThat(r.exit()).isEqualTo(0);
        assertThat(r.out()).contains("verdict: pass", "reason: verified", "signed: 2026-11-22T02:00:07Z", "key-id: mbx-a1",
                "mailbox: alice@b.example");
    }

    @Test
    void failsAMessageSignedForAnotherMailboxAsWrongRecipientWithExitOne() throws Exception {
        Path bobKey = ClientFixtures.keyFile(dir, "bob@b.example", "mbx-b1", BOB_SECRET);
        Path aliceCopy = eml(ClientFixtures.signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, "lunch", DELIVERED));

        Run r = AuthHmacCliTest.run("verify", "--key", bobKey.toString(), aliceCopy.toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("verdict: fail", "reason: wrong-recipient");
    }

    @Test
    void reportsAnUnsignedMessageAsNoneWithExitOne() throws Exception {
        Path key = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);

        Run r = AuthHmacCliTest.run("verify", "--key", key.toString(), eml(ClientFixtures.unsigned("alice@b.example", "x", DELIVERED)).toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("verdict: none", "reason: no-signature", "signed: -");
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
