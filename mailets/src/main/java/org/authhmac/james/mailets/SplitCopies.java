package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.Metrics;
import org.authhmac.james.SerializedMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How {@link SignWithAuthHmac} sends on a mail it signed for several domains: the mail itself goes on with the first
 * copy, every other copy is queued as a new mail to {@code splitProcessor}, and such a copy passes the mailet once,
 * untouched, when it comes back as it was made.
 *
 * @param splitProcessor where copies split off a mail are queued; null: the processor the mail is in
 */
record SplitCopies(MailSigner signing, MailetContext context, String splitProcessor) {
    /** The mailet's logger: these lines are the mailet's, and operators filter on its name. */
    private static final Logger LOGGER = LoggerFactory.getLogger(SignWithAuthHmac.class);
    /** How much of the original name a split copy's name keeps before its own unique part. */
    static final int MAX_NAME_BASE = 64;
    /** How long after its split a copy may pass untouched with the signature made then; later it is signed anew. */
    static final Duration MAX_COPY_AGE = Duration.ofMinutes(5);
    private static final Session SESSION = Session.getInstance(new Properties());

    /** The copies of one mail, the one the mail itself keeps first, and the common bytes they are signed over. */
    record Split(List<Copy> copies, SerializedMessage raw) {
    }

    /**
     * One copy of a mail: some of its recipients, and the signature lines that go on top of the common bytes for
     * them. A partner domain's copy holds exactly that domain's recipients and only the signature bound to it; the
     * copy for recipients outside every partner domain (domain null) has none.
     */
    record Copy(String domain, List<MailAddress> recipients, List<String> signatures) {
        String describe() {
            return (domain == null ? "other domains" : domain) + " (" + recipients.size() + " recipient"
                    + (recipients.size() == 1 ? "" : "s") + (signatures.isEmpty() ? ", unsigned)" : ", signed)");
        }
    }

    /**
     * The mail itself goes on with the first copy's recipients and signature; every other copy is a new mail (new
     * name, its recipients, the common bytes with its own signature lines on top) queued to splitProcessor, by
     * default the processor the mail is in, where the mailet lets it pass once ({@link AuthHmacAttributes#SPLIT_COPY}).
     * When a copy cannot be queued, the recipients already queued leave the mail and the rest waits for retry: nobody
     * is lost, nobody gets two copies.
     */
    void sendOn(Mail mail, Split split) throws MessagingException {
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
                    context.sendMail(copy(mail, c, split.raw()), state);
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

    /** A new mail for one copy, marked so that it passes the mailet once as it is. */
    private Mail copy(Mail mail, Copy c, SerializedMessage raw) throws MessagingException {
        Mail copy = mail.duplicate();
        String name = copyName(mail.getName());
        copy.setName(name);
        copy.setRecipients(c.recipients());
        MimeMessage message = new MimeMessage(SESSION, new ByteArrayInputStream(raw.buffer(), 0, raw.size()));
        MessageHeaders.prepend(message, c.signatures());
        copy.setMessage(message);
        copy.setAttribute(new Attribute(AuthHmacAttributes.SPLIT_COPY, AttributeValue.of(name)));
        copy.setAttribute(new Attribute(AuthHmacAttributes.SPLIT_COPY_DIGEST,
                AttributeValue.of(signing.now().getEpochSecond() + ":" + digest(copy))));
        return copy;
    }

    /** A new, unique name that still shows the mail it was split from. */
    private static String copyName(String name) {
        String base = name.length() > MAX_NAME_BASE ? name.substring(0, MAX_NAME_BASE) : name;
        return base + "-split-" + UUID.randomUUID();
    }

    /**
     * A copy the mailet split off and queued is signed already: it passes once, untouched, when it still has the
     * name, the recipients and the message it was made with. The mark is removed either way, so that the copy is
     * treated as any other mail if it ever comes back (a release from a repository), and it counts only on the copy it
     * was made for. A copy a mailet changed meanwhile is signed, and split, anew: new recipients (an alias, an archive
     * Bcc) would otherwise receive its signature, and a changed message (a footer added again) would fail its MAC. So
     * is a copy that comes back more than {@link #MAX_COPY_AGE} after its split (stored and released), as the mail
     * itself would be: its first signature may have expired at the partner.
     */
    boolean passesAsOurSplitCopy(Mail mail) {
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
}
