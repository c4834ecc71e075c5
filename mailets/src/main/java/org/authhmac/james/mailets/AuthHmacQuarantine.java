package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.rrt.api.RecipientRewriteTable;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetException;
import org.apache.mailet.base.GenericMailet;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.protocol.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to mail that failed X-Auth-HMAC validation: {@code quarantine} (store it in a mail repository with
 * the verdict attributes, releasable through WebAdmin), {@code mark} (header and subject tag, then deliver) or
 * {@code delete}. A marked mail goes on to {@code releaseProcessor}, the processor after validation. Every held mail gets one audit line, written whatever the repository does; each local mailbox it
 * was for, and the postmaster, can be told ({@link QuarantineNotice}, at most {@code noticesPerHour} per mailbox).
 *
 * <p>Sample configuration (james-conf/ ships the full one; docs/CONFIGURATION.md describes every parameter):
 * <pre>
 * &lt;mailet match="org.authhmac.james.matchers.AuthHmacFailed=partners=a.example:a-b; authservId=mx.b.example"
 *         class="org.authhmac.james.mailets.AuthHmacQuarantine"&gt;
 *   &lt;action&gt;quarantine&lt;/action&gt;
 *   &lt;repositoryPath&gt;file://var/mail/auth-hmac-quarantine/&lt;/repositoryPath&gt;
 *   &lt;notifyRecipients&gt;true&lt;/notifyRecipients&gt;
 *   &lt;notifyPostmaster&gt;true&lt;/notifyPostmaster&gt;
 *   &lt;noticeProcessor&gt;local-delivery&lt;/noticeProcessor&gt;
 *   &lt;noticesPerHour&gt;10&lt;/noticesPerHour&gt;
 *   &lt;releaseProcessor&gt;transport&lt;/releaseProcessor&gt;
 *   &lt;onMatchException&gt;auth-hmac-verify-retry&lt;/onMatchException&gt;
 *   &lt;onMailetException&gt;auth-hmac-hold&lt;/onMailetException&gt;
 * &lt;/mailet&gt;
 * </pre>
 */
public class AuthHmacQuarantine extends GenericMailet {
    /** Audit log: one line per held, marked or deleted mail; never key material. */
    public static final org.slf4j.Logger AUDIT = AuditLine.AUDIT;
    private static final Logger LOGGER = LoggerFactory.getLogger(AuthHmacQuarantine.class);
    static final String DEFAULT_REPOSITORY = "memory://var/mail/auth-hmac-quarantine/";
    static final String DEFAULT_MARK_HEADER = "X-Auth-HMAC-Status";
    static final String DEFAULT_SUBJECT_TAG = "[AUTH-HMAC FAILED]";
    static final String DEFAULT_RELEASE_PROCESSOR = "transport";
    static final String DEFAULT_NOTICE_PROCESSOR = "local-delivery";
    static final int DEFAULT_NOTICES_PER_HOUR = 10;
    /** The value of {@link AuthHmacAttributes#NOTICE} on the notices this mailet writes. */
    static final String NOTICE_KIND = "quarantine";
    /** Mailboxes whose notice count the mailet remembers at once (about 100 bytes each). */
    static final int NOTICE_WINDOWS = 100_000;
    static final Set<String> PARAMETERS = Set.of("action", "repositoryPath", "markHeader", "subjectTag",
            "notifyRecipients", "notifyRecipientsOfReplay", "notifyPostmaster", "releaseProcessor", "webAdminUrl",
            "noticeProcessor", "noticesPerHour");

    /** The three ways to deal with a failing mail. */
    public enum Action { QUARANTINE, MARK, DELETE }

    private final MailRepositoryStore repositoryStore;
    private final Metrics metrics;
    private final Clock clock;
    private final LocalMailboxesFactory localMailboxesFactory;

    private Action action;
    private MailRepositoryUrl repositoryUrl;
    private MailRepository repository;
    private String markHeader;
    private String subjectTag;
    private boolean notifyRecipients;
    private boolean notifyRecipientsOfReplay;
    private boolean notifyPostmaster;
    private ReleaseCommand releaseCommand;
    private String releaseProcessor;
    private String noticeProcessor;
    private NoticeLimiter limiter;
    private LocalMailboxes localMailboxes;

    /** How the local mailboxes of a recipient are found, once the mailet context is known. */
    @FunctionalInterface
    interface LocalMailboxesFactory {
        LocalMailboxes create(org.apache.mailet.MailetContext context);
    }

    @Inject
    public AuthHmacQuarantine(MailRepositoryStore repositoryStore, MetricFactory metricFactory, RecipientRewriteTable rrt) {
        this(repositoryStore, metricFactory, Clock.systemUTC(),
                context -> LocalMailboxes.resolvedBy(rrt, context::isLocalEmail));
    }

    AuthHmacQuarantine(MailRepositoryStore repositoryStore, MetricFactory metricFactory, Clock clock,
                       LocalMailboxesFactory localMailboxesFactory) {
        this.repositoryStore = repositoryStore;
        this.metrics = new Metrics(metricFactory);
        this.clock = clock;
        this.localMailboxesFactory = localMailboxesFactory;
    }

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        action = Parameters.choice("action", getInitParameter("action"), Action.class, Action.QUARANTINE);
        markHeader = Parameters.headerName("markHeader", getInitParameter("markHeader"), DEFAULT_MARK_HEADER);
        subjectTag = Optional.ofNullable(getInitParameter("subjectTag")).orElse(DEFAULT_SUBJECT_TAG).trim();
        notifyRecipients = Parameters.bool("notifyRecipients", getInitParameter("notifyRecipients"), false);
        notifyRecipientsOfReplay = Parameters.bool("notifyRecipientsOfReplay", getInitParameter("notifyRecipientsOfReplay"), false);
        notifyPostmaster = Parameters.bool("notifyPostmaster", getInitParameter("notifyPostmaster"), false);
        releaseProcessor = Parameters.processor(getInitParameter("releaseProcessor"), DEFAULT_RELEASE_PROCESSOR);
        String webAdminUrl = Parameters.processor(getInitParameter("webAdminUrl"), "http://127.0.0.1:8000");
        noticeProcessor = Parameters.processor(getInitParameter("noticeProcessor"), DEFAULT_NOTICE_PROCESSOR);
        limiter = new NoticeLimiter(Parameters.integer("noticesPerHour", getInitParameter("noticesPerHour"),
                DEFAULT_NOTICES_PER_HOUR, 1, 10_000), NOTICE_WINDOWS, clock);
        localMailboxes = localMailboxesFactory.create(getMailetContext());
        String url = Parameters.processor(getInitParameter("repositoryPath"), DEFAULT_REPOSITORY);
        try {
            repositoryUrl = MailRepositoryUrl.from(url);
            if (action == Action.QUARANTINE) {
                repository = repositoryStore.select(repositoryUrl);
            }
        } catch (Exception e) {
            throw Parameters.error("repositoryPath", "cannot open mail repository '" + url + "': " + e.getMessage());
        }
        releaseCommand = new ReleaseCommand(webAdminUrl, repositoryUrl, releaseProcessor);
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        Optional<RecordedVerdict> verdict = RecordedVerdict.readFrom(mail);
        if (verdict.isEmpty()) {
            LOGGER.warn("auth-hmac: mail {} reached {} without a verdict; is AuthHmacFailed the matcher?", mail.getName(), getMailetName());
        }
        metrics.count(Metrics.HELD + action.name().toLowerCase(Locale.ROOT));
        switch (action) {
            case QUARANTINE -> quarantine(mail, verdict);
            case MARK -> mark(mail, verdict);
            case DELETE -> delete(mail, verdict);
        }
    }

    @Override
    public String getMailetInfo() {
        return "AuthHmacQuarantine: quarantines, marks or deletes mail that failed X-Auth-HMAC validation";
    }

    private void quarantine(Mail mail, Optional<RecordedVerdict> verdict) throws MessagingException {
        AuditLine line = AuditLine.of("quarantine", mail).with("repository", repositoryUrl.asString());
        // Travels with the stored mail: when an administrator sends it on, its mailbox signatures say released.
        mail.setAttribute(new Attribute(AuthHmacAttributes.HELD, AttributeValue.of(repositoryUrl.asString())));
        MailStorage.Stored stored;
        try {
            stored = MailStorage.store(repository, mail);
        } catch (MessagingException | RuntimeException e) {
            // The audit line is written whatever the repository does: the mail goes on to onMailetException.
            line.with("key", "-").envelope(mail).verdict(verdict).with("stored", "no").with("error", e.toString()).write();
            throw e;
        }
        line.with("key", stored.key().asString()).envelope(mail).verdict(verdict).with("stored", stored.form()).write();
        notify(mail, verdict, false, Optional.of(releaseCommand.forKey(stored.key())));
        mail.setState(Mail.GHOST);
    }

    private void mark(Mail mail, Optional<RecordedVerdict> verdict) throws MessagingException {
        MimeMessage message = mail.getMessage();
        if (!subjectTag.isEmpty()) {
            String subject = Optional.ofNullable(message.getSubject()).orElse("");
            if (!subject.startsWith(subjectTag)) {
                message.setSubject(subject.isEmpty() ? subjectTag : subjectTag + " " + subject, "UTF-8");
            }
        }
        // A copy that came with the mail is the sender's claim; the verdict goes on top, alone.
        MessageHeaders.remove(message, markHeader, v -> true);
        MessageHeaders.prepend(message, List.of(markHeader + ": " + verdict.map(RecordedVerdict::shortForm).orElse("unverified")));
        AuditLine.of("mark", mail).with("header", markHeader).envelope(mail).verdict(verdict).write();
        // Past the rest of the validation processor, where every status field that came with a mail is removed
        mail.setState(releaseProcessor);
    }

    private void delete(Mail mail, Optional<RecordedVerdict> verdict) {
        AuditLine.of("delete", mail).envelope(mail).verdict(verdict).write();
        notify(mail, verdict, true, Optional.empty());
        mail.setState(Mail.GHOST);
    }

    /** The exact WebAdmin call that sends the held mail on, past the validation step (docs/OPERATIONS.md). */
    String releaseCommand(MailKey key) {
        return releaseCommand.forKey(key);
    }

    private void notify(Mail mail, Optional<RecordedVerdict> verdict, boolean deleted, Optional<String> release) {
        MailAddress postmaster = getMailetContext().getPostmaster();
        if (postmaster == null) {
            return;
        }
        // Under the matcher's default replayScope=recipient, a replay is a second copy of a signed mail this very
        // recipient already received with pass: an attacker's replay, or a sender's retry after a lost "250" (seen
        // after a crash of the receiving James, docs/OPERATIONS.md). A notice about it would only alarm the
        // recipient; the audit line and the postmaster's notice remain.
        boolean replay = verdict.map(v -> v.reason() == Reason.REPLAY).orElse(false);
        // The postmaster's notice names every recipient and carries the release command: like every notice it goes
        // only to local mailboxes, never along a forward of the postmaster address out of the domain.
        List<MailAddress> postmasterMailboxes = notifyPostmaster ? localMailboxes.of(postmaster) : List.of();
        if (notifyRecipients && (!replay || notifyRecipientsOfReplay)) {
            for (MailAddress mailbox : mailboxes(mail)) {
                if (!mailbox.equals(postmaster) && !postmasterMailboxes.contains(mailbox)) {
                    send(mail, postmaster, mailbox, noticeProcessor, earlier ->
                            QuarantineNotice.forMailbox(mailbox, mail, verdict, deleted, earlier));
                }
            }
        }
        if (notifyPostmaster && postmasterMailboxes.isEmpty()) {
            LOGGER.warn("auth-hmac: the postmaster {} has no local mailbox: no postmaster notice for mail {} (see the audit log)",
                    postmaster, mail.getName());
        }
        for (MailAddress mailbox : postmasterMailboxes) {
            send(mail, postmaster, mailbox, noticeProcessor, earlier ->
                    QuarantineNotice.forPostmaster(mail, verdict, deleted, release, earlier));
        }
    }

    /** Every local mailbox the recipients end in after alias rewriting, each once. */
    private List<MailAddress> mailboxes(Mail mail) {
        Set<MailAddress> out = new LinkedHashSet<>();
        for (MailAddress r : mail.getRecipients()) {
            out.addAll(localMailboxes.of(r));
        }
        return new ArrayList<>(out);
    }

    private void send(Mail mail, MailAddress postmaster, MailAddress to, String state,
                      java.util.function.Function<Optional<NoticeLimiter.Suppressed>, String> text) {
        NoticeLimiter.Decision decision = limiter.admit(to.asString().toLowerCase(Locale.ROOT));
        if (!(decision instanceof NoticeLimiter.Send send)) {
            metrics.count(Metrics.NOTICES_SUPPRESSED);
            return;
        }
        try {
            // Our attribute, which no sender can set: the mailbox signature of the notice says it is the server's own.
            MailImpl notice = MailImpl.builder().name(MailImpl.getId()).sender(postmaster).addRecipient(to)
                    .mimeMessage(QuarantineNotice.message(postmaster, to, text.apply(send.earlier())))
                    .addAttribute(new Attribute(AuthHmacAttributes.NOTICE, AttributeValue.of(NOTICE_KIND)))
                    .build();
            try {
                getMailetContext().sendMail(notice, state);
            } finally {
                // the queue holds its own copy, as with MailetContext.sendMail(sender, recipients, message, state)
                notice.dispose();
            }
            metrics.count(Metrics.NOTICES);
        } catch (MessagingException | RuntimeException e) {
            // The held mail is already safe; a failed notice must not undo that.
            LOGGER.error("auth-hmac: could not send the notice for mail {}", mail.getName(), e);
        }
    }
}
