package org.authhmac.cli;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import org.authhmac.protocol.client.MailboxKey;
import org.authhmac.protocol.client.MailboxVerdict;
import org.authhmac.protocol.client.MailboxVerifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code auth-hmac imap-guard}: what a mail client add-on would do, on an IMAP account. The first run on a folder (no
 * state file yet) is a dry run unless {@code --apply} is given: it lists what it would move and moves nothing, because
 * on a mailbox that had mail before its key, everything delivered before is unsigned. Exit status: 0 after a
 * completed run (a dry run too), 2 bad input, 75 when the IMAP server cannot be used (try again).
 */
@Command(name = "imap-guard", mixinStandardHelpOptions = true,
        description = "Check new INBOX messages against the user's key and the server's verdict their signature carries; "
                + "move mail without a valid mailbox signature, and mail the server delivered although the partner check failed, "
                + "to Quarantine (or flag it); leave the rest. The first run on a folder is a dry run (it moves nothing) "
                + "unless --apply is given.")
final class ImapGuardCommand implements Callable<Integer> {
    static final String PASSWORD_ENV = "AUTH_HMAC_IMAP_PASSWORD";

    enum Security { TLS, STARTTLS, NONE }

    @Spec
    CommandSpec spec;

    @Option(names = "--host", required = true)
    String host;

    @Option(names = "--port", description = "Default 993 with --security TLS, else 143.")
    Integer port;

    @Option(names = "--security", description = "TLS (default), STARTTLS or NONE (loopback tests only).")
    Security security = Security.TLS;

    @Option(names = "--login", required = true, paramLabel = "NAME", description = "IMAP user name.")
    String login;

    @Option(names = "--password-file", paramLabel = "FILE", description = "File holding the IMAP password (default: environment " + PASSWORD_ENV + ").")
    Path passwordFile;

    @Option(names = "--key", required = true, paramLabel = "FILE", description = "The user's key file; repeat it for older keys after a rotation.")
    List<Path> keys = new ArrayList<>();

    @Option(names = "--mailbox", paramLabel = "ADDRESS", description = "The mailbox address the server binds (default: the key file's).")
    String mailbox;

    @Option(names = "--folder", description = "Folder to check (default INBOX).")
    String folder = "INBOX";

    @Option(names = "--quarantine", description = "Folder failing mail is moved to (default Quarantine; created when missing).")
    String quarantine = "Quarantine";

    @Option(names = "--action", description = "MOVE (default) or FLAG (keyword " + ImapGuard.FAILED_KEYWORD + ", mail stays).")
    ImapGuard.Action action = ImapGuard.Action.MOVE;

    @Option(names = "--check-from", paramLabel = "INSTANT",
            description = "Leave mail delivered before this time alone (ISO-8601): the unsigned mail from before the key was issued. Default: check all.")
    Instant checkFrom;

    @Option(names = "--act-on", split = ",", paramLabel = "STATUS",
            description = "Statuses to move or flag (comma-separated): no-valid-signature (always), partner-failed, "
                    + "sender-unverified, released, server-notice. Default: no-valid-signature,partner-failed.")
    List<String> actOn = List.of(MailboxVerdict.Status.NO_VALID_SIGNATURE.token(), MailboxVerdict.Status.PARTNER_FAILED.token());

    @Option(names = "--watch", description = "Keep running: wait for new mail with IMAP IDLE (or poll) after each round. Default: one round.")
    boolean watch;

    @Option(names = "--apply", description = "Move (or flag) on the first run too. Without it, a run with no state file yet "
            + "is a dry run: it lists what it would move and changes nothing.")
    boolean apply;

    @Option(names = "--dry-run", description = "List what would be moved (or flagged) and change nothing, state file included.")
    boolean dryRun;

    @Option(names = "--state", paramLabel = "FILE", description = "Where the guard records how far it has checked the folder "
            + "(default ~/.local/state/auth-hmac/imap-guard/LOGIN@HOST-PORT-FOLDER.state). Once it exists, runs act "
            + "without --apply and check only mail that arrived since.")
    Path stateFile;

    @Option(names = "--poll-seconds", description = "Polling interval when the server has no IDLE (default 30).")
    long pollSeconds = 30;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        MailboxKey key;
        String password;
        ImapGuard.Settings settings;
        int imapPort = port != null ? port : security == Security.TLS ? 993 : 143;
        Path state = stateFile != null ? stateFile : ImapGuardState.defaultPath(login, host, imapPort, folder);
        Optional<ImapGuard.Checkpoint> resumeFrom;
        String dryRunReason;
        try {
            if (apply && dryRun) {
                throw new IllegalArgumentException("--apply and --dry-run contradict each other");
            }
            key = ClientKeys.load(keys, mailbox);
            password = password();
            Set<MailboxVerdict.Status> statuses = EnumSet.noneOf(MailboxVerdict.Status.class);
            for (String s : actOn) {
                statuses.add(MailboxVerdict.Status.fromToken(s.trim()));
            }
            resumeFrom = ImapGuardState.read(state);
            dryRunReason = dryRun ? "--dry-run"
                    : resumeFrom.isEmpty() && !apply ? "first run on this folder: no state file " + state + " yet" : null;
            settings = new ImapGuard.Settings(folder, quarantine, action, Optional.ofNullable(checkFrom), statuses, dryRunReason != null);
        } catch (IOException | IllegalArgumentException e) {
            err.println("auth-hmac: " + e.getMessage());
            return VerifyCommand.BAD_INPUT;
        }
        Store store = Session.getInstance(sessionProperties()).getStore(security == Security.TLS ? "imaps" : "imap");
        try {
            store.connect(host, imapPort, login, password);
        } catch (MessagingException e) {
            err.println("auth-hmac: cannot log in to " + host + " as " + login + ": " + e.getMessage());
            return VerifyCommand.TEMPERROR;
        }
        String what = folder + " of " + login + " on " + host + ":" + imapPort;
        ImapGuard guard = new ImapGuard(store, new MailboxVerifier(key), settings, out, resumeFrom,
                c -> ImapGuardState.write(state, c, what));
        out.printf("%s %s of %s with key(s) %s; %s%s: %s%n",
                settings.dryRun() ? "DRY RUN (" + dryRunReason + "), nothing will be changed: checking" : "guarding",
                folder, key.mailbox(), key.keyIds(), settings.dryRun() ? "would be " : "",
                action == ImapGuard.Action.MOVE ? "moving to " + quarantine : "flagging",
                settings.actOn().stream().sorted().map(MailboxVerdict.Status::token).toList());
        out.flush();
        try {
            if (settings.dryRun()) {
                List<ImapGuard.Outcome> outcomes = guard.checkNew();
                long would = outcomes.stream().filter(o -> o.action().startsWith("would")).count();
                out.printf("DRY RUN: %d of %d message(s) would be %s; nothing was changed.%n", would, outcomes.size(),
                        action == ImapGuard.Action.MOVE ? "moved to " + quarantine : "flagged");
                if (!dryRun) {
                    out.println("Mail delivered before the mailbox had its key has no mailbox signature. To leave it alone,"
                            + " add --check-from with the key file's created= time; to act on the list above, add --apply."
                            + " After a run with --apply, later runs act without it.");
                }
                if (watch) {
                    out.println("Not watching: a dry run is one round.");
                }
            } else if (watch) {
                Runtime.getRuntime().addShutdownHook(new Thread(guard::stop, "imap-guard-stop"));
                guard.watch(pollSeconds * 1000);
            } else {
                guard.checkNew();
            }
            return 0;
        } catch (MessagingException e) {
            err.println("auth-hmac: IMAP error, nothing was deleted; run again: " + e.getMessage());
            return VerifyCommand.TEMPERROR;
        } finally {
            store.close();
        }
    }

    private String password() throws IOException {
        if (passwordFile != null) {
            return Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
        }
        String env = System.getenv(PASSWORD_ENV);
        if (env == null) {
            throw new IllegalArgumentException("give --password-file or set " + PASSWORD_ENV);
        }
        return env;
    }

    private Properties sessionProperties() {
        Properties p = new Properties();
        for (String proto : List.of("imap", "imaps")) {
            // fetching the message must not mark it \Seen: the guard reads mail the user has not read
            p.setProperty("mail." + proto + ".peek", "true");
            p.setProperty("mail." + proto + ".connectiontimeout", "20000");
            p.setProperty("mail." + proto + ".timeout", "60000");
        }
        if (security == Security.STARTTLS) {
            p.setProperty("mail.imap.starttls.enable", "true");
            p.setProperty("mail.imap.starttls.required", "true");
        }
        if (security != Security.NONE) {
            p.setProperty("mail.imap.ssl.checkserveridentity", "true");
            p.setProperty("mail.imaps.ssl.checkserveridentity", "true");
        }
        return p;
    }
}
