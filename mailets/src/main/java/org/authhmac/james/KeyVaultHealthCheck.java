package org.authhmac.james;

import com.google.inject.Inject;
import java.time.Duration;
import java.util.List;
import org.apache.james.core.healthcheck.ComponentName;
import org.apache.james.core.healthcheck.HealthCheck;
import org.apache.james.core.healthcheck.Result;
import org.authhmac.vault.KeyVault;
import org.authhmac.vault.VaultHealth;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * James health check for the key vault (TPM reachable, keys usable), listed in healthcheck.properties as
 * {@code additional.healthchecks}. Unhealthy means: outbound mail waits unsigned in the retry processor and
 * inbound partner mail waits unverified; nothing is lost, but nothing moves either. It is unhealthy too, naming the
 * keyset and its partners, while a keyset the signing mailet or the matcher uses lacks its key
 * ({@link NeededKeysets}): the vault answers, but mail for that partner waits or fails all the same.
 */
public class KeyVaultHealthCheck implements HealthCheck {
    public static final ComponentName COMPONENT = new ComponentName("AuthHmacKeyVault");
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final KeyVault vault;
    private final NeededKeysets needed;
    /** health() talks to the TPM: the requests that come while a probe runs share it. */
    private final SharedProbe<Result> probe = new SharedProbe<>(this::result);

    @Inject
    public KeyVaultHealthCheck(KeyVault vault, NeededKeysets needed) {
        this.vault = vault;
        this.needed = needed;
    }

    @Override
    public ComponentName componentName() {
        return COMPONENT;
    }

    @Override
    public Publisher<Result> check() {
        // each request waits a bounded time, even if the shared probe's own wait is not bounded
        return probe.result()
                .timeout(TIMEOUT)
                .onErrorResume(e -> Mono.just(Result.unhealthy(COMPONENT, "key vault did not answer: " + e, e)));
    }

    private Result result() {
        VaultHealth health = vault.health();
        if (!health.healthy()) {
            return Result.unhealthy(COMPONENT, health.detail());
        }
        List<String> missing = needed.missing(vault);
        return missing.isEmpty() ? Result.healthy(COMPONENT) : Result.unhealthy(COMPONENT, "auth-hmac: " + String.join("; ", missing));
    }
}
