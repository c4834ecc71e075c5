package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
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
 */
public class SignWithAuthHmac extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(SignWithAuthHmac.class);
    private static final Pattern KEY_ID_TAG = Pattern.compile("(?:^|;)\\s*s\\s*=\\s*([^;\\s]+)");
    static final Set<String> PARAMETERS = Set.of("signingDomain", "partners", "headerName", "periodSeconds",
            "canonicalization", "convertTo7Bit", "errorProcessor", "refusedProcessor", "splitProcessor");
    /** How much of the original name a split copy's name keeps before its own unique part. */
    static final int MAX_NAME_BASE = 64;
    private static final Session SESSION = Session.getInstance(new Properties());

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
    /** Where copies split off a mail are queued; null: the processor the mail is in. */
    private String splitProcessor;
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
        splitProcessor = Parameters.processor(getInitParameter("splitProcessor"), null);
        policy = new SigningPolicy(signingDomain);
        signer = new Signer(settings);
        for (String keyset : Set.copyOf(keysetByDomain.values())) {
            checkKeyset(keyset);
        }
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        if (passesAsOurSplitCopy(mail)) {
            return;
        }
        Map<String, String> partnerDomains = partnerRecipientDomains(mail);
        if (partnerDomains.isEmpty()) {
            metrics.count(Metrics.SIGN_SKIPPED);
            return;
        }
        if (!policyAllowsSigning(mail)) {
            return;
        }
        Split split = signCopies(mail, partnerDomains);
        if (split != null) {
            sendOn(mail, split);
        }
    }

    /** The copies of one mail, the one the mail itself keeps first, and the common bytes they are signed over. */
    private record Split(List<Copy> copies, SerializedMessage raw) {
    }

    /**
     * One copy of a mail: some of its recipients, and the signature lines that go on top of the common bytes for
     * them. A partner domain's copy holds exactly that domain's recipients and only the signature bound to it; the
     * copy for recipients outside every partner domain has none.
     */
    private record Copy(String domain, List<MailAddress> recipients, List<String> signatures) {
        String describe() {
            return (domain == null ? "other domains" : domain) + " (" + recipients.size() + " recipient"
                    + (recipients.size() == 1 ? "" : "s") + (signatures.isEmpty() ? ", unsigned)" : ", signed)");
        }
    }

    /**
     * Makes the common bytes (our earlier signatures removed, 7 bit, changes saved) and one signature per partner
     * domain over them, bound to that domain with rc= its recipients. Nothing is sent here: when a key is missing
     * the mail waits whole.
     *
     * @return the copies, or null when the mail went to errorProcessor
     */
    private Split signCopies(Mail mail, Map<String, String> partnerDomains) throws MessagingException {
        TimeMetric timer = metrics.timer(Metrics.SIGN_TIMER);
        try {
            Map<String, List<MailAddress>> groups = recipientsByPartnerDomain(mail, partnerDomains.keySet());
            List<Map.Entry<String, SignRequest>> requests = new ArrayList<>();
            for (Map.Entry<String, String> e : partnerDomains.entrySet()) {
                // rc=: the signature passes for at most this many mailboxes of the domain (docs/PROTOCOL.md 11); the
                // copy that carries it holds all of them and nobody else.
                int recipients = Set.copyOf(groups.get(e.getKey())).size();
                requests.add(Map.entry(e.getKey(), new SignRequest(vault.primaryKeyId(e.getValue()), signingDomain,
                        e.getKey(), clock.instant(), recipients)));
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
            List<Copy> copies = new ArrayList<>();
            for (Map.Entry<String, SignRequest> r : requests) {
                List<String> lines = signer.sign(raw.buffer(), 0, raw.size(), List.of(r.getValue()), vault);
                copies.add(new Copy(r.getKey(), groups.get(r.getKey()), lines));
            }
            List<MailAddress> others = groups.get(null);
            if (others != null) {
                copies.add(new Copy(null, others, List.of()));
            }
            metrics.count(Metrics.SIGNED);
            return new Split(copies, raw);
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
            return null;
        } catch (RuntimeException e) {
            // James's 7-bit conversion walks nested parts in a lambda that wraps JavaMail's checked exceptions.
            if (!causedByTheMessage(e)) {
                throw e;
            }
            cannotSign(mail, e);
            return null;
        } finally {
            timer.stopAndPublish();
        }
    }

    /**
     * The mail itself goes on with the first copy's recipients and signature; every other copy is a new mail (new
     * name, its recipients, the common bytes with its own signature lines on top) queued to splitProcessor, by
     * default the processor the mail is in, where this mailet lets it pass once ({@link AuthHmacAttributes#SPLIT_COPY}).
     * When a copy cannot be queued, the recipients already queued leave the mail and the rest waits for retry: nobody
     * is lost, nobody gets two copies.
     */
    private void sendOn(Mail mail, Split split) throws MessagingException {
        List<Copy> copies = split.copies();
        if (copies.size() > 1) {
            String state = splitProcessor != null ? splitProcessor : mail.getState() != null ? mail.getState() : Mail.DEFAULT;
            LOGGER.info("auth-hmac: mail {} split into {} copies by recipient domain, each signed only for its own domain: {}; "
                    + "the mail goes on with the first, the others to processor '{}'", mail.getName(), copies.size(),
                    copies.stream().map(Copy::describe).collect(Collectors.joining(", ")), state);
            metrics.count(Metrics.SIGN_SPLIT);
            Set<MailAddress> queued = new HashSet<>();
            for (Copy c : copies.subList(1, copies.size())) {
                try {
                    Mail copy = mail.duplicate();
                    String name = copyName(mail.getName());
                    copy.setName(name);
                    copy.setRecipients(c.recipients());
                    MimeMessage message = new MimeMessage(SESSION, new ByteArrayInputStream(split.raw().buffer(), 0, split.raw().size()));
                    MessageHeaders.prepend(message, c.signatures());
                    copy.setMessage(message);
                    copy.setAttribute(new Attribute(AuthHmacAttributes.SPLIT_COPY, AttributeValue.of(name)));
                    getMailetContext().sendMail(copy, state);
                } catch (MessagingException | RuntimeException e) {
                    mail.setRecipients(mail.getRecipients().stream().filter(r -> !queued.contains(r)).toList());
                    throw new MessagingException("auth-hmac: cannot queue the copy of mail " + mail.getName() + " for "
                            + c.describe() + "; its " + mail.getRecipients().size() + " recipient(s) not yet queued wait for retry: "
                            + e.getMessage(), e);
                }
                queued.addAll(c.recipients());
                metrics.count(Metrics.SIGN_SPLIT_COPIES);
            }
        }
        Copy kept = copies.get(0);
        mail.setRecipients(kept.recipients());
        MessageHeaders.prepend(mail.getMessage(), kept.signatures());
    }

    /** A new, unique name that still shows the mail it was split from. */
    private static String copyName(String name) {
        String base = name.length() > MAX_NAME_BASE ? name.substring(0, MAX_NAME_BASE) : name;
        return base + "-split-" + UUID.randomUUID();
    }

    /**
     * A copy this mailet split off and queued is signed already: it passes once, untouched. The mark is removed
     * either way, so that the copy is treated as any other mail if it ever comes back (a release from a repository),
     * and it counts only on the copy it was made for.
     */
    private static boolean passesAsOurSplitCopy(Mail mail) {
        Optional<Attribute> mark = mail.getAttribute(AuthHmacAttributes.SPLIT_COPY);
        if (mark.isEmpty()) {
            return false;
        }
        mail.removeAttribute(AuthHmacAttributes.SPLIT_COPY);
        boolean ours = mail.getName().equals(mark.get().getValue().getValue());
        if (ours) {
            LOGGER.debug("auth-hmac: mail {} is a copy split off and signed earlier, it goes on untouched", mail.getName());
        }
        return ours;
    }

    /**
     * Recipients in each partner domain (key: the domain, in recipient order) and those outside every partner
     * domain (key: null, last), each list in recipient order.
     */
    private static Map<String, List<MailAddress>> recipientsByPartnerDomain(Mail mail, Set<String> partnerDomains) {
        Map<String, List<MailAddress>> out = new LinkedHashMap<>();
        List<MailAddress> others = new ArrayList<>();
        for (MailAddress rcpt : mail.getRecipients()) {
            Optional<String> domain = Parameters.normalDomain(rcpt.getDomain().asString()).filter(partnerDomains::contains);
            if (domain.isPresent()) {
                out.computeIfAbsent(domain.get(), d -> new ArrayList<>()).add(rcpt);
            } else {
                others.add(rcpt);
            }
        }
        if (!others.isEmpty()) {
            out.put(null, others);
        }
        return out;
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
