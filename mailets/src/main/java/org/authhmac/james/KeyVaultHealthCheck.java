package org.authhmac.james;

import com.google.inject.Inject;
import java.time.Duration;
import org.apache.james.core.healthcheck.ComponentName;
import org.apache.james.core.healthcheck.HealthCheck;
import org.apache.james.core.healthcheck.Result;
import org.authhmac.vault.KeyVault;
import org.authhmac.vault.VaultHealth;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * James health check for the key vault (TPM reachable, keys usable), listed in healthcheck.properties as
 * {@code additional.healthchecks}. Unhealthy means: outbound mail waits unsigned in the retry processor and
 * inbound partner mail waits unverified; nothing is lost, but nothing moves either.
 */
public class KeyVaultHealthCheck implements HealthCheck {
    public static final ComponentName COMPONENT = new ComponentName("AuthHmacKeyVault");
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final KeyVault vault;

    @Inject
    public KeyVaultHealthCheck(KeyVault vault) {
        this.vault = vault;
    }

    @Override
    public ComponentName componentName() {
        return COMPONENT;
    }

    @Override
    public Publisher<Result> check() {
        // health() talks to the TPM: keep it off James's event loops.
        return Mono.fromCallable(vault::health)
                .subscribeOn(Schedulers.boundedElastic())
                .timeout(TIMEOUT)
                .map(this::toResult)
                .onErrorResume(e -> Mono.just(Result.unhealthy(COMPONENT, "key vault did not answer: " + e, e)));
    }

    private Result toResult(VaultHealth health) {
        return health.healthy() ? Result.healthy(COMPONENT) : Result.unhealthy(COMPONENT, health.detail());
    }
}
