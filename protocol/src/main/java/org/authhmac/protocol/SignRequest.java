package org.authhmac.protocol;

import java.time.Instant;
import java.util.Objects;

/**
 * One signature to make: key id, signing domain, recipient binding (a domain for server-to-server, a mailbox
 * for server-to-client), signing time, and the recipient count {@code rc=}: how many envelope recipients of the
 * transaction are in the bound domain (1 for a mailbox), so that the signature passes for at most that many
 * distinct mailboxes (docs/PROTOCOL.md 11). {@code fixedNonce} is null in production, where the signer draws
 * 128 random bits; tests and test vectors set it to make output reproducible. {@code serverVerdict} and
 * {@code partnerDomain} are sv= and pd= of a mailbox-bound signature (PROTOCOL.md 10.1), null when not written.
 */
public record SignRequest(String keyId, String domain, String recipient, Instant time, String fixedNonce, int recipientCount,
                          String serverVerdict, String partnerDomain) {

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
        if (serverVerdict != null && !SignatureHeader.SERVER_VERDICTS.contains(serverVerdict)) {
            throw new IllegalArgumentException("serverVerdict must be one of " + SignatureHeader.SERVER_VERDICTS + ": " + serverVerdict);
        }
        if ((partnerDomain != null) != SignatureHeader.SERVER_VERDICT_PASS.equals(serverVerdict)) {
            throw new IllegalArgumentException("partnerDomain is given exactly when serverVerdict is pass");
        }
    }

    /** A request without sv= and pd=. */
    public SignRequest(String keyId, String domain, String recipient, Instant time, String fixedNonce, int recipientCount) {
        this(keyId, domain, recipient, time, fixedNonce, recipientCount, null, null);
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
        return new SignRequest(keyId, domain, recipient, time, fixedNonce, count, serverVerdict, partnerDomain);
    }

    /** Same request with a fixed nonce; for tests and vectors only. */
    public SignRequest withFixedNonce(String nonce) {
        return new SignRequest(keyId, domain, recipient, time, nonce, recipientCount, serverVerdict, partnerDomain);
    }

    /**
     * Same request carrying the delivering server's verdict for a mailbox-bound signature: sv= {@code verdict}, one of
     * {@link SignatureHeader#SERVER_VERDICTS}, and, for {@code pass} only, pd= {@code partnerDomain} (null otherwise).
     */
    public SignRequest withServerVerdict(String verdict, String partnerDomain) {
        return new SignRequest(keyId, domain, recipient, time, fixedNonce, recipientCount,
                Objects.requireNonNull(verdict, "verdict"), partnerDomain);
    }
}
