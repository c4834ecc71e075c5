package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.Metrics;
import org.authhmac.vault.KeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signature headers that name one of our key ids on mail {@link SignWithAuthHmac} is about to send: they were not
 * made here for this hop (a forgery, a captured signature riding along on a forward, a stale copy), so they go.
 */
final class OurSignatures {
    /** The mailet's logger: the line is the mailet's, and operators filter on its name. */
    private static final Logger LOGGER = LoggerFactory.getLogger(SignWithAuthHmac.class);
    private static final Pattern KEY_ID_TAG = Pattern.compile("(?:^|;)\\s*s\\s*=\\s*([^;\\s]+)");

    private OurSignatures() {
    }

    /** Removes every header named as the signer's whose s= is a key id of the vault, and counts and logs them. */
    static void strip(MailSigner signing, MimeMessage message) throws MessagingException {
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
}
