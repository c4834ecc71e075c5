package org.authhmac.protocol;

/** The two canonicalization algorithms of RFC 6376 §3.4, used separately for the header and the body. */
public enum Canonicalization {
    SIMPLE("simple"),
    RELAXED("relaxed");

    private final String token;

    Canonicalization(String token) {
        this.token = token;
    }

    public String token() {
        return token;
    }

    /** Case-insensitive, as DKIM tag values for c= are compared. */
    public static Canonicalization fromToken(String token) {
        for (Canonicalization c : values()) {
            if (c.token.equalsIgnoreCase(token)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown canonicalization '" + token + "', expected simple or relaxed");
    }
}
