package org.authhmac.vault;

/** A configuration error found at start-up; the message names the property at fault. */
public class VaultConfigException extends RuntimeException {
    private final String property;

    public VaultConfigException(String property, String message) {
        super(property + ": " + message);
        this.property = property;
    }

    public VaultConfigException(String property, String message, Throwable cause) {
        super(property + ": " + message, cause);
        this.property = property;
    }

    /** The property (of auth-hmac.properties or of the keyset file) that is wrong or missing. */
    public String property() {
        return property;
    }
}
