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
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.authhmac.cli.AuthHmacCliTest.Run;
import org.authhmac.protocol.client.MailboxKey;
import org.authhmac.protocol.client.MailboxVerifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
    /**
     * When the test's mail is dated, delivered and signed. GreenMail 2.1.3 reads an APPEND's INTERNALDATE with the
     * 12-hour pattern "hh" and no AM/PM, so a time from 12:00 to 12:59 (in this JVM's zone, which jakarta.mail writes
     * it in) is stored 12 hours early and every signature looks 12 hours ahead of its delivery; in that hour the
     * test dates its mail an hour back.
     */
    final Instant now = outsideGreenMailsNoon(Instant.now().truncatedTo(ChronoUnit.SECONDS));

    static Instant outsideGreenMailsNoon(Instant t) {
        return t.atZone(ZoneId.systemDefault()).getHour() == 12 ? t.minus(1, ChronoUnit.HOURS) : t;
    }

    /** The guard keeps its state file under the user's home: here, a folder of the test's own. */
    String realHome;
    Path home;

    @BeforeEach
    void setUp() throws Exception {
        realHome = System.getProperty("user.home");
        home = Files.createDirectories(dir.resolve("home"));
        System.setProperty("user.home", home.toString());
        greenMail.setUser("alice@b.example", "alice", "secret-pw");
        aliceKey = ClientFixtures.keyFile(dir, "alice@b.example", "mbx-a1", ALICE_SECRET);
        password = dir.resolve("pw");
        Files.writeString(password, "secret-pw\n");
    }

    @AfterEach
    void restoreHome() {
        System.setProperty("user.home", realHome);
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

    /** Mail alice's server delivered to her with the verdict {@code sv} (and {@code pd} for pass). */
    String delivered(String subject, String sv, String pd) throws Exception {
        return ClientFixtures.delivered("alice@b.example", "mbx-a1", ALICE_SECRET, subject, now, sv, pd);
    }

    /** Where the guard keeps its state for alice's INBOX unless told otherwise. */
    Path defaultStateFile() {
        return home.resolve(".local/state/auth-hmac/imap-guard/alice@127.0.0.1-" + greenMail.getImap().getPort() + "-INBOX.state");
    }

    @Test
    void theFirstRunIsADryRunThatListsWhatItWouldMoveAndMovesNothing() throws Exception {
        // given a mailbox that had mail before it had a key: a partner's mail and the server's own notice, unsigned
        // (delivered before the key existed), mail signed since, and an appended forgery
        append(ClientFixtures.unsigned("alice@b.example", "partner mail from last week", now.minusSeconds(7 * 86_400)));
        append(ClientFixtures.unsigned("alice@b.example", "server notice from yesterday", now.minusSeconds(86_400)));
        append(delivered("genuine", "pass", "a.example"));
        append(ClientFixtures.unsigned("alice@b.example", "forged", now));

        // when the guard runs for the first time, as the docs' first command runs it
        Run r = guard();

        // then it moves nothing, says what it would move and how to go on, and records nothing
        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(subjects("INBOX")).containsExactly("partner mail from last week", "server notice from yesterday", "genuine", "forged");
        assertThat(subjects("Quarantine")).isEmpty();
        assertThat(r.out()).contains("DRY RUN (first run on this folder: no state file " + defaultStateFile() + " yet)",
                "status=no-valid-signature signature=none reason=no-signature action=would be moved to Quarantine",
                "status=partner-verified partner=a.example signature=pass reason=verified action=kept",
                "DRY RUN: 3 of 4 message(s) would be moved to Quarantine; nothing was changed.", "--check-from", "--apply");
        assertThat(defaultStateFile()).doesNotExist();
        try (Store s = aliceStore()) {
            Folder inbox = s.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            for (Message m : inbox.getMessages()) {
                assertThat(m.getFlags().contains(ImapGuard.FAILED_KEYWORD)).as("a dry run flags nothing").isFalse();
            }
        }
    }

    @Test
    void aFirstRunWithCheckFromIsStillADryRunAndSkipsTheOldMail() throws Exception {
        append(ClientFixtures.unsigned("alice@b.example", "old partner mail", now.minusSeconds(86_400)));
        append(ClientFixtures.unsigned("alice@b.example", "forged", now));

        Run r = guard("--check-from", now.minusSeconds(60).toString());

        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(subjects("INBOX")).containsExactly("old partner mail", "forged");
        assertThat(r.out()).contains("action=skipped (delivered before", "action=would be moved to Quarantine",
                "DRY RUN: 1 of 1 message(s) would be moved");
    }

    @Test
    void afterARunWithApplyLaterRunsActWithoutItOnTheMailThatArrivedSince() throws Exception {
        append(delivered("genuine", "pass", "a.example"));
        append(ClientFixtures.unsigned("alice@b.example", "forged", now));

        Run first = guard("--apply");
        append(ClientFixtures.unsigned("alice@b.example", "later forgery", now));
        Run second = guard();

        assertThat(first.exit()).as(first.err()).isEqualTo(0);
        assertThat(second.exit()).as(second.err()).isEqualTo(0);
        assertThat(defaultStateFile()).exists();
        assertThat(subjects("INBOX")).containsExactly("genuine");
        assertThat(subjects("Quarantine")).containsExactly("forged", "later forgery");
        assertThat(second.out()).startsWith("guarding INBOX").doesNotContain("DRY RUN")
                .contains("uid=3 ").doesNotContain("uid=1 ").doesNotContain("uid=2 ");
    }

    @Test
    void aDryRunAfterwardsChangesNeitherTheMailboxNorTheStateFileAndApplyWithDryRunIsRefused() throws Exception {
        Path state = dir.resolve("guard.state");
        append(delivered("genuine", "pass", "a.example"));
        guard("--apply", "--state", state.toString());
        String recorded = Files.readString(state);
        append(ClientFixtures.unsigned("alice@b.example", "forged", now));

        Run dry = guard("--dry-run", "--state", state.toString());
        Run both = guard("--dry-run", "--apply", "--state", state.toString());

        assertThat(dry.exit()).as(dry.err()).isEqualTo(0);
        assertThat(dry.out()).contains("DRY RUN (--dry-run)", "uid=2 ", "action=would be moved to Quarantine").doesNotContain("uid=1 ");
        assertThat(subjects("INBOX")).containsExactly("genuine", "forged");
        assertThat(Files.readString(state)).isEqualTo(recorded).contains("last-uid=1");
        assertThat(both.exit()).isEqualTo(VerifyCommand.BAD_INPUT);
        assertThat(both.err()).contains("--apply and --dry-run");
        assertThat(defaultStateFile()).doesNotExist();
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a guard that watches never returns
    void aFirstRunAskedToWatchDoesOneDryRoundAndStops() throws Exception {
        append(ClientFixtures.unsigned("alice@b.example", "old mail", now.minusSeconds(86_400)));

        Run r = guard("--watch");

        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(subjects("INBOX")).containsExactly("old mail");
        assertThat(r.out()).contains("action=would be moved to Quarantine", "Not watching: a dry run is one round.");
    }

    @Test
    void leavesValidMailAndMovesTheForgeryAndBobsCopyToQuarantine() throws Exception {
        // given alice's INBOX holds her delivered mail, an unsigned APPEND forgery and a copy of mail signed for bob
        append(delivered("genuine", "pass", "a.example"));
        append(ClientFixtures.unsigned("alice@b.example", "forged", now));
        append(ClientFixtures.delivered("bob@b.example", "mbx-b1", BOB_SECRET, "bobs", now, "pass", "a.example"));

        // when the guard runs once
        Run r = guard("--apply");

        // then
        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).as("guard output").contains("uid=3");
        assertThat(subjects("INBOX")).containsExactly("genuine");
        assertThat(subjects("Quarantine")).containsExactlyInAnyOrder("forged", "bobs");
        assertThat(r.out()).contains("status=partner-verified partner=a.example signature=pass reason=verified action=kept",
                "status=no-valid-signature signature=none reason=no-signature action=moved to Quarantine",
                "status=no-valid-signature signature=fail reason=wrong-recipient action=moved to Quarantine");
    }

    @Test
    void showsEachServerVerdictAndByDefaultMovesOnlyTheMarkModeFailureOfThoseTheServerDelivered() throws Exception {
        // given alice's server delivered, each with its verdict: ordinary mail, a mark-mode failure, a released
        // forgery, its own notice, and a mail whose sender put a pass claim in Authentication-Results
        append(delivered("from outside", "none", null));
        append(delivered("marked failure", "fail", null));
        append(delivered("released forgery", "released", null));
        append(delivered("notice", "notice", null));
        append("Authentication-Results: mx.b.example; auth-hmac=pass header.d=a.example\r\n" + delivered("claims pass", "none", null));

        // when the guard runs with its default policy
        Run r = guard("--apply");

        // then none of them is shown as verified from a partner; only the failure is moved
        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).doesNotContain("status=partner-verified")
                .contains("status=sender-unverified signature=pass reason=verified action=kept",
                        "status=partner-failed signature=pass reason=verified action=moved to Quarantine",
                        "status=released signature=pass reason=verified action=kept",
                        "status=server-notice signature=pass reason=verified action=kept");
        assertThat(subjects("INBOX")).containsExactly("from outside", "released forgery", "notice", "claims pass");
        assertThat(subjects("Quarantine")).containsExactly("marked failure");
    }

    @Test
    void movesMoreStatusesWhenToldToAndRefusesAPolicyThatWouldLetForgeriesStay() throws Exception {
        append(delivered("from outside", "none", null));
        append(delivered("released forgery", "released", null));
        append(delivered("genuine", "pass", "a.example"));

        Run strict = guard("--apply", "--act-on", "no-valid-signature,partner-failed,sender-unverified,released");
        Run lax = guard("--act-on", "partner-failed");

        assertThat(strict.exit()).as(strict.err()).isEqualTo(0);
        assertThat(subjects("INBOX")).containsExactly("genuine");
        assertThat(subjects("Quarantine")).containsExactly("from outside", "released forgery");
        assertThat(lax.exit()).isEqualTo(VerifyCommand.BAD_INPUT);
        assertThat(lax.err()).contains("always acts on no-valid-signature");
    }

    @Test
    void flagsFailingMailInPlaceWhenAskedAndDeletesNothing() throws Exception {
        append(delivered("genuine", "pass", "a.example"));
        append(ClientFixtures.unsigned("alice@b.example", "forged", now));

        Run r = guard("--apply", "--action", "FLAG");

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
        String mail = delivered("once", "pass", "a.example");
        append(mail);
        append(mail);

        Run r = guard("--apply");

        assertThat(subjects("INBOX")).containsExactly("once");
        assertThat(subjects("Quarantine")).containsExactly("once");
        assertThat(r.out()).contains("reason=replay");
    }

    @Test
    void keepsWatchingAndQuarantinesAForgeryThatArrivesLater() throws Exception {
        append(delivered("genuine", "pass", "a.example"));
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
                awaitLog(log, "status=partner-verified", Duration.ofSeconds(10));
                append(ClientFixtures.unsigned("alice@b.example", "late forgery", now));
                awaitLog(log, "status=no-valid-signature", Duration.ofSeconds(10));
            } finally {
                guard.stop();
                watcher.join(10_000);
            }
            assertThat(watcher.isAlive()).isFalse();
        }
        assertThat(subjects("Quarantine")).containsExactly("late forgery");
        assertThat(subjects("INBOX")).containsExactly("genuine");
        assertThat(log.toString()).containsOnlyOnce("status=partner-verified").doesNotContain("watch failed");
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

        Run r = guard("--apply", "--check-from", keyIssued.toString());

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
