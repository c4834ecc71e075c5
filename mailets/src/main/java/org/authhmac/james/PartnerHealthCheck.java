package org.authhmac.james;

import com.google.inject.Inject;
import java.time.Duration;
import java.util.List;
import org.apache.james.core.healthcheck.ComponentName;
import org.apache.james.core.healthcheck.HealthCheck;
import org.apache.james.core.healthcheck.Result;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * James health check of the partners ({@link PartnerHealth}), listed in healthcheck.properties as
 * {@code additional.healthchecks}: degraded, naming the partner and the figure, when a partner's clock offset nears
 * what its settings allow or when it signs with a key id this server does not hold; healthy otherwise. Degraded, not
 * unhealthy: mail still flows, and this is the warning before it is held.
 */
public class PartnerHealthCheck implements HealthCheck {
    public static final ComponentName COMPONENT = new ComponentName("AuthHmacPartners");
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final PartnerHealth health;

    @Inject
    public PartnerHealthCheck(PartnerHealth health) {
        this.health = health;
    }

    @Override
    public ComponentName componentName() {
        return COMPONENT;
    }

    @Override
    public Publisher<Result> check() {
        // asks the vault which key ids it holds: off James's event loops
        return Mono.fromCallable(this::result)
                .subscribeOn(Schedulers.boundedElastic())
                .timeout(TIMEOUT)
                .onErrorResume(e -> Mono.just(Result.degraded(COMPONENT, "partner health could not be read: " + e)));
    }

    private Result result() {
        List<String> problems = health.problems();
        return problems.isEmpty() ? Result.healthy(COMPONENT) : Result.degraded(COMPONENT, "auth-hmac: " + String.join("; ", problems));
    }
}
