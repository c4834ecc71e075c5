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
    private final Object probing = new Object();
    /**
     * The probe in flight, which every request that comes while it runs shares. A probe holds a thread of reactor's
     * boundedElastic (shared by all of James's blocking work) for as long as Redis takes, up to {@link #PING_TIMEOUT}
     * or a connect timeout (up to 60 s): one per WebAdmin request would let a flood of /healthcheck requests, while
     * Redis is slow or unreachable, take every such thread from the rest of James. So at most one probe runs at a time.
     */
    private Probe probe;

    private final class Probe {
        volatile boolean finished;
        final Mono<Result> result = Mono.fromCallable(ReplayCacheHealthCheck.this::result)
                // A blocking PING: keep it off James's event loops; run once for all who subscribe while it runs.
                .subscribeOn(Schedulers.boundedElastic())
                // Marked before any subscriber sees the result: a request that comes after it starts a new probe.
                .doOnSuccess(r -> finished = true)
                .doOnError(e -> finished = true)
                .doOnCancel(() -> finished = true)
                .cache();
    }

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
        return Mono.defer(this::shared)
                .timeout(PING_TIMEOUT.multipliedBy(3))
                .onErrorResume(e -> Mono.just(Result.unhealthy(COMPONENT, "replay cache did not answer: " + e, e)));
    }

    private Mono<Result> shared() {
        synchronized (probing) {
            if (probe == null || probe.finished) {
                probe = new Probe();
            }
            return probe.result;
        }
    }

    Result result() {
        return cache.health(PING_TIMEOUT)
                .map(problem -> Result.unhealthy(COMPONENT, "auth-hmac replay cache: " + problem))
                .orElseGet(() -> Result.healthy(COMPONENT));
    }
}
