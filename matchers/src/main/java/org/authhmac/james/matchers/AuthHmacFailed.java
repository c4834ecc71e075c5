package org.authhmac.james.matchers;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMatcher;
import org.authhmac.james.PartnerHealth;
import org.authhmac.james.PartnerKeys;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.NeededKeysets;
import org.authhmac.james.Parameters;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicy;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.Verifier;
import org.authhmac.vault.KeyVault;

/**
 * Verifies inbound mail that claims a partner domain (From or envelope sender; {@link PartnerClaim} decides, and
 * fails closed), records the verdict as mail attributes and an Authentication-Results field, and matches the
 * recipients whose verdict counts as failure. A pass counts only for a signature made for the From domain.
 * A temperror throws {@link TemporaryVerificationFailure}: the mail waits and is retried, it is never failed.
 *
 * <p>No condition: the partner domains, their keysets and each partner's verification settings and {@code failOn} are
 * in {@code conf/auth-hmac-partners.properties} ({@link PartnerPolicies}, docs/CONFIGURATION.md), which the signing
 * mailet reads too. A mail is verified under the policy of the partner it claims ({@link PartnerPolicies#governing})
 * and matched on what that partner's failOn lists, or every claimed partner's when it names several, or every
 * partner's when its From names no author ({@link PartnerPolicies#failOn(java.util.Optional, Collection)}).
 *
 * <p>Each step is its own class: {@link ForgedResults} strips forged Authentication-Results, {@link AcceptanceTime}
 * pins the acceptance time, {@link RecipientVerification} verifies the recipients without a verdict,
 * {@link RecipientVerdicts} keeps the verdict per recipient across retries, {@link ResultsAnnouncement} writes the
 * attributes and Authentication-Results. The matcher then returns the recipients whose verdict counts as failure.
 *
 * <p>Sample configuration (james-conf/ ships the full one; docs/CONFIGURATION.md describes every parameter):
 * <pre>
 * &lt;processor state="auth-hmac-verify"&gt;
 *   &lt;mailet match="org.authhmac.james.matchers.AuthHmacFailed"
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
    private final PartnerPolicyFile policyFile;
    private final NeededKeysets needed;
    private final Optional<PartnerHealth> health;
    private final AcceptanceTime acceptanceTime = new AcceptanceTime(Clock.systemUTC());

    private PartnerPolicies policies;
    private ForgedResults forgedResults;
    private Map<String, RecipientVerification> verificationByPartner;
    private ResultsAnnouncement announcement;

    @Inject
    public AuthHmacFailed(KeyVault vault, SharedReplayCache replayCache, MetricFactory metricFactory, PartnerPolicyFile policyFile,
            NeededKeysets needed, PartnerHealth health) {
        this.vault = vault;
        this.replayCache = replayCache;
        this.metrics = new Metrics(metricFactory);
        this.policyFile = policyFile;
        this.needed = needed;
        this.health = Optional.of(health);
    }

    /** Without partner health (tests that wire the matcher by hand). */
    public AuthHmacFailed(KeyVault vault, SharedReplayCache replayCache, MetricFactory metricFactory, PartnerPolicyFile policyFile,
            NeededKeysets needed) {
        this.vault = vault;
        this.replayCache = replayCache;
        this.metrics = new Metrics(metricFactory);
        this.policyFile = policyFile;
        this.needed = needed;
        this.health = Optional.empty();
    }

    /** With policies already read and any replay cache (tests, and servers that wire the matcher themselves). */
    public AuthHmacFailed(KeyVault vault, ReplayCache replayCache, MetricFactory metricFactory, PartnerPolicies policies) {
        this(vault, replayCache, metricFactory, policies, Optional.empty());
    }

    /** The same, with the partners' health fed by this matcher. */
    public AuthHmacFailed(KeyVault vault, ReplayCache replayCache, MetricFactory metricFactory, PartnerPolicies policies,
                          Optional<PartnerHealth> health) {
        this.vault = vault;
        this.replayCache = replayCache;
        this.metrics = new Metrics(metricFactory);
        this.policyFile = PartnerPolicyFile.of(policies);
        this.needed = new NeededKeysets();
        this.health = health;
    }

    @Override
    public void init() throws MessagingException {
        if (getCondition() != null && !getCondition().isBlank()) {
            throw Parameters.error("condition", "AuthHmacFailed takes no condition: the partner domains and their settings "
                    + "are in " + PartnerPolicies.PATH + " (docs/CONFIGURATION.md)");
        }
        policies = policyFile.policies();
        needed.verifyingFor(policies);
        if (replayCache instanceof SharedReplayCache shared) {
            shared.retain();
            health.ifPresent(h -> h.gauge(Metrics.REPLAY_CACHE_SIZE, shared::entries));
        }
        String authservId = policies.authservId().orElseGet(() -> localHostName(InetAddress::getLocalHost));
        forgedResults = new ForgedResults(authservId, metrics);
        PartnerKeys keys = new PartnerKeys(vault, policies.keysetByDomain(), metrics);
        Map<String, RecipientVerification> byPartner = new HashMap<>();
        for (PartnerPolicy partner : policies.partners().values()) {
            byPartner.put(partner.domain(), new RecipientVerification(
                    new Verifier(policies.verifierSettings(partner), keys, replayCache), metrics,
                    (verdicts, acceptedAt) -> health.ifPresent(h -> h.observe(partner.domain(), verdicts, acceptedAt))));
        }
        verificationByPartner = Map.copyOf(byPartner);
        announcement = new ResultsAnnouncement(authservId);
    }

    @Override
    public void destroy() {
        if (replayCache instanceof SharedReplayCache shared) {
            shared.release();
        }
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
        Set<AuthResult> failOn = policies.failOn(claim.authorDomain(), claim.claimedPartners());
        List<MailAddress> pending = verdicts.pending();
        Map<MailAddress, RecordedVerdict> fresh = Map.of();
        if (pending.isEmpty()) {
            metrics.count(Metrics.VERIFY_REUSED);
        } else {
            PartnerPolicy governing = policies.governing(claim.authorDomain(), claim.claimedPartners());
            fresh = verdicts.record(verificationByPartner.get(governing.domain())
                    .verify(mail, pending, claim.authorDomain(), acceptedAt));
        }
        announcement.announce(mail, verdicts.asMap(), fresh, claim.authorDomain(), failOn);
        // what a later check of the held mail (release by reply) aligns d= with: this reading, not a new one
        if (claim.authorDomain().isPresent()) {
            mail.setAttribute(new Attribute(AuthHmacAttributes.AUTHOR_DOMAIN, AttributeValue.of(claim.authorDomain().get())));
        } else {
            mail.removeAttribute(AuthHmacAttributes.AUTHOR_DOMAIN);
        }
        return verdicts.failing(failOn);
    }

    @Override
    public String getMatcherInfo() {
        return "AuthHmacFailed: verifies X-Auth-HMAC and matches recipients whose mail fails";
    }

    /** Whether the mail must be verified: decided from the raw From fields and the envelope sender (fails closed). */
    private PartnerClaim partnerClaim(Mail mail) throws MessagingException {
        String[] from = mail.getMessage().getHeader("From");
        return PartnerClaim.of(from == null ? List.of() : List.of(from),
                mail.getMaybeSender().asOptional().map(s -> s.getDomain().asString()), policies.domains());
    }

    /** The host's canonical name in lower case, the authserv-id when none is set; "localhost" when it does not resolve. */
    static String localHostName(Callable<InetAddress> localHost) {
        try {
            return localHost.call().getCanonicalHostName().toLowerCase(Locale.ROOT);
        } catch (Exception e) {
            return "localhost";
        }
    }
}
