package org.authhmac.protocol;

/** The two canonicalization algorithms of RFC 6376 §3.4, used separately for the header and the body. */
public enum Canonicalization implements WireToken {
    SIMPLE("simple"),
    RELAXED("relaxed");

    private final String token;

    Canonicalization(String token) {
        this.token = token;
    }

    @Override
    public String token() {
        return token;
    }

    /** Case-insensitive, as DKIM tag values for c= are compared. */
    public static Canonicalization fromToken(String token) {
        Canonicalization c = WireToken.find(values(), token, true);
        if (c == null) {
            throw new IllegalArgumentException("unknown canonicalization '" + token + "', expected simple or relaxed");
        }
        return c;
    }
}
