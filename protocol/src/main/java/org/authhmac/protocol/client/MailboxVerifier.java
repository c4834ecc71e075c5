package org.authhmac.protocol.client;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Instant;
import java.util.Objects;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;

/**
 * The entry point for mail-client authors: checks the X-Auth-HMAC header that the user's server added at delivery
 * (bound to this mailbox, under the user's own key) and answers with a {@link MailboxVerdict}: whether the server
 * stored the message as it is, and, read from that signature only, what the server decided about it (verified from
 * a partner, sender not verified, released, a notice of its own). No mail library needed: give it the raw message
 * bytes and the time the message was delivered to the mailbox (IMAP INTERNALDATE, or the date of the top-most
 * Received field), never the time the client happens to run. docs/CLIENTS.md shows the flow.
 *
 * <p>Signatures seen during this verifier's life are remembered, so a second copy of one delivered message (same
 * nonce) fails as replay. Thread-safe.
 */
public final class MailboxVerifier {
    /** Enough for a large mailbox scanned in one run; a full memory fails closed (temperror), it never forgets. */
    public static final int DEFAULT_MEMORY = 1_000_000;

    private final MailboxKey key;
    private final Verifier verifier;

    public MailboxVerifier(MailboxKey key) {
        this(key, VerifierSettings.defaults(), new SeenSignatures(DEFAULT_MEMORY));
    }

    public MailboxVerifier(MailboxKey key, VerifierSettings settings, ReplayCache seen) {
        this.key = Objects.requireNonNull(key, "key");
        this.verifier = new Verifier(settings, key.periodKeys(), seen);
    }

    public MailboxKey key() {
        return key;
    }

    /**
     * @param deliveredAt when the server stored the message in the mailbox
     * @return what to show; only {@link MailboxVerdict.Status#PARTNER_VERIFIED} is a pass
     */
    public MailboxVerdict verify(byte[] message, Instant deliveredAt) {
        return verify(new ByteArrayInputStream(Objects.requireNonNull(message, "message")), deliveredAt);
    }

    public MailboxVerdict verify(InputStream message, Instant deliveredAt) {
        return MailboxVerdict.of(verifier.verify(message, deliveredAt, key.mailbox()));
    }
}
