package org.authhmac.vault;

/**
 * Tink's key states for our keysets: PRIMARY signs and verifies (one per keyset), ACTIVE only verifies
 * (a key being rolled out, or the previous primary while in-flight mail drains), RETIRED is refused.
 */
public enum KeyStatus {
    PRIMARY, ACTIVE, RETIRED;

    /** Whether period keys may be derived (verification) under this status. */
    public boolean usable() {
        return this != RETIRED;
    }
}
