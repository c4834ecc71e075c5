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

    /** A check that reaches the key store; it throws a checked exception that says why when it cannot. */
    public interface Probe {
        void run() throws Exception;
    }

    /**
     * Up with {@code upDetail} when the probe runs through, down with its exception's message when it throws a
     * checked one (an unchecked exception is a bug and propagates).
     */
    public static VaultHealth probe(String upDetail, Probe probe) {
        try {
            probe.run();
            return up(upDetail);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            return down(e.getMessage());
        }
    }
}
