package org.authhmac.vault;

import java.util.Objects;

/** Whether the vault can compute keys right now, with a human-readable reason (no secrets). */
public record VaultHealth(boolean healthy, String detail) {
    public VaultHealth {
        Objects.requireNonNull(detail, "detail");
    }

    public static VaultHealth up(String detail) {
        return new VaultHealth(true, detail);
    }

    public static VaultHealth down(String detail) {
        return new VaultHealth(false, detail);
    }
}
