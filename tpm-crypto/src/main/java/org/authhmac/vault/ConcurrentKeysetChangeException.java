package org.authhmac.vault;

import java.util.Optional;

/** The keyset's primary is no longer the one the caller saw (another process issued or rotated in between). */
public final class ConcurrentKeysetChangeException extends IllegalStateException {
    private final transient Optional<String> currentPrimary;

    ConcurrentKeysetChangeException(String keyset, Optional<String> expected, Optional<String> current) {
        super("keyset " + keyset + " changed meanwhile: its primary is " + current.orElse("none") + ", not "
                + expected.orElse("none") + "; nothing was stored");
        this.currentPrimary = current;
    }

    /** The keyset's primary as it is now, if any. */
    public Optional<String> currentPrimary() {
        return currentPrimary;
    }
}
