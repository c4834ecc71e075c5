package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.UnsupportedEncodingException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetException;
import org.apache.mailet.base.GenericMailet;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.james.RecordedVerdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to mail that failed X-Auth-HMAC validation: {@code quarantine} (store it in a mail repository with
 * the verdict attributes, releasable through WebAdmin), {@code mark} (header and subject tag, then deliver) or
 * {@code delete}. Every held mail gets one audit line; recipients and the postmaster can be told.
 */
public class AuthHmacQuarantine extends GenericMailet {
    /** Audit log: one line per held, marked or deleted mail; never key material. */
    public static final Logger AUDIT = LoggerFactory.getLogger("org.authhmac.audit");
    private static final Logger LOGGER = LoggerFactory.getLogger(AuthHmacQuarantine.class);
    static final String DEFAULT_REPOSITORY = "memory://var/mail/auth-hmac-quarantine/";
    static final String DEFAULT_MARK_HEADER = "X-Auth-HMAC-Status";
    static final String DEFAULT_SUBJECT_TAG = "[AUTH-HMAC FAILED]";
    static final String DEFAULT_RELEASE_PROCESSOR = "transport";
    static final Set<String> PARAMETERS = Set.of("action", "repositoryPath", "markHeader", "subjectTag",
            "notifyRecipients", "notifyRecipientsOfReplay", "notifyPostmaster", "releaseProcessor", "webAdminUrl");

    /** The three ways to deal with a failing mail. */
    public enum Action { QUARANTINE, MARK, DELETE }

    private final MailRepositoryStore repositoryStore;
    private final Metrics metrics;

    private Action action;
    private MailRepositoryUrl repositoryUrl;
    private MailRepository repository;
    private String markHeader;
    private String subjectTag;
    private boolean notifyRecipients;
    private boolean notifyRecipientsOfReplay;
    private boolean notifyPostmaster;
    private String releaseProcessor;
    private String webAdminUrl;

    @Inject
    public AuthHmacQuarantine(MailRepositoryStore repositoryStore, MetricFactory metricFactory) {
        this.repositoryStore = repositoryStore;
        this.metrics = new Metrics(metricFactory);
    }

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        action = action(getInitParameter("action"));
        markHeader = Parameters.headerName("markHeader", getInitParameter("markHeader"), DEFAULT_MARK_HEADER);
        subjectTag = Optional.ofNullable(getInitParameter("subjectTag")).orElse(DEFAULT_SUBJECT_TAG).trim();
        notifyRecipients = Parameters.bool("notifyRecipients", getInitParameter("notifyRecipients"), false);
        notifyRecipientsOfReplay = Parameters.bool("notifyRecipientsOfReplay", getInitParameter("notifyRecipientsOfReplay"), false);
        notifyPostmaster = Parameters.bool("notifyPostmaster", getInitParameter("notifyPostmaster"), false);
        releaseProcessor = Optional.ofNullable(getInitParameter("releaseProcessor")).map(String::trim)
                .filter(s -> !s.isEmpty()).orElse(DEFAULT_RELEASE_PROCESSOR);
        webAdminUrl = Optional.ofNullable(getInitParameter("webAdminUrl")).map(String::trim)
                .filter(s -> !s.isEmpty()).orElse("http://127.0.0.1:8000");
        if (action == Action.QUARANTINE) {
            String url = Optional.ofNullable(getInitParameter("repositoryPath")).map(String::trim)
                    .filter(s -> !s.isEmpty()).orElse(DEFAULT_REPOSITORY);
            try {
                repositoryUrl = MailRepositoryUrl.from(url);
                repository = repositoryStore.select(repositoryUrl);
            } catch (Exception e) {
                throw Parameters.error("repositoryPath", "cannot open mail repository '" + url + "': " + e.getMessage());
            }
        }
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
        MailKey key = repository.store(mail);
        audit("quarantine", mail, verdict, "repository=" + repositoryUrl.asString() + " key=" + key.asString());
        notify(mail, verdict, "was held in quarantine.\n\nAn administrator can release it with:\n\n  "
                + releaseCommand(key) + "\n");
        mail.setState(Mail.GHOST);
    }

    private void mark(Mail mail, Optional<RecordedVerdict> verdict) throws MessagingException {
        MimeMessage message = mail.getMessage();
        message.addHeader(markHeader, verdict.map(RecordedVerdict::shortForm).orElse("unverified"));
        if (!subjectTag.isEmpty()) {
            String subject = Optional.ofNullable(message.getSubject()).orElse("");
            if (!subject.startsWith(subjectTag)) {
                message.setSubject(subject.isEmpty() ? subjectTag : subjectTag + " " + subject, "UTF-8");
            }
        }
        message.saveChanges();
        audit("mark", mail, verdict, "header=" + markHeader);
    }

    private void delete(Mail mail, Optional<RecordedVerdict> verdict) throws MessagingException {
        audit("delete", mail, verdict, "");
        notify(mail, verdict, "was deleted by policy and cannot be recovered.\n");
        mail.setState(Mail.GHOST);
    }

    /** The exact WebAdmin call that sends the held mail on, past the validation step (docs/OPERATIONS.md). */
    String releaseCommand(MailKey key) {
        try {
            return "curl -XPATCH '" + webAdminUrl + "/mailRepositories/" + repositoryUrl.getPath().urlEncoded()
                    + "/mails/" + java.net.URLEncoder.encode(key.asString(), "UTF-8").replace("+", "%20")
                    + "?action=reprocess&processor=" + releaseProcessor + "'";
        } catch (UnsupportedEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void audit(String what, Mail mail, Optional<RecordedVerdict> verdict, String where) {
        String recipients = mail.getRecipients().stream().map(MailAddress::asString).collect(Collectors.joining(","));
        AUDIT.info("auth-hmac {} mail={} {} sender={} recipients={} messageId={} result={} reason={} keyId={} domain={} signedAt={}",
                what, clean(mail.getName()), where, clean(mail.getMaybeSender().asString()), clean(recipients),
                clean(messageId(mail)),
                verdict.map(v -> v.result().token()).orElse("unverified"),
                verdict.map(v -> v.reason().token()).orElse("-"),
                clean(verdict.flatMap(RecordedVerdict::keyId).orElse("-")),
                clean(verdict.flatMap(RecordedVerdict::domain).orElse("-")),
                verdict.flatMap(RecordedVerdict::signingTime).map(Object::toString).orElse("-"));
    }

    private void notify(Mail mail, Optional<RecordedVerdict> verdict, String outcome) {
        List<MailAddress> to = new ArrayList<>();
        // Under the matcher's default replayScope=recipient, a replay is a second copy of a signed mail this very
        // recipient already received with pass: an attacker's replay, or a sender's retry after a lost "250" (seen
        // after a crash of the receiving James, docs/OPERATIONS.md). A notice about it would only alarm the
        // recipient; the audit line and the postmaster's notice remain.
        boolean replay = verdict.map(v -> v.reason() == org.authhmac.protocol.Reason.REPLAY).orElse(false);
        if (notifyRecipients && (!replay || notifyRecipientsOfReplay)) {
            to.addAll(mail.getRecipients());
        }
        MailAddress postmaster = getMailetContext().getPostmaster();
        if (notifyPostmaster && postmaster != null && !to.contains(postmaster)) {
            to.add(postmaster);
        }
        if (to.isEmpty()) {
            return;
        }
        try {
            MimeMessage notice = new MimeMessage(Session.getInstance(new Properties()));
            notice.setFrom(new InternetAddress(postmaster.asString()));
            for (MailAddress a : to) {
                notice.addRecipient(jakarta.mail.Message.RecipientType.TO, new InternetAddress(a.asString()));
            }
            notice.setSubject("Message held: it failed the X-Auth-HMAC check", "UTF-8");
            notice.setText(noticeText(mail, verdict, outcome), "UTF-8");
            notice.saveChanges();
            getMailetContext().sendMail(postmaster, to, notice);
            metrics.count(Metrics.NOTICES);
        } catch (MessagingException | RuntimeException e) {
            // The held mail is already safe; a failed notice must not undo that.
            LOGGER.error("auth-hmac: could not send the notice for mail {}", mail.getName(), e);
        }
    }

    private static String noticeText(Mail mail, Optional<RecordedVerdict> verdict, String outcome) {
        String subject;
        try {
            subject = Optional.ofNullable(mail.getMessage().getSubject()).orElse("(none)");
        } catch (MessagingException e) {
            subject = "(unreadable)";
        }
        return "A message addressed to " + mail.getRecipients().stream().map(MailAddress::asString).collect(Collectors.joining(", "))
                + "\nfrom " + mail.getMaybeSender().asString() + " (subject: " + oneLine(subject) + ", Message-ID: " + messageId(mail) + ")\n"
                + outcome
                + "\nWhy: its sender domain must sign with X-Auth-HMAC, and the check said "
                + verdict.map(v -> v.result().token() + " (" + v.reason().token() + ")").orElse("nothing")
                + verdict.flatMap(RecordedVerdict::keyId).map(k -> ", key id " + k).orElse("")
                + verdict.flatMap(RecordedVerdict::signingTime).map(t -> ", signed at " + t).orElse("")
                + ".\nThe message itself is not attached, because it may be forged.\n"
                + "Mail id for the administrator: " + mail.getName() + "\n";
    }

    private static String messageId(Mail mail) {
        try {
            return Optional.ofNullable(mail.getMessage().getMessageID()).orElse("-");
        } catch (MessagingException e) {
            return "-";
        }
    }

    private static String oneLine(String s) {
        return s.replaceAll("[\\r\\n\\t]+", " ");
    }

    /** Log values come from the mail, so control characters are neutralised against forged log lines. */
    static String clean(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            b.append(c < 0x20 || c == 0x7f || c == ' ' ? '_' : c);
        }
        return b.toString();
    }

    static Action action(String value) throws MailetException {
        if (value == null || value.isBlank()) {
            return Action.QUARANTINE;
        }
        try {
            return Action.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw Parameters.error("action", "expected quarantine, mark or delete, got '" + value.trim() + "'");
        }
    }
}
