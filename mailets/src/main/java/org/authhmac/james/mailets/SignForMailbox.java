package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.mailet.Mail;
import org.apache.mailet.PerRecipientHeaders;
import org.apache.mailet.ProcessingState;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.james.SerializedMessage;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyVault;
import org.authhmac.vault.MailboxKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs mail at local delivery for each recipient that has a mailbox key ({@link MailboxKeys}): one header per
 * recipient, bound to the mailbox (r=local@domain), under that user's own key, attached as a per-recipient header so
 * that each copy carries only its own mailbox's signature. Each signature carries this server's verdict on the mail
 * for that recipient in sv= (and pd= for a pass), read from our own mail attributes ({@link DeliveryVerdict}), so
 * that the client shows a partner pass only for mail the server passed. Place it last before LocalDelivery. The
 * user's client checks it (auth-hmac imap-guard, org.authhmac.protocol.client.MailboxVerifier). When the vault cannot
 * answer it throws, so that the mail waits in the onMailetException processor instead of arriving unsigned.
 *
 * <p>Sample configuration (james-conf/ ships the full one; docs/CONFIGURATION.md describes every parameter):
 * <pre>
 * &lt;mailet match="All" class="org.authhmac.james.mailets.SignForMailbox"&gt;
 *   &lt;onMailetException&gt;auth-hmac-deliver-retry&lt;/onMailetException&gt;
 * &lt;/mailet&gt;
 * &lt;mailet match="All" class="LocalDelivery"/&gt;
 * </pre>
 */
public class SignForMailbox extends SigningMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(SignForMailbox.class);
    static final Set<String> PARAMETERS = Set.of("signingDomain", "headerName", "periodSeconds", "canonicalization",
            "removeIncoming", "errorProcessor");

    private static final MailSigner.Reporting REPORTING = new MailSigner.Reporting(Metrics.MAILBOX_SIGN_TIMER,
            Metrics.MAILBOX_KEY_UNAVAILABLE,
            "auth-hmac: key vault unavailable, mail %s waits for retry and is not delivered unsigned: %s",
            // retired between lookup and signing: a rare race, and a retry will find the new primary
            "auth-hmac: mailbox key changed while signing mail %s: %s",
            e -> false); // no unchecked exception here is the message's fault: it escapes

    private Optional<String> signingDomain;
    private boolean removeIncoming;
    private Optional<String> errorProcessor;

    @Inject
    public SignForMailbox(KeyVault vault, MetricFactory metricFactory) {
        this(vault, metricFactory, Clock.systemUTC());
    }

    public SignForMailbox(KeyVault vault, MetricFactory metricFactory, Clock clock) {
        super(vault, metricFactory, clock, PARAMETERS);
    }

    @Override
    void configure() throws MessagingException {
        signing.init(Parameters.signerSettings(this::getInitParameter));
        String domain = getInitParameter("signingDomain");
        signingDomain = domain == null || domain.isBlank() ? Optional.empty() : Optional.of(Parameters.domain("signingDomain", domain));
        removeIncoming = Parameters.bool("removeIncoming", getInitParameter("removeIncoming"), true);
        errorProcessor = Optional.ofNullable(Parameters.orDefault(getInitParameter("errorProcessor"), null));
    }

    private record Target(MailAddress recipient, SignRequest request) {
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        signing.attempt(mail, REPORTING, () -> {
            signForRecipients(mail);
            return null;
        }, e -> unsignable(mail, e));
    }

    private void signForRecipients(Mail mail) throws KeyUnavailableException, UnknownKeyException, MessagingException, IOException {
        List<Target> targets = targets(mail);
        if (targets.isEmpty()) {
            return;
        }
        String headerName = signing.headerName();
        MimeMessage message = mail.getMessage();
        if (removeIncoming) {
            // Their verdict is already in Authentication-Results. Left in place they could push the mailbox
            // signature below the few top-most headers a client evaluates.
            MessageHeaders.remove(message, headerName, v -> true);
        }
        // No saveChanges() of our own: writeTo makes the same one when the headers changed, and LocalDelivery
        // then writes these very bytes.
        SerializedMessage raw = SerializedMessage.of(message);
        List<String> lines = signing.sign(raw, targets.stream().map(Target::request).toList());
        int valueStart = headerName.length() + 2;
        for (int i = 0; i < targets.size(); i++) {
            mail.addSpecificHeaderForRecipient(PerRecipientHeaders.Header.builder()
                    .name(headerName).value(lines.get(i).substring(valueStart)).build(), targets.get(i).recipient());
            signing.count(Metrics.MAILBOX_SIGNED);
        }
    }

    /**
     * Delivered without a mailbox signature, so the recipient's client says none (or, when {@code errorProcessor}
     * is set, sent there). Never to a processor that bounces: the envelope sender may be forged.
     */
    private void unsignable(Mail mail, Exception e) {
        String why = UntrustedText.forLog(e.getMessage());
        if (errorProcessor.isPresent()) {
            LOGGER.warn("auth-hmac: cannot sign mail {} for its mailboxes, sending it to processor '{}': {}",
                    mail.getName(), errorProcessor.get(), why);
            divert(mail, Metrics.MAILBOX_FAILED, errorProcessor.get(), "cannot sign for mailbox: " + why);
            return;
        }
        signing.count(Metrics.MAILBOX_FAILED);
        LOGGER.warn("auth-hmac: cannot sign mail {} for its mailboxes, delivering it without a mailbox signature: {}",
                mail.getName(), why);
        if (e instanceof MessagingException) {
            // JavaMail cannot write this message back (LocalDelivery would fail the same way): deliver its bytes
            // as they are, with our header edits, unparsed
            try {
                mail.setMessage(MailStorage.frozenCopy(mail.getMessage()));
            } catch (MessagingException | RuntimeException frozen) {
                LOGGER.warn("auth-hmac: mail {} cannot be copied unparsed either: {}", mail.getName(), UntrustedText.forLog(frozen.toString()));
            }
        }
    }

    /** Recipients with a mailbox key and what to sign for each; the others are delivered as they are. */
    private List<Target> targets(Mail mail) {
        List<Target> out = new ArrayList<>();
        for (MailAddress rcpt : mail.getRecipients()) {
            String mailbox;
            try {
                mailbox = MailboxKeys.mailbox(rcpt.asString());
            } catch (IllegalArgumentException e) {
                signing.count(Metrics.MAILBOX_NO_KEY);
                continue; // a mailbox r= cannot name (non-ASCII local part) has no key either
            }
            Optional<String> keyId = MailboxKeys.primaryKeyId(signing.vault(), mailbox);
            if (keyId.isEmpty()) {
                signing.count(Metrics.MAILBOX_NO_KEY);
                continue;
            }
            String domain = signingDomain.orElseGet(() -> mailbox.substring(mailbox.lastIndexOf('@') + 1));
            DeliveryVerdict verdict = DeliveryVerdict.of(mail, rcpt);
            out.add(new Target(rcpt, new SignRequest(keyId.get(), domain, mailbox, signing.now())
                    .withServerVerdict(verdict.token(), verdict.partnerDomain().orElse(null))));
        }
        return out;
    }

    @Override
    public Collection<ProcessingState> requiredProcessingState() {
        return Parameters.processingStates(errorProcessor.orElse(null));
    }

    @Override
    public String getMailetInfo() {
        return "SignForMailbox: adds X-Auth-HMAC per local recipient, under the recipient's own key, with the server's verdict";
    }
}
