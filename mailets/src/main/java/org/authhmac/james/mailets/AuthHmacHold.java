package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMailet;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;

/**
 * Holds a mail for the operator: the end of every path on which one of our steps gave up on a mail (a retry
 * processor's attempt bound, a mail that can never be signed). The mail is stored in a mail repository (releasable
 * through WebAdmin like the quarantine), gets one audit line {@code auth-hmac hold} whatever the repository does,
 * and is counted ({@code authhmac.hold.held}). It is never bounced: the envelope sender may be forged.
 *
 * <p>The retry counters ({@code org.authhmac.attempts.*}, written by James's {@code AtMost} matcher in the retry
 * processors) are cleared before storing, so a released mail gets the full number of attempts again.
 *
 * <p>Sample configuration (james-conf/ ships the full one; docs/CONFIGURATION.md describes every parameter):
 * <pre>{@code
 * <processor state="auth-hmac-hold">
 *     <mailet match="All" class="org.authhmac.james.mailets.AuthHmacHold">
 *         <repositoryPath>file://var/mail/auth-hmac-hold/</repositoryPath>
 *         <onMailetException>propagate</onMailetException>
 *     </mailet>
 * </processor>
 * }</pre>
 */
public class AuthHmacHold extends GenericMailet {
    static final String DEFAULT_REPOSITORY = "memory://var/mail/auth-hmac-hold/";
    /** Prefix of the retry counters of the shipped retry processors. */
    public static final String ATTEMPTS_PREFIX = "org.authhmac.attempts.";
    static final Set<String> PARAMETERS = Set.of("repositoryPath");
    private static final AttributeName MAILET_ERROR = AttributeName.of("org.apache.james.MailetError");

    private final MailRepositoryStore repositoryStore;
    private final Metrics metrics;

    private MailRepositoryUrl repositoryUrl;
    private MailRepository repository;

    @Inject
    public AuthHmacHold(MailRepositoryStore repositoryStore, MetricFactory metricFactory) {
        this.repositoryStore = repositoryStore;
        this.metrics = new Metrics(metricFactory);
    }

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        String url = Parameters.orDefault(getInitParameter("repositoryPath"), DEFAULT_REPOSITORY);
        try {
            repositoryUrl = MailRepositoryUrl.from(url);
            repository = repositoryStore.select(repositoryUrl);
        } catch (Exception e) {
            throw Parameters.error("repositoryPath", "cannot open mail repository '" + url + "': " + e.getMessage());
        }
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        List<AttributeName> counters = mail.attributeNames()
                .filter(n -> n.asString().startsWith(ATTEMPTS_PREFIX)).toList();
        String attempts = counters.isEmpty() ? "-" : counters.stream()
                .map(n -> n.asString().substring(ATTEMPTS_PREFIX.length()) + ":"
                        + mail.getAttribute(n).map(a -> String.valueOf(a.getValue().value())).orElse("?"))
                .collect(Collectors.joining(","));
        String error = firstLine(mail.getErrorMessage());
        counters.forEach(mail::removeAttribute);
        // a live exception object: not something a repository should have to serialize
        mail.removeAttribute(MAILET_ERROR);
        // Travels with the stored mail: when an administrator sends it on, its mailbox signatures say released
        // (unless the matcher had passed it for the recipient).
        mail.setAttribute(new Attribute(AuthHmacAttributes.HELD, AttributeValue.of(repositoryUrl.asString())));
        AuditLine line = AuditLine.of("hold", mail).with("repository", repositoryUrl.asString());
        MailStorage.Stored stored;
        try {
            stored = MailStorage.store(repository, mail);
        } catch (MessagingException | RuntimeException e) {
            metrics.count(Metrics.HOLD_FAILED);
            line.with("key", "-").envelope(mail).with("attempts", attempts).with("error", error)
                    .with("stored", "no").with("storeError", e.toString()).write();
            throw e;
        }
        line.with("key", stored.key().asString()).envelope(mail).with("attempts", attempts).with("error", error)
                .with("stored", stored.form()).write();
        metrics.count(Metrics.HOLD);
        mail.setState(Mail.GHOST);
    }

    @Override
    public String getMailetInfo() {
        return "AuthHmacHold: holds a mail our steps gave up on in a repository, with an audit line";
    }

    private static String firstLine(String s) {
        if (s == null || s.isBlank()) {
            return "-";
        }
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }
}
