package org.authhmac.protocol;

/** The result vocabulary of RFC 8601 §2.7.1, as written in Authentication-Results. */
public enum AuthResult implements WireToken {
    PASS,
    FAIL,
    NONE,
    NEUTRAL,
    TEMPERROR,
    PERMERROR;

    public static AuthResult fromToken(String token) {
        return WireToken.of(values(), token.trim(), true,
                () -> "unknown result '" + token + "', expected one of pass, fail, none, neutral, temperror, permerror");
    }
}
