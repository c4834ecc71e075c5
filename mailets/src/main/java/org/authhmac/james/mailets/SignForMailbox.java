package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.apache.mailet.Mail;
import org.apache.mailet.PerRecipientHeaders;
import org.apache.mailet.base.GenericMailet;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.tpm.KeyVault;
import org.authhmac.tpm.MailboxKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs mail at local delivery for each recipient that has a mailbox key ({@link MailboxKeys}): one header per
 * recipient, bound to the mailbox (r=local@domain), under that user's own key, attached as a per-recipient header so
 * that each copy carries only its own mailbox's signature. Place it last before LocalDelivery. The user's client
 * checks it (auth-hmac imap-guard, org.authhmac.protocol.client.MailboxVerifier). When the vault cannot answer it
 * throws, so that the mail waits in the onMailetException processor instead of arriving unsigned.
 */
public class SignForMailbox extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(SignForMailbox.class);
    static final Set<String> PARAMETERS = Set.of("signingDomain", "headerName", "periodSeconds", "canonicalization",
            "removeIncoming", "errorProcessor");

    private final KeyVault vault;
    private final Metrics metrics;
    private final Clock clock;

    private Optional<String> signingDomain;
    private String headerName;
    private Signer signer;
    private boolean removeIncoming;
    private String errorProcessor;

    @Inject
    public SignForMailbox(KeyVault vault, MetricFactory metricFactory) {
        this(vault, metricFactory, Clock.systemUTC());
    }

    public SignForMailbox(KeyVault vault, MetricFactory metricFactory, Clock clock) {
        this.vault = vault;
        this.metrics = new Metrics(metricFactory);
        this.clock = clock;
    }

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        String domain = getInitParameter("signingDomain");
        signingDomain = domain == null || domain.isBlank() ? Optional.empty() : Optional.of(Parameters.domain("signingDomain", domain));
        SignerSettings settings = Parameters.signerSettings(this::getInitParameter);
        headerName = settings.headerName();
        removeIncoming = Parameters.bool("removeIncoming", getInitParameter("removeIncoming"), true);
        errorProcessor = Parameters.processor(getInitParameter("errorProcessor"), Mail.ERROR);
        signer = new Signer(settings);
    }

    private record Target(MailAddress recipient, SignRequest request) {
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        TimeMetric timer = metrics.timer(Metrics.MAILBOX_SIGN_TIMER);
        try {
            List<Target> targets = targets(mail);
            if (targets.isEmpty()) {
                return;
            }
            MimeMessage message = mail.getMessage();
            if (removeIncoming) {
                // Their verdict is already in Authentication-Results. Left in place they could push the mailbox
                // signature below the few top-most headers a client evaluates.
                MessageHeaders.remove(message, headerName, v -> true);
            }
            message.saveChanges();
            byte[] raw = SignWithAuthHmac.bytes(message);
            List<String> lines = signer.sign(raw, 0, raw.length, targets.stream().map(Target::request).toList(), vault);
            int valueStart = headerName.length() + 2;
            for (int i = 0; i < targets.size(); i++) {
                mail.addSpecificHeaderForRecipient(PerRecipientHeaders.Header.builder()
                        .name(headerName).value(lines.get(i).substring(valueStart)).build(), targets.get(i).recipient());
                metrics.count(Metrics.MAILBOX_SIGNED);
            }
        } catch (KeyUnavailableException e) {
            metrics.count(Metrics.MAILBOX_KEY_UNAVAILABLE);
            throw new MessagingException("auth-hmac: key vault unavailable, mail " + mail.getName()
                    + " waits for retry and is not delivered unsigned: " + e.getMessage(), e);
        } catch (UnknownKeyException e) {
            // retired between lookup and signing: a rare race, and a retry will find the new primary
            metrics.count(Metrics.MAILBOX_KEY_UNAVAILABLE);
            throw new MessagingException("auth-hmac: mailbox key changed while signing mail " + mail.getName() + ": " + e.getMessage(), e);
        } catch (IOException | IllegalArgumentException e) {
            // The message itself cannot be signed (two From fields): retrying will not help.
            metrics.count(Metrics.MAILBOX_FAILED);
            LOGGER.error("auth-hmac: cannot sign mail {} for its mailboxes, sending it to processor '{}': {}",
                    mail.getName(), errorProcessor, e.getMessage());
            mail.setErrorMessage("auth-hmac: cannot sign for mailbox: " + e.getMessage());
            mail.setState(errorProcessor);
        } finally {
            timer.stopAndPublish();
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
                metrics.count(Metrics.MAILBOX_NO_KEY);
                continue; // a mailbox r= cannot name (non-ASCII local part) has no key either
            }
            Optional<String> keyId = MailboxKeys.primaryKeyId(vault, mailbox);
            if (keyId.isEmpty()) {
                metrics.count(Metrics.MAILBOX_NO_KEY);
                continue;
            }
            String domain = signingDomain.orElseGet(() -> mailbox.substring(mailbox.lastIndexOf('@') + 1));
            out.add(new Target(rcpt, new SignRequest(keyId.get(), domain, mailbox, clock.instant())));
        }
        return out;
    }

    @Override
    public String getMailetInfo() {
        return "SignForMailbox: adds X-Auth-HMAC per local recipient, under the recipient's own key";
    }
}
