package org.authhmac.james.matchers;

import jakarta.mail.MessagingException;

/**
 * Thrown by the validating matcher when a verdict is temperror (key vault down, replay cache full). James then
 * applies the mailet's onMatchException: the shipped configuration names a retry processor that re-queues the
 * mail with a delay. Without that setting James sends it to the error processor: held, never delivered unchecked.
 */
public class TemporaryVerificationFailure extends MessagingException {
    public TemporaryVerificationFailure(String message) {
        super(message);
    }
}
