package org.authhmac.james.matchers;

import com.google.inject.Inject;
import java.time.Duration;
import org.apache.james.core.healthcheck.ComponentName;
import org.apache.james.core.healthcheck.HealthCheck;
import org.apache.james.core.healthcheck.Result;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

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
        // A blocking PING: keep it off James's event loops, and bounded even if the client's own timeout is not.
        return Mono.fromCallable(this::result)
                .subscribeOn(Schedulers.boundedElastic())
                .timeout(PING_TIMEOUT.multipliedBy(3))
                .onErrorResume(e -> Mono.just(Result.unhealthy(COMPONENT, "replay cache did not answer: " + e, e)));
    }

    Result result() {
        return cache.health(PING_TIMEOUT)
                .map(problem -> Result.unhealthy(COMPONENT, "auth-hmac replay cache: " + problem))
                .orElseGet(() -> Result.healthy(COMPONENT));
    }
}
