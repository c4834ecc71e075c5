package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class InMemoryReplayCacheTest {
    private static final Instant NOW = Instant.ofEpochSecond(1_763_776_800L);
    private final Fixtures.MutableClock clock = new Fixtures.MutableClock(NOW);

    private static ReplayCache.Entry entry(String nonce) {
        return new ReplayCache.Entry("a.example", "k1", nonce, "bob@b.example");
    }

    @Test
    void recordsAFirstSightingAndReportsTheSecond() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);

        assertThat(cache.recordIfAbsent(entry("nonce-0000000001"), NOW.plusSeconds(60))).isTrue();
        assertThat(cache.recordIfAbsent(entry("nonce-0000000001"), NOW.plusSeconds(60))).isFalse();
    }

    @Test
    void distinguishesEntriesByEveryField() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);
        cache.recordIfAbsent(entry("nonce-0000000001"), NOW.plusSeconds(60));

        assertThat(cache.recordIfAbsent(new ReplayCache.Entry("a.example", "k1", "nonce-0000000001", "carol@b.example"), NOW.plusSeconds(60))).isTrue();
        assertThat(cache.recordIfAbsent(new ReplayCache.Entry("a.example", "k2", "nonce-0000000001", "bob@b.example"), NOW.plusSeconds(60))).isTrue();
        assertThat(cache.recordIfAbsent(new ReplayCache.Entry("c.example", "k1", "nonce-0000000001", "bob@b.example"), NOW.plusSeconds(60))).isTrue();
    }

    @Test
    void keepsEntriesUntilExpiryPlusRetentionThenForgetsThem() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ofMinutes(5), clock);
        cache.recordIfAbsent(entry("nonce-0000000001"), NOW.plusSeconds(60));

        clock.advance(Duration.ofSeconds(60 + 300));
        assertThat(cache.recordIfAbsent(entry("nonce-0000000001"), NOW.plusSeconds(60))).isFalse();

        clock.advance(Duration.ofSeconds(1));
        assertThat(cache.size()).isZero();
    }

    @Test
    void failsClosedWhenFullOfUnexpiredEntries() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(2, Duration.ZERO, clock);
        cache.recordIfAbsent(entry("nonce-0000000001"), NOW.plusSeconds(60));
        cache.recordIfAbsent(entry("nonce-0000000002"), NOW.plusSeconds(60));

        assertThatThrownBy(() -> cache.recordIfAbsent(entry("nonce-0000000003"), NOW.plusSeconds(60)))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("full");
        assertThat(cache.recordIfAbsent(entry("nonce-0000000001"), NOW.plusSeconds(60)))
                .as("a full cache still recognises what it holds").isFalse();
    }

    @Test
    void makesRoomOnceEntriesExpire() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(1, Duration.ZERO, clock);
        cache.recordIfAbsent(entry("nonce-0000000001"), NOW.plusSeconds(60));

        clock.advance(Duration.ofSeconds(61));

        assertThat(cache.recordIfAbsent(entry("nonce-0000000002"), NOW.plusSeconds(120))).isTrue();
    }

    @Test
    void aFullCacheMakesTheVerifierSayTemperror() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(1, Duration.ZERO, clock);
        cache.recordIfAbsent(entry("nonce-0000000009"), NOW.plusSeconds(600));
        Verifier verifier = Fixtures.verifier(VerifierSettings.defaults(), cache);

        Verdict v = verifier.verify(Fixtures.stream(Fixtures.signed(Fixtures.MESSAGE, Fixtures.request())), NOW, Fixtures.RECIPIENT);

        assertThat(v.result()).isEqualTo(AuthResult.TEMPERROR);
        assertThat(v.reason()).isEqualTo(Reason.INTERNAL_ERROR);
    }

    @Test
    void refusesACapacityOfZeroAsAConfigurationError() {
        // A cache that can hold nothing would make every passing signature a temperror, for ever.
        assertThatThrownBy(() -> new InMemoryReplayCache(0, Duration.ZERO, clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity");
    }
}
