package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.rrt.api.RecipientRewriteTable;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.apache.mailet.ProcessingState;
import org.apache.mailet.base.GenericMailet;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.ReleaseTokens;
import org.authhmac.james.SelfRelease;
import org.authhmac.protocol.Reason;
import org.authhmac.vault.ManagedKeyVault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to mail that failed X-Auth-HMAC validation: {@code quarantine} (store it in a mail repository with
 * the verdict attributes, releasable through WebAdmin), {@code mark} (header and subject tag, then deliver) or
 * {@code delete}. A marked mail goes on to {@code releaseProcessor}, the processor after validation. Every held mail
 * gets one audit line, written whatever the repository does; each local mailbox it was for, and the postmaster, can
 * be told ({@link NoticeDelivery}, at most {@code noticesPerHour} per mailbox). A recipient's notice of a mail held
 * for a reason in {@code selfRelease} carries one-time addresses to get or discard their copy by reply
 * ({@link ReleaseOffers}, handled by {@link AuthHmacRelease}).
 *
 * <p>This class reads the parameters and picks the {@link FailingMailAction} for {@code action} in {@link #init()};
 * each action is its own class ({@link QuarantineAction}, {@link MarkAction}, {@link DeleteAction}).
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
 *   &lt;selfRelease&gt;expired,future,unknown-key&lt;/selfRelease&gt;
 *   &lt;selfReleaseValidity&gt;7d&lt;/selfReleaseValidity&gt;
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
    /** Mailboxes whose notice count the mailet remembers at once (about 100 bytes each). */
    static final int NOTICE_WINDOWS = 100_000;
    static final Set<String> PARAMETERS = Set.of("action", "repositoryPath", "markHeader", "subjectTag",
            "notifyRecipients", "notifyRecipientsOfReplay", "notifyPostmaster", "releaseProcessor", "webAdminUrl",
            "noticeProcessor", "noticesPerHour", "selfRelease", "selfReleaseValidity");

    /** The values of {@code action}, each done by its own {@link FailingMailAction}. */
    public enum Action { QUARANTINE, MARK, DELETE }

    private final MailRepositoryStore repositoryStore;
    private final Metrics metrics;
    private final Clock clock;
    private final LocalMailboxesFactory localMailboxesFactory;
    private final Optional<ReleaseTokens> releaseTokens;

    private Action action;
    private FailingMailAction failing;
    private ReleaseCommand releaseCommand;
    private Collection<ProcessingState> sendsTo;

    /** How the local mailboxes of a recipient are found, once the mailet context is known. */
    @FunctionalInterface
    interface LocalMailboxesFactory {
        LocalMailboxes create(MailetContext context);
    }

    @Inject
    public AuthHmacQuarantine(MailRepositoryStore repositoryStore, MetricFactory metricFactory, RecipientRewriteTable rrt,
                              ManagedKeyVault vault) {
        this(repositoryStore, metricFactory, Clock.systemUTC(),
                context -> LocalMailboxes.resolvedBy(rrt, context::isLocalEmail),
                Optional.of(new ReleaseTokens(vault, Clock.systemUTC(), new SecureRandom())));
    }

    /** Without a key vault: notices never offer release by reply, whatever {@code selfRelease} says. */
    public AuthHmacQuarantine(MailRepositoryStore repositoryStore, MetricFactory metricFactory, RecipientRewriteTable rrt) {
        this(repositoryStore, metricFactory, Clock.systemUTC(),
                context -> LocalMailboxes.resolvedBy(rrt, context::isLocalEmail), Optional.empty());
    }

    /**
     * With release tokens and a clock of the caller's, instead of tokens drawn on the vault's system clock: public for
     * tests in other modules (the matchers module runs the receiving pipeline with its own vault and time).
     */
    public AuthHmacQuarantine(MailRepositoryStore repositoryStore, MetricFactory metricFactory, RecipientRewriteTable rrt,
                              ReleaseTokens releaseTokens, Clock clock) {
        this(repositoryStore, metricFactory, clock, context -> LocalMailboxes.resolvedBy(rrt, context::isLocalEmail),
                Optional.of(releaseTokens));
    }

    AuthHmacQuarantine(MailRepositoryStore repositoryStore, MetricFactory metricFactory, Clock clock,
                       LocalMailboxesFactory localMailboxesFactory) {
        this(repositoryStore, metricFactory, clock, localMailboxesFactory, Optional.empty());
    }

    /** @param releaseTokens empty: no release by reply, whatever {@code selfRelease} says (tests without a vault) */
    AuthHmacQuarantine(MailRepositoryStore repositoryStore, MetricFactory metricFactory, Clock clock,
                       LocalMailboxesFactory localMailboxesFactory, Optional<ReleaseTokens> releaseTokens) {
        this.repositoryStore = repositoryStore;
        this.metrics = new Metrics(metricFactory);
        this.clock = clock;
        this.localMailboxesFactory = localMailboxesFactory;
        this.releaseTokens = releaseTokens;
    }

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        Parameters.refuseFailOpen("onMatchException", getInitParameter("onMatchException"), "nomatch",
                "a mail AuthHmacFailed cannot verify (temperror: key vault down, replay cache unreachable) would be delivered unverified");
        Parameters.refuseFailOpen("onMailetException", getInitParameter("onMailetException"), "ignore",
                "a failed mail this mailet cannot hold (repository unavailable) would go on to delivery");
        action = Parameters.choice("action", getInitParameter("action"), Action.class, Action.QUARANTINE);
        String markHeader = Parameters.headerName("markHeader", getInitParameter("markHeader"), DEFAULT_MARK_HEADER);
        String subjectTag = Optional.ofNullable(getInitParameter("subjectTag")).orElse(DEFAULT_SUBJECT_TAG).trim();
        NoticeDelivery notices = notices();
        String releaseProcessor = Parameters.orDefault(getInitParameter("releaseProcessor"), DEFAULT_RELEASE_PROCESSOR);
        String webAdminUrl = Parameters.orDefault(getInitParameter("webAdminUrl"), "http://127.0.0.1:8000");
        String url = Parameters.orDefault(getInitParameter("repositoryPath"), DEFAULT_REPOSITORY);
        MailRepositoryUrl repositoryUrl;
        MailRepository repository = null;
        try {
            repositoryUrl = MailRepositoryUrl.from(url);
            if (action == Action.QUARANTINE) {
                repository = repositoryStore.select(repositoryUrl);
            }
        } catch (Exception e) {
            throw Parameters.error("repositoryPath", "cannot open mail repository '" + url + "': " + e.getMessage());
        }
        releaseCommand = new ReleaseCommand(webAdminUrl, repositoryUrl, releaseProcessor);
        failing = switch (action) {
            case QUARANTINE -> new QuarantineAction(repositoryUrl, repository, releaseCommand, notices);
            case MARK -> new MarkAction(markHeader, subjectTag, releaseProcessor);
            case DELETE -> new DeleteAction(notices);
        };
        sendsTo = Parameters.processingStates(action == Action.DELETE ? null : releaseProcessor,
                notices.sendsAny() ? notices.processor() : null);
    }

    /** Reads who is told, where the notices go and how many per hour. */
    private NoticeDelivery notices() throws MessagingException {
        boolean recipients = Parameters.bool("notifyRecipients", getInitParameter("notifyRecipients"), false);
        boolean recipientsOfReplay = Parameters.bool("notifyRecipientsOfReplay", getInitParameter("notifyRecipientsOfReplay"), false);
        boolean postmaster = Parameters.bool("notifyPostmaster", getInitParameter("notifyPostmaster"), false);
        String processor = Parameters.orDefault(getInitParameter("noticeProcessor"), DEFAULT_NOTICE_PROCESSOR);
        NoticeLimiter limiter = new NoticeLimiter(Parameters.integer("noticesPerHour", getInitParameter("noticesPerHour"),
                DEFAULT_NOTICES_PER_HOUR, 1, 10_000), NOTICE_WINDOWS, clock);
        return new NoticeDelivery(getMailetContext(), localMailboxesFactory.create(getMailetContext()), limiter, metrics,
                recipients, recipientsOfReplay, postmaster, processor, offers());
    }

    /** Release by reply: what a recipient's notice offers. */
    private ReleaseOffers offers() throws MessagingException {
        Set<Reason> reasons = SelfRelease.reasons("selfRelease", getInitParameter("selfRelease"));
        Duration validity = Parameters.duration("selfReleaseValidity", getInitParameter("selfReleaseValidity"),
                ReleaseOffers.DEFAULT_VALIDITY);
        if (validity.compareTo(ReleaseOffers.MIN_VALIDITY) < 0 || validity.compareTo(ReleaseTokens.MAX_VALIDITY) > 0) {
            throw Parameters.error("selfReleaseValidity", "must be between " + ReleaseOffers.MIN_VALIDITY.toSeconds()
                    + "s and " + ReleaseTokens.MAX_VALIDITY.toDays() + "d: " + validity);
        }
        if (reasons.isEmpty() || releaseTokens.isEmpty() || action != Action.QUARANTINE) {
            return ReleaseOffers.off();
        }
        return new ReleaseOffers(releaseTokens.get(), reasons, validity, clock);
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        Optional<RecordedVerdict> verdict = RecordedVerdict.readFrom(mail);
        if (verdict.isEmpty()) {
            LOGGER.warn("auth-hmac: mail {} reached {} without a verdict; is AuthHmacFailed the matcher?", mail.getName(), getMailetName());
        }
        metrics.count(Metrics.HELD + action.name().toLowerCase(Locale.ROOT));
        String here = mail.getState();
        try {
            failing.handle(mail, verdict);
        } catch (MessagingException | RuntimeException e) {
            if (KeepBack.afterException(mail, here, getInitParameter("onMailetException"), getMailetName(), e)) {
                return;
            }
            throw e;
        }
    }

    @Override
    public Collection<ProcessingState> requiredProcessingState() {
        return sendsTo;
    }

    @Override
    public String getMailetInfo() {
        return "AuthHmacQuarantine: quarantines, marks or deletes mail that failed X-Auth-HMAC validation";
    }

    /** The exact WebAdmin call that sends the held mail on, past the validation step (docs/OPERATIONS.md). */
    String releaseCommand(MailKey key) {
        return releaseCommand.forKey(key);
    }
}
