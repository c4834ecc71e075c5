package org.authhmac.protocol;

/** The key id is not in the keyset, is retired, or is not allowed for the domain asked: a permanent condition. */
public class UnknownKeyException extends Exception {
    public UnknownKeyException(String message) {
        super(message);
    }
}
