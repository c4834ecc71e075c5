package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.apache.james.core.healthcheck.Result;
import org.authhmac.james.testing.SlowProbes;
import org.authhmac.protocol.ReplayCache;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The health check's probe costs a blocking thread of reactor's boundedElastic (James's shared pool for blocking
 * work) for as long as Redis takes to answer, up to 2 s, or a connect timeout: WebAdmin's /healthcheck must not let
 * each request start a probe of its own.
 */
class ReplayCacheHealthCheckTest {

    /** A cache whose probe takes {@code millis}, counting the probes. */
    private static final class SlowProbe extends SharedReplayCache {
        final SlowProbes calls;

        SlowProbe(long millis) {
            super((ReplayCache) (signature, replayId, maxRecipients, expiresAt) -> ReplayCache.Outcome.FRESH);
            this.calls = new SlowProbes(millis);
        }

        @Override
        public Optional<String> health(Duration limit) {
            return calls.probe(Optional.of("Redis redis://10.0.0.1:6379/0 did not answer PING within PT2S"));
        }
    }

    @Test
    void manyConcurrentRequestsWhileRedisIsSlowShareOneProbe() {
        SlowProbe cache = new SlowProbe(800);
        ReplayCacheHealthCheck check = new ReplayCacheHealthCheck(cache);

        List<Result> results = Flux.merge(IntStream.range(0, 60).mapToObj(i -> Mono.from(check.check())).toList())
                .collectList().block(Duration.ofSeconds(30));

        assertThat(results).hasSize(60).allMatch(Result::isUnHealthy);
        assertThat(results.get(0).getCause()).hasValueSatisfying(c -> assertThat(c).contains("did not answer PING"));
        assertThat(cache.calls.probes.get()).as("probes of Redis for 60 requests at once").isEqualTo(1);
        assertThat(cache.calls.mostAtOnce.get()).isEqualTo(1);
    }

    @Test
    void aLongFloodOfRequestsNeverRunsTwoProbesAtOnceAndAFinishedProbeIsNotReused() {
        SlowProbe cache = new SlowProbe(200);
        ReplayCacheHealthCheck check = new ReplayCacheHealthCheck(cache);
        // 200 requests, 20 at a time, over about 2 s.
        List<Result> results = Flux.range(0, 200).flatMap(i -> Mono.from(check.check()), 20)
                .collectList().block(Duration.ofSeconds(60));

        assertThat(results).hasSize(200).allMatch(Result::isUnHealthy);
        assertThat(cache.calls.mostAtOnce.get()).as("probes running at once").isEqualTo(1);
        assertThat(cache.calls.probes.get()).isBetween(2, 40);
    }
}
