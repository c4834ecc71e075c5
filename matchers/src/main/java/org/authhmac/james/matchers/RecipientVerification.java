package org.authhmac.james.matchers;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.api.TimeMetric;
import org.apache.mailet.Mail;
import org.authhmac.james.Metrics;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.SerializedMessage;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies a mail for the recipients that have no verdict yet: the message serialized once, the {@link Verifier}
 * called on it, a failure to run it turned into a verdict, and a pass kept only for the mail's author domain.
 */
final class RecipientVerification {
    // The matcher's logger: operators' log configuration knows these lines under that name.
    private static final Logger LOGGER = LoggerFactory.getLogger(AuthHmacFailed.class);

    /** What one verification attempt decided. */
    sealed interface Attempt {
        /** The verdicts other than temperror, in the order of the recipients. */
        Map<MailAddress, RecordedVerdict> decided();
    }

    /** Every recipient got a verdict. */
    record Decided(Map<MailAddress, RecordedVerdict> decided) implements Attempt {
    }

    /** Some recipient got temperror ({@code detail}: the last one's reason and detail); the mail must wait. */
    record TempError(Map<MailAddress, RecordedVerdict> decided, String detail) implements Attempt {
    }

    /** Told the verdicts of each verified mail (the partner's health); must not throw. */
    @FunctionalInterface
    interface Observer {
        void verified(List<Verdict> verdicts, Instant acceptedAt);
    }

    private final Verifier verifier;
    private final Metrics metrics;
    private final Observer observer;

    RecipientVerification(Verifier verifier, Metrics metrics) {
        this(verifier, metrics, (verdicts, acceptedAt) -> { });
    }

    RecipientVerification(Verifier verifier, Metrics metrics, Observer observer) {
        this.verifier = verifier;
        this.metrics = metrics;
        this.observer = observer;
    }

    /** Verifies the mail for {@code pending}, timed and counted per verdict. */
    Attempt verify(Mail mail, List<MailAddress> pending, Optional<String> authorDomain, Instant acceptedAt)
            throws MessagingException {
        Map<MailAddress, RecordedVerdict> decided = new LinkedHashMap<>();
        Optional<String> temporary = Optional.empty();
        TimeMetric timer = metrics.timer(Metrics.VERIFY_TIMER);
        try {
            // The mail's own replay token, pinned on it: a retry (on any node) of a record whose answer was lost
            // finds its entry and passes; another copy of the signature has another token (ReplayAttempt).
            MimeMessage message = mail.getMessage();
            Map<String, Verdict> verdicts = ReplayAttempt.during(ReplayAttempt.pin(mail), () -> verify(message, acceptedAt, pending));
            List<Verdict> seen = new java.util.ArrayList<>();
            for (MailAddress r : pending) {
                Verdict v = aligned(verdicts.get(r.asString()), authorDomain);
                seen.add(v);
                metrics.countVerdict(v.result(), v.reason());
                if (v.result() == AuthResult.TEMPERROR) {
                    temporary = Optional.of(v.reason().token() + ": " + v.detail());
                } else {
                    decided.put(r, RecordedVerdict.of(v));
                }
            }
            observer.verified(seen, acceptedAt);
        } finally {
            timer.stopAndPublish();
        }
        if (temporary.isPresent()) {
            return new TempError(decided, temporary.get());
        }
        return new Decided(decided);
    }

    private Map<String, Verdict> verify(MimeMessage message, Instant acceptedAt, List<MailAddress> recipients) {
        try {
            MessageBytes out = new MessageBytes(message);
            SerializedMessage.writeBack(() -> message.writeTo(out));
            List<String> rcpts = recipients.stream().map(MailAddress::asString).toList();
            // Read in place: header fields and body are ranges of the buffer, not copies of it.
            return verifier.verify(out.buffer(), 0, out.size(), acceptedAt, rcpts);
        } catch (MessagingException e) {
            if (e.getCause() instanceof IOException) {
                return temporary(recipients, e);
            }
            // JavaMail cannot write the message back (MIME it cannot parse, such as a boundary that never occurs):
            // that will not change on a retry, so it is a verdict now.
            LOGGER.warn("auth-hmac: mail cannot be written back for verification, permerror malformed: {}", e.getMessage());
            return all(recipients, new Verdict.PermError(Reason.MALFORMED, Optional.empty(),
                    "the message's MIME structure cannot be read: " + e.getMessage()));
        } catch (Exception e) {
            return temporary(recipients, e);
        }
    }

    private static Map<String, Verdict> temporary(List<MailAddress> recipients, Exception e) {
        // Fail closed but keep the mail: an unreadable spool file or a verifier bug is a temporary condition.
        LOGGER.error("auth-hmac: verification could not run", e);
        return all(recipients, new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.empty(), "verification could not run: " + e));
    }

    private static Map<String, Verdict> all(List<MailAddress> recipients, Verdict v) {
        Map<String, Verdict> all = new HashMap<>();
        for (MailAddress r : recipients) {
            all.put(r.asString(), v);
        }
        return all;
    }

    /**
     * A pass must be made for the From domain that the protocol's reading and mail clients' parsers agree on: never
     * for the envelope sender's domain, another partner's domain, or a From that parsers read differently. The
     * verifier already fails a From outside d= (from-mismatch); this adds the parser cross-check.
     */
    static Verdict aligned(Verdict v, Optional<String> authorDomain) {
        if (v == null) {
            return new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.empty(), "verifier returned no verdict for a recipient");
        }
        if (v instanceof Verdict.Pass p && !authorDomain.map(p.header().domain()::equals).orElse(false)) {
            return new Verdict.Fail(Reason.FROM_MISMATCH, v.signature(), "signed for d=" + p.header().domain()
                    + authorDomain.map(a -> " but the From domain is " + a)
                            .orElse(" but mail clients' parsers do not read the From field as one mailbox in it"));
        }
        return v;
    }

    /**
     * The serialized message, read back without {@code toByteArray}'s copy: a large mail is held once, not twice.
     * Sized from the message itself (its header lines and its content size, {@link SerializedMessage#expectedSize}):
     * a fixed allowance for the header block made a mail with more header bytes than that grow the buffer to twice
     * its size.
     */
    static final class MessageBytes extends ByteArrayOutputStream {
        MessageBytes(MimeMessage message) throws MessagingException {
            super(SerializedMessage.expectedSize(message));
        }

        /** The buffer itself; the message is its first {@link #size()} bytes. */
        byte[] buffer() {
            return buf;
        }
    }
}
