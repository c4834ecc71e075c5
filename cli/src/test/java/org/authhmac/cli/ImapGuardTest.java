package org.authhmac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.cli.ClientFixtures.ALICE_SECRET;
import static org.authhmac.cli.ClientFixtures.BOB_SECRET;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.authhmac.cli.AuthHmacCliTest.Run;
import org.authhmac.protocol.client.MailboxKey;
import org.authhmac.protocol.client.MailboxVerifier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** auth-hmac imap-guard against a real IMAP server (GreenMail): valid mail stays, the rest is moved or flagged, nothing is deleted. */
class ImapGuardTest {
    @RegisterExtension
    static GreenMailExtension greenMail = new GreenMailExtension(ServerSetupTest.SMTP_IMAP);

    @TempDir
    Path dir;
    Path aliceKey;
    Path password;
    final Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    @BeforeEach
    void setUp() throws Exception {
        greenMail.setUser("alice@b.example", "alice", "secret-pw");
        aliceKey = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);
        password = dir.resolve("pw");
        Files.writeString(password, "secret-pw\n");
    }

    Store aliceStore() throws Exception {
        Properties p = new Properties();
        p.setProperty("mail.imap.peek", "true");
        Store s = Session.getInstance(p).getStore("imap");
        s.connect("127.0.0.1", greenMail.getImap().getPort(), "alice", "secret-pw");
        return s;
    }

    /** IMAP APPEND: how a message gets into a mailbox without delivery (a forgery, or a copy from elsewhere). */
    void append(String raw) throws Exception {
        try (Store s = aliceStore()) {
            Folder inbox = s.getFolder("INBOX");
            inbox.appendMessages(new Message[] {new MimeMessage(Session.getInstance(new Properties()),
                    new ByteArrayInputStream(raw.getBytes(StandardCharsets.US_ASCII)))});
        }
    }

    List<String> subjects(String folder) throws Exception {
        try (Store s = aliceStore()) {
            Folder f = s.getFolder(folder);
            if (!f.exists()) {
                return List.of();
            }
            f.open(Folder.READ_ONLY);
            List<String> out = new ArrayList<>();
            for (Message m : f.getMessages()) {
                out.add(m.getSubject());
            }
            f.close(false);
            return out;
        }
    }

    Run guard(String... extra) {
        List<String> args = new ArrayList<>(List.of("imap-guard", "--host", "127.0.0.1", "--port",
                Integer.toString(greenMail.getImap().getPort()), "--security", "NONE", "--login", "alice",
                "--password-file", password.toString(), "--key", aliceKey.toString()));
        args.addAll(List.of(extra));
        return AuthHmacCliTest.run(args.toArray(String[]::new));
    }

    @Test
    void leavesValidMailAndMovesTheForgeryAndBobsCopyToQuarantine() throws Exception {
        // given alice's INBOX holds her signed mail, an unsigned APPEND forgery and a copy of mail signed for bob
        append(ClientFixtures.signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, "genuine", now));
        append(ClientFixtures.unsigned("alice@b.example", "forged", now));
        append(ClientFixtures.signedFor("bob@b.example", "mbx-b1", BOB_SECRET, "bobs", now));

        // when the guard runs once
        Run r = guard();

        // then
        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).as("guard output").contains("uid=3");
        assertThat(subjects("INBOX")).containsExactly("genuine");
        assertThat(subjects("Quarantine")).containsExactlyInAnyOrder("forged", "bobs");
        assertThat(r.out()).contains("verdict=pass reason=verified action=kept",
                "verdict=none reason=no-signature action=moved to Quarantine",
                "verdict=fail reason=wrong-recipient action=moved to Quarantine");
    }

    @Test
    void flagsFailingMailInPlaceWhenAskedAndDeletesNothing() throws Exception {
        append(ClientFixtures.signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, "genuine", now));
        append(ClientFixtures.unsigned("alice@b.example", "forged", now));

        Run r = guard("--action", "FLAG");

        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(subjects("INBOX")).containsExactly("genuine", "forged");
        assertThat(subjects("Quarantine")).isEmpty();
        try (Store s = aliceStore()) {
            Folder inbox = s.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            assertThat(inbox.getMessage(1).getFlags().contains(ImapGuard.FAILED_KEYWORD)).isFalse();
            assertThat(inbox.getMessage(2).getFlags().contains(ImapGuard.FAILED_KEYWORD)).isTrue();
            assertThat(inbox.getMessage(1).getFlags().contains(Flags.Flag.SEEN)).as("the guard does not read mail for the user").isFalse();
        }
    }

    @Test
    void aSecondCopyOfOneDeliveredMessageIsAReplay() throws Exception {
        String mail = ClientFixtures.signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, "once", now);
        append(mail);
        append(mail);

        Run r = guard();

        assertThat(subjects("INBOX")).containsExactly("once");
        assertThat(subjects("Quarantine")).containsExactly("once");
        assertThat(r.out()).contains("reason=replay");
    }

    @Test
    void keepsWatchingAndQuarantinesAForgeryThatArrivesLater() throws Exception {
        append(ClientFixtures.signedFor("alice@b.example", "mbx-a1", ALICE_SECRET, "genuine", now));
        StringWriter log = new StringWriter();
        try (Store store = aliceStore()) {
            ImapGuard guard = new ImapGuard(store, new MailboxVerifier(MailboxKey.parse(Files.readString(aliceKey))),
                    new ImapGuard.Settings("INBOX", "Quarantine", ImapGuard.Action.MOVE), new PrintWriter(log, true));
            Thread watcher = new Thread(() -> {
                try {
                    guard.watch(200);
                } catch (Exception e) {
                    log.append("watch failed: ").append(String.valueOf(e));
                }
            });
            watcher.start();
            try {
                awaitLog(log, "verdict=pass", Duration.ofSeconds(10));
                append(ClientFixtures.unsigned("alice@b.example", "late forgery", now));
                awaitLog(log, "verdict=none", Duration.ofSeconds(10));
            } finally {
                guard.stop();
                watcher.join(10_000);
            }
            assertThat(watcher.isAlive()).isFalse();
        }
        assertThat(subjects("Quarantine")).containsExactly("late forgery");
        assertThat(subjects("INBOX")).containsExactly("genuine");
        assertThat(log.toString()).containsOnlyOnce("verdict=pass").doesNotContain("watch failed");
    }

    static void awaitLog(StringWriter log, String text, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!log.toString().contains(text)) {
            if (System.nanoTime() > end) {
                throw new AssertionError("no '" + text + "' within " + timeout + "; log:\n" + log);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void leavesMailDeliveredBeforeTheKeyExistedAloneWhenToldWhenToStart() throws Exception {
        Instant keyIssued = now.minusSeconds(60);
        append(ClientFixtures.unsigned("alice@b.example", "old newsletter", now.minusSeconds(86_400)));
        append(ClientFixtures.unsigned("alice@b.example", "new forgery", now));

        Run r = guard("--check-from", keyIssued.toString());

        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(subjects("INBOX")).containsExactly("old newsletter");
        assertThat(subjects("Quarantine")).containsExactly("new forgery");
        assertThat(r.out()).contains("action=skipped (delivered before " + keyIssued + ")");
    }

    @Test
    void aWrongPasswordIsATemporaryErrorAndTouchesNothing() throws Exception {
        Files.writeString(password, "wrong");
        append(ClientFixtures.unsigned("alice@b.example", "forged", now));

        Run r = guard();

        assertThat(r.exit()).isEqualTo(75);
        assertThat(r.err()).contains("cannot log in");
        assertThat(subjects("INBOX")).containsExactly("forged");
    }
}
