package org.authhmac.protocol;

import java.time.Instant;
import java.util.Objects;

/**
 * One signature to make: key id, signing domain, recipient binding (a domain for server-to-server, a mailbox
 * for server-to-client), signing time, and the recipient count {@code rc=}: how many envelope recipients of the
 * transaction are in the bound domain (1 for a mailbox), so that the signature passes for at most that many
 * distinct mailboxes (docs/PROTOCOL.md 11). {@code fixedNonce} is null in production, where the signer draws
 * 128 random bits; tests and test vectors set it to make output reproducible.
 */
public record SignRequest(String keyId, String domain, String recipient, Instant time, String fixedNonce, int recipientCount) {

    public SignRequest {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(recipient, "recipient");
        Objects.requireNonNull(time, "time");
        if (fixedNonce != null && !SignatureHeader.isNonce(fixedNonce)) {
            throw new IllegalArgumentException("fixedNonce must be 16..64 base64url characters");
        }
        if (recipientCount < 1 || recipientCount > SignatureHeader.MAX_RECIPIENT_COUNT) {
            throw new IllegalArgumentException("recipientCount must be 1.." + SignatureHeader.MAX_RECIPIENT_COUNT
                    + " (recipients in the bound domain): " + recipientCount);
        }
    }

    /** A request for one recipient in the bound domain (rc=1). */
    public SignRequest(String keyId, String domain, String recipient, Instant time) {
        this(keyId, domain, recipient, time, null, SignatureHeader.DEFAULT_RECIPIENT_COUNT);
    }

    /** A request for {@code recipientCount} recipients in the bound domain. */
    public SignRequest(String keyId, String domain, String recipient, Instant time, int recipientCount) {
        this(keyId, domain, recipient, time, null, recipientCount);
    }

    public SignRequest withRecipientCount(int count) {
        return new SignRequest(keyId, domain, recipient, time, fixedNonce, count);
    }

    /** Same request with a fixed nonce; for tests and vectors only. */
    public SignRequest withFixedNonce(String nonce) {
        return new SignRequest(keyId, domain, recipient, time, nonce, recipientCount);
    }
}
