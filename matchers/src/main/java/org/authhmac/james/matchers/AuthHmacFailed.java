package org.authhmac.james.matchers;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMatcher;
import org.authhmac.james.Metrics;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.Verifier;
import org.authhmac.vault.KeyVault;

/**
 * Verifies inbound mail that claims a partner domain (From or envelope sender; {@link PartnerClaim} decides, and
 * fails closed), records the verdict as mail attributes and an Authentication-Results field, and matches the
 * recipients whose verdict counts as failure. A pass counts only for a signature made for the From domain.
 * A temperror throws {@link TemporaryVerificationFailure}: the mail waits and is retried, it is never failed.
 *
 * <p>Condition: {@code partners=a.example:partner-a,c.example:partner-c; failOn=fail,permerror,none;
 * authservId=mx.b.example} plus optional verifier settings (docs/CONFIGURATION.md; read by
 * {@link VerificationCondition}).
 *
 * <p>Each step is its own class: {@link ForgedResults} strips forged Authentication-Results, {@link AcceptanceTime}
 * pins the acceptance time, {@link RecipientVerification} verifies the recipients without a verdict,
 * {@link RecipientVerdicts} keeps the verdict per recipient across retries, {@link ResultsAnnouncement} writes the
 * attributes and Authentication-Results. The matcher then returns the recipients whose verdict counts as failure.
 *
 * <p>Sample configuration (james-conf/ ships the full one; docs/CONFIGURATION.md describes every parameter):
 * <pre>
 * &lt;processor state="auth-hmac-verify"&gt;
 *   &lt;mailet match="org.authhmac.james.matchers.AuthHmacFailed=partners=a.example:a-b; authservId=mx.b.example; failOn=fail,permerror,none"
 *           class="org.authhmac.james.mailets.AuthHmacQuarantine"&gt;
 *     &lt;action&gt;quarantine&lt;/action&gt;
 *     &lt;onMatchException&gt;auth-hmac-verify-retry&lt;/onMatchException&gt;
 *     &lt;onMailetException&gt;auth-hmac-hold&lt;/onMailetException&gt;
 *   &lt;/mailet&gt;
 *   &lt;mailet match="All" class="RemoveMimeHeader"&gt;&lt;name&gt;X-Auth-HMAC-Status&lt;/name&gt;&lt;/mailet&gt;
 *   &lt;mailet match="All" class="ToProcessor"&gt;&lt;processor&gt;transport&lt;/processor&gt;&lt;/mailet&gt;
 * &lt;/processor&gt;
 * </pre>
 */
public class AuthHmacFailed extends GenericMatcher {
    private final KeyVault vault;
    private final ReplayCache replayCache;
    private final Metrics metrics;
    private final AcceptanceTime acceptanceTime = new AcceptanceTime(Clock.systemUTC());

    private VerificationCondition condition;
    private ForgedResults forgedResults;
    private RecipientVerification verification;
    private ResultsAnnouncement announcement;

    @Inject
    public AuthHmacFailed(KeyVault vault, SharedReplayCache replayCache, MetricFactory metricFactory) {
        this(vault, (ReplayCache) replayCache, metricFactory);
    }

    public AuthHmacFailed(KeyVault vault, ReplayCache replayCache, MetricFactory metricFactory) {
        this.vault = vault;
        this.replayCache = replayCache;
        this.metrics = new Metrics(metricFactory);
    }

    @Override
    public void init() throws MessagingException {
        condition = VerificationCondition.parse(getCondition());
        forgedResults = new ForgedResults(condition.authservId(), metrics);
        verification = new RecipientVerification(new Verifier(condition.settings(),
                new PartnerKeys(vault, condition.partners(), metrics), replayCache), metrics);
        announcement = new ResultsAnnouncement(condition.authservId(), condition.failOn());
    }

    @Override
    public Collection<MailAddress> match(Mail mail) throws MessagingException {
        RecipientVerdicts verdicts = RecipientVerdicts.of(mail);
        if (verdicts.isEmpty() && !AcceptanceTime.isPinned(mail)) {
            forgedResults.strip(mail.getMessage());
        }
        PartnerClaim claim = partnerClaim(mail);
        if (!claim.mustVerify()) {
            metrics.count(Metrics.VERIFY_SKIPPED);
            return List.of();
        }
        Instant acceptedAt = acceptanceTime.pin(mail);
        List<MailAddress> pending = verdicts.pending();
        Map<MailAddress, RecordedVerdict> fresh = Map.of();
        if (pending.isEmpty()) {
            metrics.count(Metrics.VERIFY_REUSED);
        } else {
            fresh = verdicts.record(verification.verify(mail, pending, claim.authorDomain(), acceptedAt));
        }
        announcement.announce(mail, verdicts.asMap(), fresh, claim.authorDomain());
        return verdicts.failing(condition.failOn());
    }

    @Override
    public String getMatcherInfo() {
        return "AuthHmacFailed: verifies X-Auth-HMAC and matches recipients whose mail fails";
    }

    /** Whether the mail must be verified: decided from the raw From fields and the envelope sender (fails closed). */
    private PartnerClaim partnerClaim(Mail mail) throws MessagingException {
        String[] from = mail.getMessage().getHeader("From");
        return PartnerClaim.of(from == null ? List.of() : List.of(from),
                mail.getMaybeSender().asOptional().map(s -> s.getDomain().asString()), condition.partners().keySet());
    }
}
