package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.NoopGaugeRegistry;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.ProcessingState;
import org.apache.mailet.base.Converter7Bit;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.ClockWatch;
import org.authhmac.james.Metrics;
import org.authhmac.james.NeededKeysets;
import org.authhmac.james.Parameters;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.SerializedMessage;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyVault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs outbound mail for partner domains: one X-Auth-HMAC header per partner recipient domain, made on the final
 * bytes. Place it last before RemoteDelivery. When the key vault cannot answer it throws, so that the mail waits in
 * the retry processor named by onMailetException and never leaves unsigned.
 *
 * <p>A signature bound to a domain with rc=N lets N mailboxes of that domain pass, so it goes only to that domain's
 * recipients: a mail for several partner domains, or for a partner and anybody else, is split into one copy per
 * partner domain, each signed only for that domain, and one unsigned copy for everybody else. The mail itself goes on
 * with the first copy; the others are queued to {@code splitProcessor} (default: the processor the mail is in, where
 * this mailet lets them pass untouched once).
 *
 * <p>Only mail a user of the signing domain wrote and submitted here is signed ({@link SigningPolicy}): other
 * partner mail goes on unsigned, without any header that uses our key ids, or, when an authenticated user wrote in
 * somebody else's name, to {@code refusedProcessor}.
 *
 * <p>The partner domains, each one's keyset and period length, and the signature header's name are in
 * {@code conf/auth-hmac-partners.properties} ({@link PartnerPolicies}), which the validating matcher reads too. When
 * that file names a {@code clock.reference}, this server's clock is compared with it in the background
 * ({@link ClockWatch}): partners hold mail whose {@code t=} is too far from their own time.
 *
 * <p>Sample configuration (james-conf/ ships the full one; docs/CONFIGURATION.md describes every parameter):
 * <pre>
 * &lt;mailet match="All" class="org.authhmac.james.mailets.SignWithAuthHmac"&gt;
 *   &lt;signingDomain&gt;a.example&lt;/signingDomain&gt;
 *   &lt;errorProcessor&gt;auth-hmac-hold&lt;/errorProcessor&gt;
 *   &lt;refusedProcessor&gt;auth-hmac-sign-refused&lt;/refusedProcessor&gt;
 *   &lt;onMailetException&gt;auth-hmac-sign-retry&lt;/onMailetException&gt;
 * &lt;/mailet&gt;
 * &lt;mailet match="All" class="RemoteDelivery"&gt;...&lt;/mailet&gt;
 * </pre>
 */
public class SignWithAuthHmac extends SigningMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(SignWithAuthHmac.class);
    static final Set<String> PARAMETERS = Set.of("signingDomain", "canonicalization", "convertTo7Bit", "errorProcessor",
            "refusedProcessor", "splitProcessor");
    /** Parameters of this mailet once; each value now in the partner file. */
    private static final Map<String, String> MOVED = Map.of(
            "partners", "each partner is partner.<domain>.keyset=<keyset> in " + PartnerPolicies.PATH,
            "periodSeconds", "each partner's is partner.<domain>.periodSeconds in " + PartnerPolicies.PATH,
            "headerName", "it is headerName in " + PartnerPolicies.PATH);
    private static final MailSigner.Reporting REPORTING = new MailSigner.Reporting(Metrics.SIGN_TIMER, Metrics.SIGN_KEY_UNAVAILABLE,
            "auth-hmac: key vault unavailable, mail %s is kept for retry and not sent unsigned: %s",
            // A keyset without a primary key is a provisioning gap an admin fixes; the mail waits for it.
            "auth-hmac: no usable signing key for mail %s (provision a primary key; the mail is kept for retry): %s",
            MailSigner::causedByTheMessage);

    private final PartnerPolicyFile policyFile;
    private final NeededKeysets needed;
    private final ClockWatch clockWatch;
    private boolean watchingClock;
    private String signingDomain;
    private Partners partners;
    private boolean convertTo7Bit;
    private String errorProcessor;
    private String refusedProcessor;
    private SplitCopies splitCopies;
    private SigningPolicy policy;
    private WaitingForPrimary waiting;

    /**
     * @param clock      the signing time's source: the system clock, unless a Guice module binds another (tests)
     * @param clockWatch compares that clock with {@code clock.reference} when the partner file names one
     */
    @Inject
    public SignWithAuthHmac(KeyVault vault, MetricFactory metricFactory, PartnerPolicyFile policyFile, NeededKeysets needed,
                            @com.google.inject.name.Named(org.authhmac.vault.guice.AuthHmacVaultModule.CLOCK_NAME) Clock clock,
                            ClockWatch clockWatch) {
        this(vault, metricFactory, clock, policyFile, needed, clockWatch);
    }

    public SignWithAuthHmac(KeyVault vault, MetricFactory metricFactory, PartnerPolicyFile policyFile, NeededKeysets needed) {
        this(vault, metricFactory, Clock.systemUTC(), policyFile, needed,
                new ClockWatch(new NoopGaugeRegistry(), Clock.systemUTC()));
    }

    /** With policies already read and a clock (tests, and servers that wire the mailet themselves). */
    public SignWithAuthHmac(KeyVault vault, MetricFactory metricFactory, Clock clock, PartnerPolicies policies) {
        this(vault, metricFactory, clock, policies, new NoopGaugeRegistry());
    }

    /** As above, publishing the clock check's gauges (when the policies name a reference) to {@code gauges}. */
    public SignWithAuthHmac(KeyVault vault, MetricFactory metricFactory, Clock clock, PartnerPolicies policies,
                            GaugeRegistry gauges) {
        this(vault, metricFactory, clock, PartnerPolicyFile.of(policies), new NeededKeysets(), new ClockWatch(gauges, clock));
    }

    private SignWithAuthHmac(KeyVault vault, MetricFactory metricFactory, Clock clock, PartnerPolicyFile policyFile,
            NeededKeysets needed, ClockWatch clockWatch) {
        super(vault, metricFactory, clock, PARAMETERS);
        this.policyFile = policyFile;
        this.needed = needed;
        this.clockWatch = clockWatch;
    }

    @Override
    Map<String, String> movedParameters() {
        return MOVED;
    }

    @Override
    void configure() throws MessagingException {
        PartnerPolicies policies = policyFile.policies();
        Canonicalization[] c = Parameters.canonicalization(getInitParameter("canonicalization"));
        signing.init(SignerSettings.defaults().withHeaderName(policies.shared().headerName()).withCanonicalization(c[0], c[1]));
        signingDomain = Parameters.domain("signingDomain", getInitParameter("signingDomain"));
        partners = Partners.of(policies, signing);
        needed.signingFor(policies);
        Parameters.refuseFailOpen("onMailetException", getInitParameter("onMailetException"), "ignore",
                "a mail this mailet cannot sign (key vault down, no primary key) would leave unsigned");
        waiting = new WaitingForPrimary(getInitParameter("onMailetException"));
        convertTo7Bit = Parameters.bool("convertTo7Bit", getInitParameter("convertTo7Bit"), true);
        errorProcessor = Parameters.orDefault(getInitParameter("errorProcessor"), Mail.ERROR);
        refusedProcessor = Parameters.orDefault(getInitParameter("refusedProcessor"), errorProcessor);
        // null: a copy is queued to the processor the mail is in
        splitCopies = new SplitCopies(signing, getMailetContext(), Parameters.orDefault(getInitParameter("splitProcessor"), null));
        policy = new SigningPolicy(signingDomain);
        // last: a parameter refused above must not leave a check running; asynchronous, start-up does not wait for it
        if (!watchingClock) {
            watchingClock = clockWatch.start(policies);
        }
    }

    @Override
    public void destroy() {
        if (watchingClock) {
            watchingClock = false;
            clockWatch.stop();
        }
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        String here = mail.getState();
        try {
            signOrPass(mail);
        } catch (MessagingException | RuntimeException e) {
            if (KeepBack.afterException(mail, here, getInitParameter("onMailetException"), getMailetName(), e)) {
                return;
            }
            throw e;
        }
    }

    private void signOrPass(Mail mail) throws MessagingException {
        if (splitCopies.passesAsOurSplitCopy(mail)) {
            return;
        }
        Map<String, String> partnerDomains = partners.ofRecipients(mail);
        if (partnerDomains.isEmpty()) {
            signing.count(Metrics.SIGN_SKIPPED);
            return;
        }
        if (!policyAllowsSigning(mail)) {
            return;
        }
        SplitCopies.Split split = signCopies(mail, partnerDomains);
        if (split != null) {
            splitCopies.sendOn(mail, split);
        }
    }

    /**
     * Makes the common bytes (our earlier signatures removed, 7 bit, changes saved) and one signature per partner
     * domain over them, bound to that domain with rc= its recipients. Nothing is sent here: when a key is missing
     * the mail waits whole.
     *
     * @return the copies, or null when the mail went to errorProcessor
     */
    private SplitCopies.Split signCopies(Mail mail, Map<String, String> partnerDomains) throws MessagingException {
        Map<String, String> keyIds = primaryKeyIds(mail, partnerDomains);
        if (keyIds == null) {
            return null;
        }
        return signing.attempt(mail, REPORTING, () -> {
            Map<String, List<MailAddress>> groups = partners.recipientsByDomain(mail);
            List<Map.Entry<String, SignRequest>> requests = new ArrayList<>();
            for (Map.Entry<String, String> e : partnerDomains.entrySet()) {
                // rc=: the signature passes for at most this many mailboxes of the domain (docs/PROTOCOL.md 11); the
                // copy that carries it holds all of them and nobody else.
                int recipients = Set.copyOf(groups.get(e.getKey())).size();
                requests.add(Map.entry(e.getKey(), new SignRequest(keyIds.get(e.getKey()), signingDomain,
                        e.getKey(), signing.now(), recipients)));
            }
            MimeMessage message = mail.getMessage();
            OurSignatures.strip(signing, message);
            if (convertTo7Bit) {
                // RemoteDelivery re-encodes 8-bit content for servers without 8BITMIME; doing it first means
                // the bytes signed here are the bytes that leave.
                SerializedMessage.writeBack(() -> new Converter7Bit(getMailetContext()).convertTo7Bit(message));
            }
            SerializedMessage.writeBack(message::saveChanges);
            SerializedMessage raw = SerializedMessage.of(message);
            List<SplitCopies.Copy> copies = new ArrayList<>();
            for (Map.Entry<String, SignRequest> r : requests) {
                List<String> lines = signing.sign(raw, List.of(r.getValue()), partners.signerByDomain().get(r.getKey()));
                copies.add(new SplitCopies.Copy(r.getKey(), groups.get(r.getKey()), lines));
            }
            List<MailAddress> others = groups.get(null);
            if (others != null) {
                copies.add(new SplitCopies.Copy(null, others, List.of()));
            }
            signing.count(Metrics.SIGNED);
            return new SplitCopies.Split(copies, raw);
        }, e -> cannotSign(mail, e));
    }

    /**
     * The primary key id of each partner domain's keyset; null when one keyset has none and the mail was sent to wait
     * for it ({@link WaitingForPrimary}).
     *
     * @throws MessagingException a keyset has no primary and there is no processor to wait in
     */
    private Map<String, String> primaryKeyIds(Mail mail, Map<String, String> partnerDomains) throws MessagingException {
        Map<String, String> keyIds = new HashMap<>();
        for (Map.Entry<String, String> e : partnerDomains.entrySet()) {
            String keyset = e.getValue();
            try {
                keyIds.put(e.getKey(), signing.vault().primaryKeyId(keyset));
                waiting.found(keyset);
            } catch (UnknownKeyException missing) {
                if (waiting.waitFor(mail, keyset, partners.domainsOf(keyset), signing)) {
                    return null;
                }
                signing.count(Metrics.SIGN_KEY_UNAVAILABLE);
                throw new MessagingException(String.format(REPORTING.keyMissing(), mail.getName(), missing.getMessage()), missing);
            }
        }
        return keyIds;
    }

    private void cannotSign(Mail mail, Exception e) {
        String why = UntrustedText.forLog(String.valueOf(e.getMessage()));
        LOGGER.error("auth-hmac: cannot sign mail {}, sending it to processor '{}': {}", mail.getName(), errorProcessor, why);
        divert(mail, Metrics.SIGN_FAILED, KeepBack.awayFrom(mail, errorProcessor, getMailetName(), "errorProcessor"), "cannot sign: " + why);
    }

    /**
     * Applies {@link SigningPolicy}: records its decision (attribute {@code org.authhmac.signing}, counter) and, when
     * the mail is not to be signed, sends it on unsigned or to refusedProcessor.
     *
     * @return whether the mail is to be signed
     */
    private boolean policyAllowsSigning(Mail mail) {
        SigningPolicy.Decision decision = policy.decide(mail);
        mail.setAttribute(new Attribute(AuthHmacAttributes.SIGNING, AttributeValue.of(decision.rule().token())));
        decision.rule().metric().ifPresent(signing::count);
        switch (decision.action()) {
            case SEND_UNSIGNED -> sendUnsigned(mail, decision);
            case REFUSE -> refuse(mail, decision);
            case SIGN -> {
                return true;
            }
        }
        return false;
    }

    /**
     * Partner mail that is not ours goes on as it is, minus any header that uses one of our key ids: the receiver
     * treats it as unsigned. A captured signature of ours cannot ride along on a forward.
     */
    private void sendUnsigned(Mail mail, SigningPolicy.Decision decision) {
        LOGGER.info("auth-hmac: mail {} from {} to partner domains goes on unsigned ({}): {}", mail.getName(),
                mail.getMaybeSender().asString(), decision.rule().token(), decision.detail());
        try {
            OurSignatures.strip(signing, mail.getMessage());
        } catch (MessagingException e) {
            // The header block cannot be read, so it cannot be sent either: retrying will not help.
            LOGGER.error("auth-hmac: cannot read mail {}, sending it to processor '{}': {}", mail.getName(), errorProcessor, e.getMessage());
            divert(mail, Metrics.SIGN_FAILED, KeepBack.awayFrom(mail, errorProcessor, getMailetName(), "errorProcessor"),
                    "cannot read the message: " + e.getMessage());
        }
    }

    /** An authenticated user wrote in somebody else's name: not signed, not sent; refusedProcessor tells the user. */
    private void refuse(Mail mail, SigningPolicy.Decision decision) {
        LOGGER.warn("auth-hmac: mail {} from {} is not signed and not sent ({}), sending it to processor '{}': {}",
                mail.getName(), mail.getMaybeSender().asString(), decision.rule().token(), refusedProcessor, decision.detail());
        mail.setErrorMessage("auth-hmac: not signed and not sent: " + decision.detail());
        mail.setState(KeepBack.awayFrom(mail, refusedProcessor, getMailetName(), "refusedProcessor"));
    }

    @Override
    public Collection<ProcessingState> requiredProcessingState() {
        return Parameters.processingStates(errorProcessor, refusedProcessor, splitCopies.splitProcessor());
    }

    @Override
    public String getMailetInfo() {
        return "SignWithAuthHmac: adds X-Auth-HMAC for partner recipient domains";
    }
}
