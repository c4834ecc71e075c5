package org.authhmac.protocol;

/** The replay cache could not record or look up an entry; a temporary condition (verdict temperror). */
public class ReplayCacheException extends Exception {
    public ReplayCacheException(String message) {
        super(message);
    }

    public ReplayCacheException(String message, Throwable cause) {
        super(message, cause);
    }
}
