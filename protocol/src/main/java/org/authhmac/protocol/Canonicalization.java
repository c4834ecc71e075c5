package org.authhmac.protocol;

/** The two canonicalization algorithms of RFC 6376 §3.4, used separately for the header and the body. */
public enum Canonicalization implements WireToken {
    SIMPLE,
    RELAXED;

    /** Case-insensitive, as DKIM tag values for c= are compared. */
    public static Canonicalization fromToken(String token) {
        return WireToken.of(values(), token, true, () -> "unknown canonicalization '" + token + "', expected simple or relaxed");
    }
}
