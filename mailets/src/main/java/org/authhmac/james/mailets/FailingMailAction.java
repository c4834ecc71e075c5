package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.util.Optional;
import org.apache.mailet.Mail;
import org.authhmac.james.RecordedVerdict;

/**
 * What {@link AuthHmacQuarantine} does with a mail that failed X-Auth-HMAC validation, one class per value of its
 * {@code action} parameter. Each writes the mail's audit line ({@link AuditLine}) and sets where the mail goes next.
 */
interface FailingMailAction {
    /**
     * @param verdict the matcher's recorded verdict; empty when the mail reached the mailet without one
     * @throws MessagingException the mail goes to the mailet's onMailetException processor
     */
    void handle(Mail mail, Optional<RecordedVerdict> verdict) throws MessagingException;
}
