package org.authhmac.protocol;

/** The key source could not compute a key now (TPM unreachable, token removed): a temporary condition, retry later. */
public class KeyUnavailableException extends Exception {
    public KeyUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public KeyUnavailableException(String message) {
        super(message);
    }
}
