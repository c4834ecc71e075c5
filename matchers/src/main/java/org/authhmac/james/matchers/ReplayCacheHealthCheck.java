package org.authhmac.james.matchers;

import com.google.inject.Inject;
import java.time.Duration;
import org.apache.james.core.healthcheck.ComponentName;
import org.apache.james.core.healthcheck.HealthCheck;
import org.apache.james.core.healthcheck.Result;
import org.authhmac.james.SharedProbe;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * James health check for the replay cache, listed in healthcheck.properties as {@code additional.healthchecks}.
 * Unhealthy when the cache cannot answer: with {@code replayCache.store=redis}, Redis did not answer PING in time
 * (the message names its URI, never its password). Partner mail then waits in the retry processor as temperror; none
 * is passed unchecked. A cache in memory is always healthy here (a full one shows in the metrics).
 */
public class ReplayCacheHealthCheck implements HealthCheck {
    public static final ComponentName COMPONENT = new ComponentName("AuthHmacReplayCache");
    static final Duration PING_TIMEOUT = Duration.ofSeconds(2);

    private final SharedReplayCache cache;
    /**
     * The probe holds a thread of reactor's boundedElastic for as long as Redis takes, up to {@link #PING_TIMEOUT} or a
     * connect timeout (up to 60 s): the requests that come while it runs share it.
     */
    private final SharedProbe<Result> probe = new SharedProbe<>(this::result);

    @Inject
    public ReplayCacheHealthCheck(SharedReplayCache cache) {
        this.cache = cache;
    }

    @Override
    public ComponentName componentName() {
        return COMPONENT;
    }

    @Override
    public Publisher<Result> check() {
        // Each request waits a bounded time, even if the shared probe's own timeout is not.
        return probe.result()
                .timeout(PING_TIMEOUT.multipliedBy(3))
                .onErrorResume(e -> Mono.just(Result.unhealthy(COMPONENT, "replay cache did not answer: " + e, e)));
    }

    Result result() {
        return cache.health(PING_TIMEOUT)
                .map(problem -> Result.unhealthy(COMPONENT, "auth-hmac replay cache: " + problem))
                .orElseGet(() -> Result.healthy(COMPONENT));
    }
}
