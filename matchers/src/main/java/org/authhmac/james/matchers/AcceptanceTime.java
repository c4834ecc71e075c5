package org.authhmac.james.matchers;

import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.authhmac.james.AuthHmacAttributes;

/**
 * When this James accepted a mail: the instant the signature's time window is measured from. Pinned on the mail
 * ({@link AuthHmacAttributes#ACCEPTED_AT}) at the first verification, so that a retry or a re-queue, which updates
 * {@code Mail.getLastUpdated()}, still measures from acceptance.
 */
final class AcceptanceTime {
    private final Clock clock;

    AcceptanceTime(Clock clock) {
        this.clock = clock;
    }

    /** Whether the mail already carries its acceptance time: a matcher has seen it before. */
    static boolean isPinned(Mail mail) {
        return mail.getAttribute(AuthHmacAttributes.ACCEPTED_AT).isPresent();
    }

    /** The pinned acceptance time; on first sight James's {@code Mail.getLastUpdated()}, set when it accepted the mail. */
    Instant pin(Mail mail) {
        Optional<Long> pinned = mail.getAttribute(AuthHmacAttributes.ACCEPTED_AT).flatMap(a -> a.getValue().valueAs(Long.class));
        if (pinned.isPresent()) {
            return Instant.ofEpochMilli(pinned.get());
        }
        Instant accepted = mail.getLastUpdated() != null ? mail.getLastUpdated().toInstant() : clock.instant();
        mail.setAttribute(new Attribute(AuthHmacAttributes.ACCEPTED_AT, AttributeValue.of(accepted.toEpochMilli())));
        return accepted;
    }
}
