package org.authhmac.james.mailets;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.mailet.Mail;
import org.authhmac.james.Metrics;
import org.authhmac.james.NeededKeysets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mail for a partner whose keyset has no primary key: it waits in the mailet's onMailetException processor, as when
 * the vault is down, but the mailet sends it there itself instead of throwing. A throw makes James log an ERROR with
 * a stack trace for every mail at every retry (every 15 s with the shipped configuration), none of which says what to
 * do; this logs the keyset, its partners and the command that provisions it once, when the gap is first met, and again
 * only after the keyset has had a primary in between. The health check reports the gap as long as it lasts.
 *
 * <p>When onMailetException is {@code ignore} or {@code propagate} (no processor to send the mail to), the mailet
 * throws as before.
 */
final class WaitingForPrimary {
    private static final Logger LOGGER = LoggerFactory.getLogger(SignWithAuthHmac.class);

    private final String retryProcessor;
    /** The keysets whose gap has been logged and has not closed since. */
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    /** @param onMailetException the mailet's parameter as configured; null when absent (James then uses "error") */
    WaitingForPrimary(String onMailetException) {
        String p = onMailetException == null ? Mail.ERROR : onMailetException.trim().toLowerCase(Locale.US);
        // James itself compares these in lower case.
        this.retryProcessor = p.equals("ignore") || p.equals("propagate") ? null : p;
    }

    /** The processor mail waits in, or null when the mailet must throw instead. */
    String retryProcessor() {
        return retryProcessor;
    }

    /**
     * Sends the mail to wait, counted as {@value Metrics#SIGN_KEY_UNAVAILABLE} like a mail that waits for the vault;
     * logs the gap if it is new.
     *
     * @return false when there is no processor to send it to: the caller throws
     */
    boolean waitFor(Mail mail, String keyset, Set<String> partners, MailSigner signing) {
        if (retryProcessor == null) {
            return false;
        }
        signing.count(Metrics.SIGN_KEY_UNAVAILABLE);
        if (reported.add(keyset)) {
            LOGGER.error("auth-hmac: {}. Mail {} and every later mail for {} waits in processor '{}' (logged once; the "
                    + "AuthHmacKeyVault health check stays unhealthy until the keyset has a primary)",
                    NeededKeysets.noPrimary(signing.vault(), keyset, partners), mail.getName(), String.join(", ", new TreeSet<>(partners)),
                    retryProcessor);
        } else {
            LOGGER.debug("auth-hmac: mail {} waits in processor '{}' for a primary key in keyset '{}'", mail.getName(),
                    retryProcessor, keyset);
        }
        mail.setErrorMessage("auth-hmac: waits for a primary key in keyset '" + keyset + "'");
        mail.setState(KeepBack.awayFrom(mail, retryProcessor, "SignWithAuthHmac", "onMailetException"));
        return true;
    }

    /** The keyset has a primary now: a later gap is news again. */
    void found(String keyset) {
        if (reported.remove(keyset)) {
            LOGGER.info("auth-hmac: keyset '{}' has a primary key now; the mail that waited for it is signed at its next attempt", keyset);
        }
    }
}
