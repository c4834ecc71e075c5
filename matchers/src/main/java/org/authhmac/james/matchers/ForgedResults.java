package org.authhmac.james.matchers;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes inbound Authentication-Results fields that claim our authserv-id (RFC 8601 section 5): only this server
 * may speak for it, so a later reader must not take a sender's field for our verdict.
 */
final class ForgedResults {
    // The matcher's logger: operators' log configuration knows the line under that name.
    private static final Logger LOGGER = LoggerFactory.getLogger(AuthHmacFailed.class);

    private final String authservId;
    private final Metrics metrics;

    ForgedResults(String authservId, Metrics metrics) {
        this.authservId = authservId;
        this.metrics = metrics;
    }

    /** Removes the fields that claim {@code authservId}, counting and logging them when there were any. */
    void strip(MimeMessage message) throws MessagingException {
        int removed = MessageHeaders.remove(message, AuthenticationResults.HEADER, v -> AuthenticationResults.claims(v, authservId));
        if (removed > 0) {
            metrics.count(Metrics.AR_STRIPPED);
            LOGGER.warn("auth-hmac: removed {} inbound Authentication-Results field(s) claiming our authserv-id {}", removed, authservId);
        }
    }
}
