package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.apache.james.core.healthcheck.Result;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.authhmac.james.Metrics;
import org.authhmac.james.NeededKeysets;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.ReplayCache.Outcome;
import org.authhmac.protocol.ReplayCache.SignatureId;
import org.authhmac.protocol.ReplayCacheException;
import org.authhmac.testing.redis.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The James-wide cache as Guice builds it from a partner file that names a Redis: shared, counted, checked. */
class SharedReplayCacheOnRedisTest {
    private static final SignatureId SIG = new SignatureId("a.example", "k1", "nonce-0123456789ab");
    private static RedisServer redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    static SharedReplayCache node(RedisServer server, String prefix, RecordingMetricFactory metrics) throws Exception {
        SharedReplayCache cache = new SharedReplayCache(PartnerPolicyFile.of(TestPartners.of("partner.a.example.keyset=a-b",
                "replayCache.store=redis", "replayCache.redis.uri=" + server.uri(), "replayCache.redis.timeout=500ms",
                "replayCache.redis.keyPrefix=" + prefix)), metrics);
        cache.checkConfiguration();
        return cache;
    }

    @Test
    void aMailPassedAtOneNodeIsAReplayAtTheOther() throws Exception {
        RecordingMetricFactory metrics = new RecordingMetricFactory();
        SharedReplayCache node1 = node(redis, "shared1:", metrics);
        SharedReplayCache node2 = node(redis, "shared1:", metrics);
        Instant expires = Instant.now().plusSeconds(600);
        assertThat(node1.record(SIG, "bob@b.example", 1, expires)).isEqualTo(Outcome.FRESH);
        assertThat(node2.record(SIG, "bob@b.example", 1, expires)).isEqualTo(Outcome.REPLAY);
        assertThat(node2.record(SIG, "carol@b.example", 1, expires)).isEqualTo(Outcome.RECIPIENT_LIMIT);
        assertThat(metrics.countFor(Metrics.REPLAY_CACHE_FRESH)).isEqualTo(1);
        assertThat(metrics.countFor(Metrics.REPLAY_CACHE_REPLAY)).isEqualTo(1);
        assertThat(metrics.countFor(Metrics.REPLAY_CACHE_RECIPIENT_LIMIT)).isEqualTo(1);
        assertThat(metrics.executionTimesFor(Metrics.REPLAY_CACHE_TIMER)).hasSize(3);
        assertThat(node1.where()).isEqualTo(redis.uri());
    }

    @Test
    void aRedisThatIsDownIsCountedAsAnErrorAndMakesTheHealthCheckUnhealthy() throws Exception {
        RecordingMetricFactory metrics = new RecordingMetricFactory();
        try (RedisServer own = RedisServer.start()) {
            SharedReplayCache node = node(own, "down:", metrics);
            ReplayCacheHealthCheck health = new ReplayCacheHealthCheck(node);
            assertThat(Mono.from(health.check()).block().isHealthy()).isTrue();
            own.kill();
            assertThatThrownBy(() -> node.record(SIG, "bob@b.example", 1, Instant.now().plusSeconds(600)))
                    .isInstanceOf(ReplayCacheException.class);
            assertThat(metrics.countFor(Metrics.REPLAY_CACHE_ERROR)).isEqualTo(1);
            assertThat(metrics.countFor(Metrics.REPLAY_CACHE_FRESH)).isZero();
            Result result = Mono.from(health.check()).block(Duration.ofSeconds(10));
            assertThat(result.isUnHealthy()).isTrue();
            assertThat(result.getCause()).hasValueSatisfying(c -> assertThat(c).contains(own.uri()));
        }
    }

    @Test
    void theLastMatcherToGoClosesTheRedisConnectionAndANewOneOpensItAgain() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            SharedReplayCache cache = new SharedReplayCache(PartnerPolicyFile.of(TestPartners.of("partner.a.example.keyset=a-b",
                    "replayCache.store=redis", "replayCache.redis.uri=" + own.uri())), new RecordingMetricFactory());
            Instant expires = Instant.now().plusSeconds(600);
            cache.retain();
            cache.retain();
            assertThat(cache.record(SIG, "bob@b.example", 1, expires)).isEqualTo(Outcome.FRESH);
            long open = clients(own);

            cache.release();
            assertThat(clients(own)).as("one matcher still uses it").isEqualTo(open);
            cache.release();
            awaitClients(own, open - 1);
            cache.release();

            cache.retain();
            assertThat(cache.record(SIG, "bob@b.example", 1, expires)).isEqualTo(Outcome.REPLAY);
            assertThat(clients(own)).isEqualTo(open);
            cache.release();
            awaitClients(own, open - 1);
        }
    }

    @Test
    void afterTheLastMatcherWentNeitherAHealthProbeNorARecordOpensAConnectionThatNothingWouldClose() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            SharedReplayCache cache = new SharedReplayCache(PartnerPolicyFile.of(TestPartners.of("partner.a.example.keyset=a-b",
                    "replayCache.store=redis", "replayCache.redis.uri=" + own.uri())), new RecordingMetricFactory());
            Instant expires = Instant.now().plusSeconds(600);
            long before = clients(own);
            cache.retain();
            assertThat(cache.record(SIG, "bob@b.example", 1, expires)).isEqualTo(Outcome.FRESH);
            awaitClients(own, before + 1);
            cache.release();
            awaitClients(own, before);

            // James stopping: its periodic health check, or a mail still in the spool, after the matchers are destroyed
            assertThat(cache.health(Duration.ofSeconds(2))).hasValueSatisfying(p -> assertThat(p).contains("closed"));
            assertThatThrownBy(() -> cache.record(SIG, "carol@b.example", 2, expires)).isInstanceOf(ReplayCacheException.class);
            Thread.sleep(300);
            assertThat(clients(own)).as("connections open on Redis").isEqualTo(before);

            // a matcher that starts again opens it again
            cache.retain();
            assertThat(cache.record(SIG, "bob@b.example", 1, expires)).isEqualTo(Outcome.REPLAY);
            assertThat(cache.health(Duration.ofSeconds(2))).isEmpty();
            cache.release();
            awaitClients(own, before);
        }
    }

    @Test
    void aDestroyedMatcherReleasesTheSharedCache() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            PartnerPolicyFile file = PartnerPolicyFile.of(TestPartners.of("partner.a.example.keyset=a-b",
                    "replayCache.store=redis", "replayCache.redis.uri=" + own.uri()));
            SharedReplayCache cache = new SharedReplayCache(file, new RecordingMetricFactory());
            AuthHmacFailed matcher = new AuthHmacFailed(new InMemoryKeyVault(), cache,
                    new RecordingMetricFactory(), file, new NeededKeysets());
            matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed")
                    .mailetContext(FakeMailContext.defaultContext()).build());
            assertThat(cache.health(Duration.ofSeconds(2))).isEmpty();
            long open = clients(own);

            matcher.destroy();

            awaitClients(own, open - 1);
        }
    }

    /** Connections Redis has open, this probe's own included. */
    private static long clients(RedisServer server) {
        return server.command("CLIENT", "LIST").lines().filter(l -> l.contains("addr=")).count();
    }

    private static void awaitClients(RedisServer server, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (clients(server) != expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(clients(server)).as("connections open on Redis").isEqualTo(expected);
    }

    @Test
    void aCacheInMemoryIsHealthy() throws Exception {
        SharedReplayCache memory = new SharedReplayCache(PartnerPolicyFile.of(TestPartners.of("partner.a.example.keyset=a-b")),
                new RecordingMetricFactory());
        memory.checkConfiguration();
        assertThat(new ReplayCacheHealthCheck(memory).result().isHealthy()).isTrue();
        assertThat(memory.where()).isEqualTo("memory");
    }
}
