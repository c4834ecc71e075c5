package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetException;
import org.apache.mailet.base.Converter7Bit;
import org.apache.mailet.base.GenericMailet;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.james.SerializedMessage;
import org.authhmac.james.UntrustedText;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.tpm.KeyInfo;
import org.authhmac.tpm.KeyVault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs outbound mail for partner domains: one X-Auth-HMAC header per (primary key, partner recipient domain),
 * made on the final bytes. Place it last before RemoteDelivery. When the key vault cannot answer it throws, so
 * that the mail waits in the retry processor named by onMailetException and never leaves unsigned.
 *
 * <p>Only mail a user of the signing domain wrote and submitted here is signed ({@link SigningPolicy}): other
 * partner mail goes on unsigned, without any header that uses our key ids, or, when an authenticated user wrote in
 * somebody else's name, to {@code refusedProcessor}.
 */
public class SignWithAuthHmac extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(SignWithAuthHmac.class);
    private static final Pattern KEY_ID_TAG = Pattern.compile("(?:^|;)\\s*s\\s*=\\s*([^;\\s]+)");
    static final Set<String> PARAMETERS = Set.of("signingDomain", "partners", "headerName", "periodSeconds",
            "canonicalization", "convertTo7Bit", "errorProcessor", "refusedProcessor");

    private final KeyVault vault;
    private final Metrics metrics;
    private final Clock clock;

    private String signingDomain;
    private Map<String, String> keysetByDomain;
    private String headerName;
    private Signer signer;
    private boolean convertTo7Bit;
    private String errorProcessor;
    private String refusedProcessor;
    private SigningPolicy policy;

    @Inject
    public SignWithAuthHmac(KeyVault vault, MetricFactory metricFactory) {
        this(vault, metricFactory, Clock.systemUTC());
    }

    public SignWithAuthHmac(KeyVault vault, MetricFactory metricFactory, Clock clock) {
        this.vault = vault;
        this.metrics = new Metrics(metricFactory);
        this.clock = clock;
    }

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        signingDomain = Parameters.domain("signingDomain", getInitParameter("signingDomain"));
        keysetByDomain = Parameters.partners("partners", getInitParameter("partners"));
        SignerSettings settings = Parameters.signerSettings(this::getInitParameter);
        headerName = settings.headerName();
        convertTo7Bit = Parameters.bool("convertTo7Bit", getInitParameter("convertTo7Bit"), true);
        errorProcessor = Parameters.processor(getInitParameter("errorProcessor"), Mail.ERROR);
        refusedProcessor = Parameters.processor(getInitParameter("refusedProcessor"), errorProcessor);
        policy = new SigningPolicy(signingDomain);
        signer = new Signer(settings);
        for (String keyset : Set.copyOf(keysetByDomain.values())) {
            checkKeyset(keyset);
        }
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        Map<String, String> partnerDomains = partnerRecipientDomains(mail);
        if (partnerDomains.isEmpty()) {
            metrics.count(Metrics.SIGN_SKIPPED);
            return;
        }
        if (!policyAllowsSigning(mail)) {
            return;
        }
        TimeMetric timer = metrics.timer(Metrics.SIGN_TIMER);
        try {
            List<SignRequest> requests = new ArrayList<>();
            Map<String, Integer> recipientCounts = recipientsPerDomain(mail);
            for (Map.Entry<String, String> e : partnerDomains.entrySet()) {
                // rc=: the signature passes for at most this many mailboxes of the domain (docs/PROTOCOL.md 11).
                requests.add(new SignRequest(vault.primaryKeyId(e.getValue()), signingDomain, e.getKey(), clock.instant(),
                        recipientCounts.get(e.getKey())));
            }
            MimeMessage message = mail.getMessage();
            stripOurSignatures(message);
            if (convertTo7Bit) {
                // RemoteDelivery re-encodes 8-bit content for servers without 8BITMIME; doing it first means
                // the bytes signed here are the bytes that leave.
                SerializedMessage.writeBack(() -> new Converter7Bit(getMailetContext()).convertTo7Bit(message));
            }
            SerializedMessage.writeBack(message::saveChanges);
            SerializedMessage raw = SerializedMessage.of(message);
            List<String> lines = signer.sign(raw.buffer(), 0, raw.size(), requests, vault);
            MessageHeaders.prepend(message, lines);
            metrics.count(Metrics.SIGNED);
        } catch (KeyUnavailableException e) {
            metrics.count(Metrics.SIGN_KEY_UNAVAILABLE);
            throw new MessagingException("auth-hmac: key vault unavailable, mail " + mail.getName()
                    + " is kept for retry and not sent unsigned: " + e.getMessage(), e);
        } catch (UnknownKeyException e) {
            // A keyset without a primary key is a provisioning gap an admin fixes; the mail waits for it.
            metrics.count(Metrics.SIGN_KEY_UNAVAILABLE);
            throw new MessagingException("auth-hmac: no usable signing key for mail " + mail.getName()
                    + " (provision a primary key; the mail is kept for retry): " + e.getMessage(), e);
        } catch (MessagingException | IOException | IllegalArgumentException e) {
            // The message itself cannot be signed (a duplicated Subject, MIME that JavaMail cannot write back): a
            // permanent verdict, retrying will not help.
            cannotSign(mail, e);
        } catch (RuntimeException e) {
            // James's 7-bit conversion walks nested parts in a lambda that wraps JavaMail's checked exceptions.
            if (!causedByTheMessage(e)) {
                throw e;
            }
            cannotSign(mail, e);
        } finally {
            timer.stopAndPublish();
        }
    }

    private void cannotSign(Mail mail, Exception e) {
        metrics.count(Metrics.SIGN_FAILED);
        String why = UntrustedText.forLog(String.valueOf(e.getMessage()));
        LOGGER.error("auth-hmac: cannot sign mail {}, sending it to processor '{}': {}", mail.getName(), errorProcessor, why);
        mail.setErrorMessage("auth-hmac: cannot sign: " + why);
        mail.setState(errorProcessor);
    }

    /** Whether an unchecked exception carries JavaMail's or the stream's verdict on the message itself. */
    private static boolean causedByTheMessage(RuntimeException e) {
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof MessagingException || t instanceof IOException) {
                return true;
            }
        }
        return false;
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
        decision.rule().metric().ifPresent(metrics::count);
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
            stripOurSignatures(mail.getMessage());
        } catch (MessagingException e) {
            // The header block cannot be read, so it cannot be sent either: retrying will not help.
            metrics.count(Metrics.SIGN_FAILED);
            LOGGER.error("auth-hmac: cannot read mail {}, sending it to processor '{}': {}", mail.getName(), errorProcessor, e.getMessage());
            mail.setErrorMessage("auth-hmac: cannot read the message: " + e.getMessage());
            mail.setState(errorProcessor);
        }
    }

    /** An authenticated user wrote in somebody else's name: not signed, not sent; refusedProcessor tells the user. */
    private void refuse(Mail mail, SigningPolicy.Decision decision) {
        LOGGER.warn("auth-hmac: mail {} from {} is not signed and not sent ({}), sending it to processor '{}': {}",
                mail.getName(), mail.getMaybeSender().asString(), decision.rule().token(), refusedProcessor, decision.detail());
        mail.setErrorMessage("auth-hmac: not signed and not sent: " + decision.detail());
        mail.setState(refusedProcessor);
    }

    @Override
    public String getMailetInfo() {
        return "SignWithAuthHmac: adds X-Auth-HMAC for partner recipient domains";
    }

    /** Partner recipient domain -> keyset, in recipient order. */
    private Map<String, String> partnerRecipientDomains(Mail mail) {
        Map<String, String> out = new LinkedHashMap<>();
        for (MailAddress rcpt : mail.getRecipients()) {
            Parameters.normalDomain(rcpt.getDomain().asString()).ifPresent(d -> {
                String keyset = keysetByDomain.get(d);
                if (keyset != null) {
                    out.putIfAbsent(d, keyset);
                }
            });
        }
        return out;
    }

    /** Distinct envelope recipients per (normalized) recipient domain. */
    private static Map<String, Integer> recipientsPerDomain(Mail mail) {
        Map<String, Integer> out = new HashMap<>();
        for (MailAddress rcpt : Set.copyOf(mail.getRecipients())) {
            Parameters.normalDomain(rcpt.getDomain().asString()).ifPresent(d -> out.merge(d, 1, Integer::sum));
        }
        return out;
    }

    /** A header that names one of our key ids was not made here for this hop: a forgery or a stale copy. */
    private void stripOurSignatures(MimeMessage message) throws MessagingException {
        Set<String> ours = vault.keys().stream().map(KeyInfo::keyId).collect(Collectors.toSet());
        int removed = MessageHeaders.remove(message, headerName, value -> {
            Matcher m = KEY_ID_TAG.matcher(value);
            return m.find() && ours.contains(m.group(1));
        });
        if (removed > 0) {
            metrics.count(Metrics.SIGN_STRIPPED);
            LOGGER.warn("auth-hmac: removed {} earlier {} header(s) that use our key ids", removed, headerName);
        }
    }

    private void checkKeyset(String keyset) throws MailetException {
        try {
            vault.primaryKeyId(keyset);
        } catch (UnknownKeyException e) {
            // Start anyway: keys may be provisioned after start-up, and mail for this partner waits until then.
            LOGGER.warn("auth-hmac: keyset '{}' (parameter 'partners') has no primary key yet; mail for it will wait", keyset);
        } catch (RuntimeException e) {
            throw Parameters.error("partners", "the key vault cannot resolve keyset '" + keyset + "': " + e.getMessage());
        }
    }

    static byte[] bytes(MimeMessage message) throws MessagingException, IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        message.writeTo(out);
        return out.toByteArray();
    }
}
