package org.authhmac.protocol;

import java.time.Instant;
import java.util.Objects;

/**
 * One signature to make: key id, signing domain, recipient binding (a domain for server-to-server, a mailbox
 * for server-to-client) and signing time. {@code fixedNonce} is null in production, where the signer draws
 * 128 random bits; tests and test vectors set it to make output reproducible.
 */
public record SignRequest(String keyId, String domain, String recipient, Instant time, String fixedNonce) {

    public SignRequest {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(recipient, "recipient");
        Objects.requireNonNull(time, "time");
        if (fixedNonce != null && !SignatureHeader.isNonce(fixedNonce)) {
            throw new IllegalArgumentException("fixedNonce must be 16..64 base64url characters");
        }
    }

    public SignRequest(String keyId, String domain, String recipient, Instant time) {
        this(keyId, domain, recipient, time, null);
    }

    /** Same request with a fixed nonce; for tests and vectors only. */
    public SignRequest withFixedNonce(String nonce) {
        return new SignRequest(keyId, domain, recipient, time, nonce);
    }
}
