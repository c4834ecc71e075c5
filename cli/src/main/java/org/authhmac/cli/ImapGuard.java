package org.authhmac.cli;

import jakarta.mail.FetchProfile;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.client.MailboxVerdict;
import org.authhmac.protocol.client.MailboxVerifier;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPStore;

/**
 * The reference behaviour for a mail client: each new INBOX message is verified against the user's key, as of
 * its INTERNALDATE (when the server stored it), and the server's verdict is read from that signature only
 * ({@link MailboxVerdict}). Mail whose status is in {@link Settings#actOn()} (by default: no valid mailbox signature,
 * and mail the server delivered although the partner check failed) is moved to the quarantine folder, or flagged in
 * place, and reported; the rest stays and is reported with its status. Nothing is ever deleted. Temperror stays and
 * is tried again on the next round. A dry run ({@link Settings#dryRun()}) reports what it would move or flag and
 * changes nothing. After each round that acted, the guard hands its {@link Checkpoint} to its {@link Progress}, and a
 * guard resumed from one checks only the mail that arrived after it.
 */
final class ImapGuard {
    /** The keyword set on failing mail in flag mode (and on any mail moved to quarantine, so a client can show why). */
    static final String FAILED_KEYWORD = "$AuthHmacFailed";

    enum Action { MOVE, FLAG }

    /**
     * What the guard moves (or flags) unless told otherwise: mail without a valid mailbox signature (nobody can tell
     * where it came from: appended, copied from another mailbox, edited in the store) and mail the server delivered
     * although the partner check failed (mark mode). Mail the server delivered without verifying the sender, mail an
     * administrator released and the server's own notices stay: the server did not miss them, it said what they are.
     */
    static final Set<MailboxVerdict.Status> DEFAULT_ACT_ON =
            EnumSet.of(MailboxVerdict.Status.NO_VALID_SIGNATURE, MailboxVerdict.Status.PARTNER_FAILED);

    /**
     * @param checkFrom messages delivered before this instant are left alone: the mail that was already there when the
     *                  mailbox got its key is unsigned. Empty checks everything. An IMAP client can APPEND with any
     *                  INTERNALDATE, so a forgery dated before it would be left alone too: keep it as late as possible.
     * @param dryRun    report what would be moved or flagged, and move, flag and record nothing
     */
    record Settings(String inbox, String quarantine, Action action, Optional<Instant> checkFrom, Set<MailboxVerdict.Status> actOn,
                    boolean dryRun) {
        Settings {
            Objects.requireNonNull(inbox, "inbox");
            Objects.requireNonNull(quarantine, "quarantine");
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(checkFrom, "checkFrom");
            actOn = Set.copyOf(actOn);
            if (!actOn.contains(MailboxVerdict.Status.NO_VALID_SIGNATURE)) {
                throw new IllegalArgumentException("the guard always acts on " + MailboxVerdict.Status.NO_VALID_SIGNATURE.token()
                        + ": that is the mail nobody can vouch for");
            }
            if (actOn.contains(MailboxVerdict.Status.PARTNER_VERIFIED) || actOn.contains(MailboxVerdict.Status.TEMPERROR)) {
                throw new IllegalArgumentException("the guard never acts on " + MailboxVerdict.Status.PARTNER_VERIFIED.token()
                        + " or " + MailboxVerdict.Status.TEMPERROR.token());
            }
        }

        Settings(String inbox, String quarantine, Action action, Optional<Instant> checkFrom) {
            this(inbox, quarantine, action, checkFrom, DEFAULT_ACT_ON, false);
        }

        Settings(String inbox, String quarantine, Action action) {
            this(inbox, quarantine, action, Optional.empty());
        }
    }

    /**
     * How far the guard got in one folder: every message up to {@code lastUid} of this UID space has been checked and
     * dealt with (a temperror, or a message without INTERNALDATE, holds it below that message).
     */
    record Checkpoint(long uidValidity, long lastUid) {
    }

    /** Where an acting guard records its {@link Checkpoint} after each round. */
    interface Progress {
        Progress NONE = c -> { };

        void save(Checkpoint checkpoint) throws IOException;
    }

    /** What happened to one message. */
    record Outcome(long uid, String messageId, MailboxVerdict verdict, String action) {
        String line() {
            Verdict signature = verdict.signature();
            return "uid=" + uid + " message-id=" + messageId + " status=" + verdict.status().token()
                    + verdict.partnerDomain().map(d -> " partner=" + d).orElse("")
                    + " signature=" + signature.result().token() + " reason=" + signature.reason().token() + " action=" + action;
        }
    }

    private final Store store;
    private final MailboxVerifier verifier;
    private final Settings settings;
    private final PrintWriter log;
    private final Progress progress;
    private Optional<Checkpoint> resumeFrom;
    private long uidValidity = -1;
    private long lastUid;
    /** The lowest UID left unchecked in this UID space (temperror, no INTERNALDATE); the checkpoint stays below it. */
    private long firstUnsettled = Long.MAX_VALUE;
    private volatile boolean stopped;
    private volatile IMAPFolder idling;

    ImapGuard(Store store, MailboxVerifier verifier, Settings settings, PrintWriter log) {
        this(store, verifier, settings, log, Optional.empty(), Progress.NONE);
    }

    /**
     * @param resumeFrom where an earlier run stopped (from the state file), or empty for a guard that has never run on
     *                   this folder; ignored when the folder's UIDVALIDITY is no longer the one it names
     * @param progress   told the checkpoint after each round that was not a dry run
     */
    ImapGuard(Store store, MailboxVerifier verifier, Settings settings, PrintWriter log, Optional<Checkpoint> resumeFrom,
              Progress progress) {
        this.store = store;
        this.verifier = verifier;
        this.settings = settings;
        this.log = log;
        this.resumeFrom = Objects.requireNonNull(resumeFrom, "resumeFrom");
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /** How far this guard has got, once it has run a round. */
    Optional<Checkpoint> checkpoint() {
        return uidValidity == -1 ? Optional.empty()
                : Optional.of(new Checkpoint(uidValidity, Math.min(lastUid, firstUnsettled - 1)));
    }

    /** Checks every message that arrived since the last round (all of INBOX on the first round, unless resumed). */
    List<Outcome> checkNew() throws MessagingException, IOException {
        IMAPFolder inbox = (IMAPFolder) store.getFolder(settings.inbox());
        inbox.open(Folder.READ_WRITE);
        try {
            return checkNew(inbox);
        } finally {
            closeQuietly(inbox);
        }
    }

    private List<Outcome> checkNew(IMAPFolder inbox) throws MessagingException, IOException {
        if (inbox.getUIDValidity() != uidValidity) {
            // a new UID space: everything in it is unchecked, unless an earlier run checked it up to a point
            uidValidity = inbox.getUIDValidity();
            lastUid = 0;
            firstUnsettled = Long.MAX_VALUE;
            if (resumeFrom.isPresent()) {
                Checkpoint c = resumeFrom.get();
                if (c.uidValidity() == uidValidity) {
                    lastUid = c.lastUid();
                } else {
                    log.println("UIDVALIDITY of " + settings.inbox() + " is now " + uidValidity + ", not " + c.uidValidity()
                            + " as when the guard last ran: checking every message in it");
                }
                resumeFrom = Optional.empty();
            }
        }
        Message[] fresh = inbox.getMessagesByUID(lastUid + 1, UIDFolder.MAXUID);
        FetchProfile fp = new FetchProfile();
        fp.add(UIDFolder.FetchProfileItem.UID);
        fp.add(FetchProfile.Item.ENVELOPE); // INTERNALDATE
        inbox.fetch(fresh, fp);
        List<Outcome> outcomes = new ArrayList<>();
        List<Message> failing = new ArrayList<>();
        for (Message m : fresh) {
            if (m == null) {
                continue;
            }
            long uid = inbox.getUID(m);
            if (uid <= lastUid) {
                continue; // "n:*" always returns the last message, even when it is older than n
            }
            java.util.Date internalDate = m.getReceivedDate();
            if (internalDate == null) {
                // without the delivery time no window can be judged: leave it, say so, and look again next round
                log.println("uid=" + uid + " message-id=" + messageId(m) + " action=kept (the server gave no INTERNALDATE)");
                firstUnsettled = Math.min(firstUnsettled, uid);
                continue;
            }
            Instant delivered = internalDate.toInstant();
            if (settings.checkFrom().isPresent() && delivered.isBefore(settings.checkFrom().get())) {
                log.println("uid=" + uid + " message-id=" + messageId(m) + " delivered=" + delivered
                        + " action=skipped (delivered before " + settings.checkFrom().get() + ")");
                lastUid = Math.max(lastUid, uid);
                continue;
            }
            MailboxVerdict v = verify(m, delivered);
            String action;
            if (v.status() == MailboxVerdict.Status.TEMPERROR) {
                action = "kept (temporary error, checked again next round)";
                firstUnsettled = Math.min(firstUnsettled, uid);
            } else if (settings.actOn().contains(v.status())) {
                failing.add(m);
                action = (settings.dryRun() ? "would be " : "")
                        + (settings.action() == Action.MOVE ? "moved to " + settings.quarantine() : "flagged " + FAILED_KEYWORD);
            } else {
                action = "kept";
            }
            Outcome o = new Outcome(uid, messageId(m), v, action);
            outcomes.add(o);
            log.println(o.line());
            if (v.status() != MailboxVerdict.Status.TEMPERROR) {
                lastUid = Math.max(lastUid, uid);
            }
        }
        if (settings.dryRun()) {
            log.flush();
            return outcomes;
        }
        if (!failing.isEmpty()) {
            act(inbox, failing.toArray(Message[]::new));
        }
        log.flush();
        progress.save(checkpoint().orElseThrow());
        return outcomes;
    }

    private MailboxVerdict verify(Message m, Instant delivered) throws MessagingException, IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        m.writeTo(raw); // BODY.PEEK[]: the raw stored bytes, without setting \Seen
        return verifier.verify(raw.toByteArray(), delivered);
    }

    private void act(IMAPFolder inbox, Message[] failing) throws MessagingException {
        inbox.setFlags(failing, new Flags(FAILED_KEYWORD), true);
        if (settings.action() == Action.FLAG) {
            return;
        }
        Folder quarantine = store.getFolder(settings.quarantine());
        if (!quarantine.exists() && !quarantine.create(Folder.HOLDS_MESSAGES)) {
            throw new MessagingException("cannot create folder " + settings.quarantine() + "; nothing was moved");
        }
        // MOVE where the server has it; otherwise Angus copies, then marks the originals \Deleted (a copy exists first)
        inbox.moveMessages(failing, quarantine);
    }

    /** Rounds until {@link #stop()}: after each, waits with IMAP IDLE (or polls when the server has no IDLE). */
    void watch(long pollMillis) throws MessagingException, IOException, InterruptedException {
        boolean idle = ((IMAPStore) store).hasCapability("IDLE");
        while (!stopped) {
            IMAPFolder inbox = (IMAPFolder) store.getFolder(settings.inbox());
            inbox.open(Folder.READ_WRITE);
            try {
                checkNew(inbox);
                if (stopped) {
                    return;
                }
                if (idle) {
                    idling = inbox;
                    inbox.idle(true); // returns on the first untagged response: new mail, expunge, flags
                    idling = null;
                } else {
                    Thread.sleep(pollMillis);
                }
            } catch (MessagingException e) {
                if (stopped) {
                    return;
                }
                throw e;
            } finally {
                idling = null;
                closeQuietly(inbox);
            }
        }
    }

    void stop() {
        stopped = true;
        IMAPFolder f = idling;
        if (f != null) {
            try {
                f.close(false);
            } catch (MessagingException | IllegalStateException e) {
                // closing is how IDLE is interrupted; the loop ends either way
            }
        }
    }

    private static String messageId(Message m) {
        try {
            String[] ids = m.getHeader("Message-ID");
            return ids == null || ids.length == 0 ? "-" : ids[0].trim();
        } catch (MessagingException e) {
            return "-";
        }
    }

    private static void closeQuietly(Folder f) {
        try {
            if (f.isOpen()) {
                f.close(false); // never expunge: moving is MOVE, and nothing here deletes
            }
        } catch (MessagingException e) {
            // the round's work is done; the next round reopens
        }
    }
}
