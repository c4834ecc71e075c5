package org.authhmac.protocol;

/** The result vocabulary of RFC 8601 §2.7.1, as written in Authentication-Results. */
public enum AuthResult implements WireToken {
    PASS("pass"),
    FAIL("fail"),
    NONE("none"),
    NEUTRAL("neutral"),
    TEMPERROR("temperror"),
    PERMERROR("permerror");

    private final String token;

    AuthResult(String token) {
        this.token = token;
    }

    /** The lower-case token used on the wire and in configuration. */
    @Override
    public String token() {
        return token;
    }

    public static AuthResult fromToken(String token) {
        AuthResult r = WireToken.find(values(), token.trim(), true);
        if (r == null) {
            throw new IllegalArgumentException("unknown result '" + token + "', expected one of pass, fail, none, neutral, temperror, permerror");
        }
        return r;
    }
}
