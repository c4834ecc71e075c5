package org.authhmac.james;

import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyVault;

/** Publishes the key vault's own work as James metrics: {@value #DERIVE_TIMER} times each backend (TPM) derivation. */
public final class VaultMetrics {
    public static final String DERIVE_TIMER = Metrics.PREFIX + "vault.derive.time";

    private VaultMetrics() {
    }

    /** Times the vault's derivations from now on, when it is the default vault (the one James gets from Guice). */
    public static void attach(KeyVault vault, MetricFactory metricFactory) {
        if (vault instanceof DefaultKeyVault v) {
            v.timeDerivations(() -> {
                TimeMetric timer = metricFactory.timer(DERIVE_TIMER);
                return timer::stopAndPublish;
            });
        }
    }
}
