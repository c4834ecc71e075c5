package org.authhmac.protocol;

/** Machine-readable reason carried with every verdict; the tokens are part of the wire contract (docs/PROTOCOL.md). */
public enum Reason implements WireToken {
    /** pass: the MAC, body hash, window, recipient and replay checks all held. */
    VERIFIED,
    /** none: the message carries no signature header. */
    NO_SIGNATURE,
    BAD_MAC,
    BODY_CHANGED,
    EXPIRED,
    FUTURE,
    UNKNOWN_KEY,
    REPLAY,
    MALFORMED,
    WRONG_RECIPIENT,
    DUPLICATE_HEADER,
    /** fail: a domain-bound signature, and the From field does not name exactly one mailbox in the domain d=. */
    FROM_MISMATCH,
    /** fail: a header field outside the ignore list occurs more often than h= lists it (added after signing). */
    UNSIGNED_HEADER,
    UNSUPPORTED_VERSION,
    UNSUPPORTED_ALGORITHM,
    /** temperror: the key source (for example the TPM) could not be reached; retry later. */
    KEY_UNAVAILABLE,
    /** temperror: the verifier itself could not finish (I/O error reading the message, replay store down). */
    INTERNAL_ERROR;

    public static Reason fromToken(String token) {
        return WireToken.of(values(), token, false, () -> "unknown reason '" + token + "'");
    }
}
