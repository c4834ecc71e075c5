package org.authhmac.protocol;

import java.util.Objects;

/**
 * A signature header value that cannot be used, with the {@link Reason} a verifier reports for it:
 * {@link Reason#MALFORMED}, {@link Reason#UNSUPPORTED_VERSION} or {@link Reason#UNSUPPORTED_ALGORITHM}.
 */
public class SignatureFormatException extends Exception {
    private final Reason reason;

    public SignatureFormatException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason);
    }

    public Reason reason() {
        return reason;
    }
}
