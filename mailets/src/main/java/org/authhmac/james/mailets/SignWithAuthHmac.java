package org.authhmac.james.mailets;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
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
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyInfo;
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
 * <p>Sample configuration (james-conf/ ships the full one; docs/CONFIGURATION.md describes every parameter):
 * <pre>
 * &lt;mailet match="All" class="org.authhmac.james.mailets.SignWithAuthHmac"&gt;
 *   &lt;signingDomain&gt;a.example&lt;/signingDomain&gt;
 *   &lt;partners&gt;b.example=a-b&lt;/partners&gt;
 *   &lt;errorProcessor&gt;auth-hmac-hold&lt;/errorProcessor&gt;
 *   &lt;refusedProcessor&gt;auth-hmac-sign-refused&lt;/refusedProcessor&gt;
 *   &lt;onMailetException&gt;auth-hmac-sign-retry&lt;/onMailetException&gt;
 * &lt;/mailet&gt;
 * &lt;mailet match="All" class="RemoteDelivery"&gt;...&lt;/mailet&gt;
 * </pre>
 */
public class SignWithAuthHmac extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(SignWithAuthHmac.class);
    private static final Pattern KEY_ID_TAG = Pattern.compile("(?:^|;)\\s*s\\s*=\\s*([^;\\s]+)");
    static final Set<String> PARAMETERS = Set.of("signingDomain", "partners", "headerName", "periodSeconds",
            "canonicalization", "convertTo7Bit", "errorProcessor", "refusedProcessor", "splitProcessor");
    /** How much of the original name a split copy's name keeps before its own unique part. */
    static final int MAX_NAME_BASE = 64;
    /** How long after its split a copy may pass untouched with the signature made then; later it is signed anew. */
    static final Duration MAX_COPY_AGE = Duration.ofMinutes(5);
    private static final Session SESSION = Session.getInstance(new Properties());
    private static final MailSigner.Reporting REPORTING = new MailSigner.Reporting(Metrics.SIGN_TIMER, Metrics.SIGN_KEY_UNAVAILABLE,
            "auth-hmac: key vault unavailable, mail %s is kept for retry and not sent unsigned: %s",
            // A keyset without a primary key is a provisioning gap an admin fixes; the mail waits for it.
            "auth-hmac: no usable signing key for mail %s (provision a primary key; the mail is kept for retry): %s",
            SignWithAuthHmac::causedByTheMessage);

    private final MailSigner signing;

    private String signingDomain;
    private Map<String, String> keysetByDomain;
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
        this.signing = new MailSigner(vault, metricFactory, clock);
    }

    @Override
    public void init() throws MessagingException {
        checkInitParameters(PARAMETERS);
        signingDomain = Parameters.domain("signingDomain", getInitParameter("signingDomain"));
        keysetByDomain = Parameters.partners("partners", getInitParameter("partners"));
        signing.init(this::getInitParameter);
        convertTo7Bit = Parameters.bool("convertTo7Bit", getInitParameter("convertTo7Bit"), true);
        errorProcessor = Parameters.processor(getInitParameter("errorProcessor"), Mail.ERROR);
        refusedProcessor = Parameters.processor(getInitParameter("refusedProcessor"), errorProcessor);
        splitProcessor = Parameters.processor(getInitParameter("splitProcessor"), null);
        policy = new SigningPolicy(signingDomain);
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
            signing.count(Metrics.SIGN_SKIPPED);
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
        return signing.attempt(mail, REPORTING, () -> {
            Map<String, List<MailAddress>> groups = recipientsByPartnerDomain(mail, partnerDomains.keySet());
            List<Map.Entry<String, SignRequest>> requests = new ArrayList<>();
            for (Map.Entry<String, String> e : partnerDomains.entrySet()) {
                // rc=: the signature passes for at most this many mailboxes of the domain (docs/PROTOCOL.md 11); the
                // copy that carries it holds all of them and nobody else.
                int recipients = Set.copyOf(groups.get(e.getKey())).size();
                requests.add(Map.entry(e.getKey(), new SignRequest(signing.vault().primaryKeyId(e.getValue()), signingDomain,
                        e.getKey(), signing.now(), recipients)));
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
                List<String> lines = signing.sign(raw, List.of(r.getValue()));
                copies.add(new Copy(r.getKey(), groups.get(r.getKey()), lines));
            }
            List<MailAddress> others = groups.get(null);
            if (others != null) {
                copies.add(new Copy(null, others, List.of()));
            }
            signing.count(Metrics.SIGNED);
            return new Split(copies, raw);
        }, e -> cannotSign(mail, e));
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
            signing.count(Metrics.SIGN_SPLIT);
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
                    copy.setAttribute(new Attribute(AuthHmacAttributes.SPLIT_COPY_DIGEST,
                            AttributeValue.of(signing.now().getEpochSecond() + ":" + digest(copy))));
                    getMailetContext().sendMail(copy, state);
                } catch (MessagingException | RuntimeException | Error e) {
                    // An Error too (a copy of a large mail out of memory): escaping as it is, it would reach the spooler,
                    // which takes the mail again as queued, with the recipients whose copies are queued already.
                    mail.setRecipients(mail.getRecipients().stream().filter(r -> !queued.contains(r)).toList());
                    throw new MessagingException("auth-hmac: cannot queue the copy of mail " + mail.getName() + " for "
                            + c.describe() + "; its " + mail.getRecipients().size() + " recipient(s) not yet queued wait for retry: "
                            + e, e instanceof Exception cause ? cause : new IllegalStateException(e.toString(), e));
                }
                queued.addAll(c.recipients());
                signing.count(Metrics.SIGN_SPLIT_COPIES);
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
     * A copy this mailet split off and queued is signed already: it passes once, untouched, when it still has the
     * name, the recipients and the message it was made with. The mark is removed either way, so that the copy is
     * treated as any other mail if it ever comes back (a release from a repository), and it counts only on the copy it
     * was made for. A copy a mailet changed meanwhile is signed, and split, anew: new recipients (an alias, an archive
     * Bcc) would otherwise receive its signature, and a changed message (a footer added again) would fail its MAC. So
     * is a copy that comes back more than {@link #MAX_COPY_AGE} after its split (stored and released), as the mail
     * itself would be: its first signature may have expired at the partner.
     */
    private boolean passesAsOurSplitCopy(Mail mail) {
        Optional<Attribute> mark = mail.getAttribute(AuthHmacAttributes.SPLIT_COPY);
        Optional<Attribute> digest = mail.getAttribute(AuthHmacAttributes.SPLIT_COPY_DIGEST);
        if (mark.isEmpty() && digest.isEmpty()) {
            return false;
        }
        mail.removeAttribute(AuthHmacAttributes.SPLIT_COPY);
        mail.removeAttribute(AuthHmacAttributes.SPLIT_COPY_DIGEST);
        if (mark.isEmpty() || !mail.getName().equals(mark.get().getValue().getValue())) {
            return false;
        }
        String now;
        try {
            now = digest(mail);
        } catch (MessagingException | RuntimeException e) {
            now = "unreadable";
        }
        String recorded = digest.map(a -> String.valueOf(a.getValue().getValue())).orElse("");
        int colon = recorded.indexOf(':');
        Optional<Instant> splitAt = Optional.empty();
        try {
            splitAt = colon > 0 ? Optional.of(Instant.ofEpochSecond(Long.parseLong(recorded.substring(0, colon)))) : Optional.empty();
        } catch (RuntimeException e) {
            // an unreadable time: not a mark of ours
        }
        Instant at = signing.now();
        if (splitAt.isPresent() && now.equals(recorded.substring(colon + 1))
                && (at.isBefore(splitAt.get().minus(MAX_COPY_AGE)) || at.isAfter(splitAt.get().plus(MAX_COPY_AGE)))) {
            LOGGER.info("auth-hmac: mail {} is a copy split off at {}, too long ago to go on with what was signed then; it is "
                    + "handled as any other mail now (signed for its partner recipients)", mail.getName(), splitAt.get());
            return false;
        }
        if (splitAt.isEmpty() || !now.equals(recorded.substring(colon + 1))) {
            LOGGER.warn("auth-hmac: mail {} is a copy split off earlier whose recipients or message changed since (a mailet "
                    + "before SignWithAuthHmac ran on it again: keep SignWithAuthHmac first in splitProcessor); it is handled "
                    + "as any other mail now (signed for its partner recipients)", mail.getName());
            return false;
        }
        LOGGER.debug("auth-hmac: mail {} is a copy split off and signed earlier, it goes on untouched", mail.getName());
        return true;
    }

    /** SHA-256 (hex) of the recipients in order and of the message's bytes: no change of either goes unnoticed. */
    private static String digest(Mail mail) throws MessagingException {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        for (MailAddress r : mail.getRecipients()) {
            sha256.update(r.asString().getBytes(StandardCharsets.UTF_8));
            sha256.update((byte) 0);
        }
        sha256.update((byte) 0);
        try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), sha256)) {
            mail.getMessage().writeTo(out);
        } catch (IOException e) {
            throw new MessagingException("cannot read the message: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(sha256.digest());
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
        signing.count(Metrics.SIGN_FAILED);
        String why = UntrustedText.forLog(String.valueOf(e.getMessage()));
        LOGGER.error("auth-hmac: cannot sign mail {}, sending it to processor '{}': {}", mail.getName(), errorProcessor, why);
        mail.setErrorMessage("auth-hmac: cannot sign: " + why);
        mail.setState(errorProcessor);
    }

    /**
     * Whether an unchecked exception carries JavaMail's or the stream's verdict on the message itself: James's 7-bit
     * conversion walks nested parts in a lambda that wraps JavaMail's checked exceptions.
     */
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
            stripOurSignatures(mail.getMessage());
        } catch (MessagingException e) {
            // The header block cannot be read, so it cannot be sent either: retrying will not help.
            signing.count(Metrics.SIGN_FAILED);
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
        Set<String> ours = signing.vault().keys().stream().map(KeyInfo::keyId).collect(Collectors.toSet());
        int removed = MessageHeaders.remove(message, signing.headerName(), value -> {
            Matcher m = KEY_ID_TAG.matcher(value);
            return m.find() && ours.contains(m.group(1));
        });
        if (removed > 0) {
            signing.count(Metrics.SIGN_STRIPPED);
            LOGGER.warn("auth-hmac: removed {} earlier {} header(s) that use our key ids", removed, signing.headerName());
        }
    }

    private void checkKeyset(String keyset) throws MailetException {
        try {
            signing.vault().primaryKeyId(keyset);
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
