package org.authhmac.protocol;

/** Machine-readable reason carried with every verdict; the tokens are part of the wire contract (docs/PROTOCOL.md). */
public enum Reason implements WireToken {
    /** pass: the MAC, body hash, window, recipient and replay checks all held. */
    VERIFIED("verified"),
    /** none: the message carries no signature header. */
    NO_SIGNATURE("no-signature"),
    BAD_MAC("bad-mac"),
    BODY_CHANGED("body-changed"),
    EXPIRED("expired"),
    FUTURE("future"),
    UNKNOWN_KEY("unknown-key"),
    REPLAY("replay"),
    MALFORMED("malformed"),
    WRONG_RECIPIENT("wrong-recipient"),
    DUPLICATE_HEADER("duplicate-header"),
    /** fail: a domain-bound signature, and the From field does not name exactly one mailbox in the domain d=. */
    FROM_MISMATCH("from-mismatch"),
    /** fail: a header field outside the ignore list occurs more often than h= lists it (added after signing). */
    UNSIGNED_HEADER("unsigned-header"),
    UNSUPPORTED_VERSION("unsupported-version"),
    UNSUPPORTED_ALGORITHM("unsupported-algorithm"),
    /** temperror: the key source (for example the TPM) could not be reached; retry later. */
    KEY_UNAVAILABLE("key-unavailable"),
    /** temperror: the verifier itself could not finish (I/O error reading the message, replay store down). */
    INTERNAL_ERROR("internal-error");

    private final String token;

    Reason(String token) {
        this.token = token;
    }

    @Override
    public String token() {
        return token;
    }

    public static Reason fromToken(String token) {
        Reason r = WireToken.find(values(), token, false);
        if (r == null) {
            throw new IllegalArgumentException("unknown reason '" + token + "'");
        }
        return r;
    }
}
