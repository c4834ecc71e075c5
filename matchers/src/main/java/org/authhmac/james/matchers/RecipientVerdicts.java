package org.authhmac.james.matchers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.protocol.AuthResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The verdict of each envelope recipient, kept on the mail ({@link AuthHmacAttributes#RECIPIENT_VERDICTS}) so that
 * a recipient is verified once: a reprocessed mail, or one retried after temperror, is verified only for the
 * recipients that have none. Reading it back gives the recipients to match.
 */
final class RecipientVerdicts {
    // The matcher's logger: operators' log configuration knows the temperror line under that name.
    private static final Logger LOGGER = LoggerFactory.getLogger(AuthHmacFailed.class);

    private final Mail mail;
    private final Map<MailAddress, RecordedVerdict> recorded;

    private RecipientVerdicts(Mail mail, Map<MailAddress, RecordedVerdict> recorded) {
        this.mail = mail;
        this.recorded = recorded;
    }

    /** The verdicts recorded on the mail so far (none on first sight). */
    static RecipientVerdicts of(Mail mail) {
        return new RecipientVerdicts(mail, RecordedVerdict.perRecipient(mail));
    }

    boolean isEmpty() {
        return recorded.isEmpty();
    }

    /** The recorded verdicts, in the order they were recorded. */
    Map<MailAddress, RecordedVerdict> asMap() {
        return Collections.unmodifiableMap(recorded);
    }

    /** The mail's recipients that have no verdict yet. */
    List<MailAddress> pending() {
        return mail.getRecipients().stream().filter(r -> !recorded.containsKey(r)).toList();
    }

    /**
     * Records what an attempt decided and returns it; after a temperror keeps only the passes, counts the attempt
     * ({@link AuthHmacAttributes#TEMPERROR_ATTEMPTS}) and throws, so that the mail waits and is retried.
     */
    Map<MailAddress, RecordedVerdict> record(RecipientVerification.Attempt attempt) throws TemporaryVerificationFailure {
        if (attempt instanceof RecipientVerification.TempError temperror) {
            // Keep what passed (those recipients are now in the replay cache and must not be checked again);
            // everything else is verified afresh on the retry, against the same acceptance time.
            temperror.decided().forEach((r, v) -> {
                if (v.result() == AuthResult.PASS) {
                    recorded.put(r, v);
                }
            });
            write();
            int attempts = mail.getAttribute(AuthHmacAttributes.TEMPERROR_ATTEMPTS)
                    .flatMap(a -> a.getValue().valueAs(Integer.class)).orElse(0) + 1;
            mail.setAttribute(new Attribute(AuthHmacAttributes.TEMPERROR_ATTEMPTS, AttributeValue.of(attempts)));
            LOGGER.warn("auth-hmac: temperror for mail {} (attempt {}): {}; the mail waits for retry",
                    mail.getName(), attempts, temperror.detail());
            throw new TemporaryVerificationFailure("auth-hmac temperror, retry later (" + temperror.detail() + ")");
        }
        recorded.putAll(attempt.decided());
        write();
        return attempt.decided();
    }

    /** The recipients, in the mail's order, whose verdict is one of {@code failOn}. */
    List<MailAddress> failing(Set<AuthResult> failOn) {
        List<MailAddress> failing = new ArrayList<>();
        for (MailAddress r : mail.getRecipients()) {
            RecordedVerdict v = recorded.get(r);
            if (v != null && failOn.contains(v.result())) {
                failing.add(r);
            }
        }
        return failing;
    }

    private void write() {
        RecordedVerdict.writePerRecipient(mail, recorded);
    }
}
