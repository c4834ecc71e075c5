package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.rrt.api.RecipientRewriteTable;
import org.apache.mailet.Mail;
import org.apache.mailet.ProcessingState;
import org.apache.mailet.base.GenericMailet;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.ReleaseTokens;
import org.authhmac.james.SelfRelease;
import org.authhmac.protocol.Reason;
import org.authhmac.vault.ManagedKeyVault;

/**
 * Release by reply: handles mail sent to the one-time addresses of a quarantine notice
 * ({@link ReleaseTokens}; the matcher {@code RecipientIsReleaseAddress} picks those recipients). The request counts
 * only from the mailbox the address was made for, authenticated with SMTP AUTH; the From field is never read. A
 * release sends that mailbox's copy of the held mail on to {@code releaseProcessor} (as the WebAdmin release does,
 * past the validation step) and a discard drops it; either way the copy is settled and the address is used up
 * ({@link HeldCopies}). Every request gets one audit line and, when its sender authenticated, one short reply
 * delivered to that mailbox only: the held mail's sender is never told. The request itself is never delivered.
 *
 * <p>Sample configuration (first in the root processor; docs/CONFIGURATION.md describes every parameter):
 * <pre>
 * &lt;mailet match="org.authhmac.james.matchers.RecipientIsReleaseAddress"
 *         class="org.authhmac.james.mailets.AuthHmacRelease"&gt;
 *   &lt;selfRelease&gt;expired,future,unknown-key&lt;/selfRelease&gt;
 *   &lt;repositoryPath&gt;file://var/mail/auth-hmac-quarantine/&lt;/repositoryPath&gt;
 *   &lt;releaseProcessor&gt;transport&lt;/releaseProcessor&gt;
 *   &lt;replyProcessor&gt;local-delivery&lt;/replyProcessor&gt;
 *   &lt;onMailetException&gt;auth-hmac-hold&lt;/onMailetException&gt;
 * &lt;/mailet&gt;
 * </pre>
 */
public class AuthHmacRelease extends GenericMailet {
    static final Set<String> PARAMETERS = Set.of("selfRelease", "repositoryPath", "releaseProcessor", "replyProcessor");

    private final MailRepositoryStore repositoryStore;
    private final Metrics metrics;
    private final PartnerPolicyFile policyFile;
    private final RecipientRewriteTable rrt;
    private final ReleaseTokens tokens;
    private final org.authhmac.vault.KeyVault vault;

    private ReleaseRequests requests;
    private Collection<ProcessingState> sendsTo;

    @Inject
    public AuthHmacRelease(MailRepositoryStore repositoryStore, MetricFactory metricFactory, PartnerPolicyFile policyFile,
                           RecipientRewriteTable rrt, ManagedKeyVault vault) {
        this(repositoryStore, metricFactory, policyFile, rrt, vault, new ReleaseTokens(vault, Clock.systemUTC(), new SecureRandom()));
    }

    /**
     * With release tokens of the caller's (their vault and clock): public for tests in other modules (the matchers
     * module runs the receiving pipeline with its own time); James uses the {@code @Inject} constructor.
     */
    public AuthHmacRelease(MailRepositoryStore repositoryStore, MetricFactory metricFactory, PartnerPolicyFile policyFile,
                           RecipientRewriteTable rrt, org.authhmac.vault.KeyVault vault, ReleaseTokens tokens) {
        this.repositoryStore = repositoryStore;
        this.metrics = new Metrics(metricFactory);
        this.policyFile = policyFile;
        this.rrt = rrt;
        this.vault = vault;
        this.tokens = tokens;
    }

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        Parameters.refuseFailOpen("onMailetException", getInitParameter("onMailetException"), "ignore",
                "a release request this mailet could not handle would go on to transport, and be relayed");
        Set<Reason> reasons = SelfRelease.reasons("selfRelease", getInitParameter("selfRelease"));
        String url = Parameters.orDefault(getInitParameter("repositoryPath"), AuthHmacQuarantine.DEFAULT_REPOSITORY);
        MailRepository repository;
        try {
            repository = repositoryStore.select(MailRepositoryUrl.from(url));
        } catch (Exception e) {
            throw Parameters.error("repositoryPath", "cannot open mail repository '" + url + "': " + e.getMessage());
        }
        String releaseProcessor = Parameters.orDefault(getInitParameter("releaseProcessor"), AuthHmacQuarantine.DEFAULT_RELEASE_PROCESSOR);
        String replyProcessor = Parameters.orDefault(getInitParameter("replyProcessor"), AuthHmacQuarantine.DEFAULT_NOTICE_PROCESSOR);
        var policies = policyFile.policies();
        for (var partner : policies.partners().values()) {
            if (partner.keyset().equals(ReleaseTokens.KEYSET)) {
                throw Parameters.error("selfRelease", "partner " + partner.domain() + " uses keyset " + ReleaseTokens.KEYSET
                        + ", which is this server's own release key: give the partner another keyset");
            }
        }
        requests = new ReleaseRequests(getMailetContext(), tokens, new HeldCopies(repository,
                LocalMailboxes.resolvedBy(rrt, getMailetContext()::isLocalEmail)), new SignatureRecheck(policies, vault, Clock.systemUTC()),
                reasons, releaseProcessor, replyProcessor, metrics);
        sendsTo = Parameters.processingStates(releaseProcessor, replyProcessor);
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        List<MailAddress> others = new ArrayList<>();
        List<MailAddress> addresses = new ArrayList<>();
        for (MailAddress recipient : mail.getRecipients()) {
            if (ReleaseTokens.isReleaseAddress(recipient, getMailetContext()::isLocalServer)) {
                addresses.add(recipient);
            } else {
                others.add(recipient);
            }
        }
        requests.handleAll(mail, addresses);
        if (others.isEmpty()) {
            mail.setState(Mail.GHOST);
        } else {
            mail.setRecipients(others);
        }
    }

    @Override
    public Collection<ProcessingState> requiredProcessingState() {
        return sendsTo;
    }

    @Override
    public String getMailetInfo() {
        return "AuthHmacRelease: releases or discards a recipient's copy of a held mail on their authenticated request";
    }
}
