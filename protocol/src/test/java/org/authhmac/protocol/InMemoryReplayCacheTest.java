package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.authhmac.protocol.ReplayCache.Outcome;
import org.authhmac.protocol.ReplayCache.SignatureId;
import org.authhmac.testing.MutableClock;
import org.junit.jupiter.api.Test;

class InMemoryReplayCacheTest {
    private static final Instant NOW = Instant.ofEpochSecond(1_763_776_800L);
    private static final String BOB = "bob@b.example";
    private final MutableClock clock = new MutableClock(NOW);

    private static SignatureId signature(String nonce) {
        return new SignatureId("a.example", "k1", nonce);
    }

    private static Outcome record(ReplayCache cache, String nonce) throws ReplayCacheException {
        return cache.record(signature(nonce), BOB, 1, NOW.plusSeconds(60));
    }

    @Test
    void recordsAFirstSightingAndReportsTheSecond() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);

        assertThat(record(cache, "nonce-0000000001")).isEqualTo(Outcome.FRESH);
        assertThat(record(cache, "nonce-0000000001")).isEqualTo(Outcome.REPLAY);
    }

    @Test
    void distinguishesSignaturesByEveryField() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);
        record(cache, "nonce-0000000001");

        assertThat(cache.record(new SignatureId("a.example", "k2", "nonce-0000000001"), BOB, 1, NOW.plusSeconds(60))).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(new SignatureId("c.example", "k1", "nonce-0000000001"), BOB, 1, NOW.plusSeconds(60))).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(signature("nonce-0000000002"), BOB, 1, NOW.plusSeconds(60))).isEqualTo(Outcome.FRESH);
    }

    @Test
    void passesOneSignatureForAtMostMaxRecipientsDistinctReplayIds() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);

        assertThat(cache.record(signature("nonce-0000000001"), "bob@b.example", 2, NOW.plusSeconds(60))).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(signature("nonce-0000000001"), "carol@b.example", 2, NOW.plusSeconds(60))).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(signature("nonce-0000000001"), "dave@b.example", 2, NOW.plusSeconds(60))).isEqualTo(Outcome.RECIPIENT_LIMIT);
        assertThat(cache.record(signature("nonce-0000000001"), "carol@b.example", 2, NOW.plusSeconds(60)))
                .as("a replay id already recorded is a replay, not a limit").isEqualTo(Outcome.REPLAY);
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void keepsEntriesUntilExpiryPlusRetentionThenForgetsThem() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ofMinutes(5), clock);
        record(cache, "nonce-0000000001");

        clock.advance(Duration.ofSeconds(60 + 300));
        assertThat(record(cache, "nonce-0000000001")).isEqualTo(Outcome.REPLAY);
        assertThat(cache.size()).isEqualTo(1);
        assertThat(cache.size("a.example")).isEqualTo(1);

        clock.advance(Duration.ofSeconds(1));
        assertThat(cache.size()).isZero();
        assertThat(cache.size("a.example")).isZero();
        assertThat(record(cache, "nonce-0000000001")).as("forgotten, so new again").isEqualTo(Outcome.FRESH);
    }

    @Test
    void aLaterExpiryForTheSameSignatureKeepsAllItsReplayIdsLonger() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);
        cache.record(signature("nonce-0000000001"), "bob@b.example", 2, NOW.plusSeconds(60));
        cache.record(signature("nonce-0000000001"), "carol@b.example", 2, NOW.plusSeconds(600));

        clock.advance(Duration.ofSeconds(120));

        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.record(signature("nonce-0000000001"), "bob@b.example", 2, NOW.plusSeconds(60))).isEqualTo(Outcome.REPLAY);
        clock.advance(Duration.ofSeconds(600));
        assertThat(cache.size()).isZero();
    }

    @Test
    void failsClosedWhenFullOfUnexpiredEntries() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(2, Duration.ZERO, clock);
        record(cache, "nonce-0000000001");
        record(cache, "nonce-0000000002");

        assertThatThrownBy(() -> record(cache, "nonce-0000000003"))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("full");
        assertThat(record(cache, "nonce-0000000001"))
                .as("a full cache still recognises what it holds").isEqualTo(Outcome.REPLAY);
        assertThat(cache.record(signature("nonce-0000000001"), "carol@b.example", 1, NOW.plusSeconds(60)))
                .as("and still knows a signature's recipient limit").isEqualTo(Outcome.RECIPIENT_LIMIT);
    }

    @Test
    void aDomainWhoseShareIsFullIsRefusedWhileAnotherDomainStillGetsRoom() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(4, 2, Duration.ZERO, clock);
        record(cache, "nonce-0000000001");
        record(cache, "nonce-0000000002");

        assertThatThrownBy(() -> record(cache, "nonce-0000000003"))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("d=a.example");
        assertThat(cache.record(new SignatureId("c.example", "k1", "nonce-0000000003"), BOB, 1, NOW.plusSeconds(60)))
                .isEqualTo(Outcome.FRESH);
        assertThat(cache.size("a.example")).isEqualTo(2);
        assertThat(cache.size("c.example")).isEqualTo(1);
    }

    @Test
    void refusesANewEntryWhenTheWholeCacheIsFullThoughItsDomainStillHasShareLeft() throws Exception {
        // given: three entries in all, two domains, each under its share of two
        InMemoryReplayCache cache = new InMemoryReplayCache(3, 2, Duration.ZERO, clock);
        record(cache, "nonce-0000000001");
        record(cache, "nonce-0000000002");
        cache.record(new SignatureId("c.example", "k1", "nonce-0000000003"), BOB, 1, NOW.plusSeconds(60));

        // when / then
        assertThatThrownBy(() -> cache.record(new SignatureId("c.example", "k1", "nonce-0000000004"), BOB, 1,
                NOW.plusSeconds(60)))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("replay cache full");
        assertThat(cache.size()).isEqualTo(3);
    }

    @Test
    void aDomainGetsItsShareBackOnceItsEntriesExpire() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(4, 1, Duration.ZERO, clock);
        record(cache, "nonce-0000000001");

        clock.advance(Duration.ofSeconds(61));

        assertThat(record(cache, "nonce-0000000002")).isEqualTo(Outcome.FRESH);
    }

    @Test
    void makesRoomOnceEntriesExpire() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(1, Duration.ZERO, clock);
        record(cache, "nonce-0000000001");

        clock.advance(Duration.ofSeconds(61));

        assertThat(cache.record(signature("nonce-0000000002"), BOB, 1, NOW.plusSeconds(120))).isEqualTo(Outcome.FRESH);
    }

    @Test
    void refusesAShareLargerThanTheCapacityOrNone() {
        assertThatThrownBy(() -> new InMemoryReplayCache(10, 11, Duration.ZERO, clock)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new InMemoryReplayCache(10, 0, Duration.ZERO, clock)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new InMemoryReplayCache(0, Duration.ZERO, clock)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFullCacheMakesTheVerifierSayTemperror() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(1, Duration.ZERO, clock);
        cache.record(signature("nonce-0000000009"), "dave@b.example", 1, NOW.plusSeconds(600));
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

    @Test
    void keepsAnEntryWhoseExpiryFallsInsideASecondUntilThatWholeSecondHasPassed() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);
        cache.record(signature("nonce-0000000001"), BOB, 1, NOW.plusMillis(60_500));

        clock.advance(Duration.ofMillis(61_999));
        assertThat(cache.record(signature("nonce-0000000001"), BOB, 1, NOW.plusMillis(60_500))).isEqualTo(Outcome.REPLAY);
        assertThat(cache.size()).isEqualTo(1);

        clock.advance(Duration.ofMillis(1));
        assertThat(cache.size()).isZero();
        assertThat(cache.record(signature("nonce-0000000001"), BOB, 1, NOW.plusMillis(60_500))).isEqualTo(Outcome.FRESH);
    }

    @Test
    void roundsAFractionalRetentionUpToWholeSeconds() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ofMillis(1_001), clock);
        record(cache, "nonce-0000000001");

        clock.advance(Duration.ofSeconds(60 + 2));
        assertThat(record(cache, "nonce-0000000001")).isEqualTo(Outcome.REPLAY);
        assertThat(cache.size()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(1));
        assertThat(cache.size()).isZero();
        assertThat(record(cache, "nonce-0000000001")).isEqualTo(Outcome.FRESH);
    }

    @Test
    void aRetentionOfForeverKeepsEveryEntryInsteadOfWrappingAroundIntoThePast() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ofSeconds(Long.MAX_VALUE), clock);
        record(cache, "nonce-0000000001");

        clock.advance(Duration.ofDays(365L * 100));

        assertThat(record(cache, "nonce-0000000001")).isEqualTo(Outcome.REPLAY);
        assertThat(cache.size()).isEqualTo(1);
    }

    @Test
    void countsEveryReplayIdHeldInAllAndPerSigningDomain() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);
        cache.record(signature("nonce-0000000001"), "bob@b.example", 3, NOW.plusSeconds(60));
        cache.record(signature("nonce-0000000001"), "carol@b.example", 3, NOW.plusSeconds(60));
        cache.record(signature("nonce-0000000002"), BOB, 1, NOW.plusSeconds(120));
        cache.record(new SignatureId("c.example", "k1", "nonce-0000000003"), BOB, 1, NOW.plusSeconds(60));

        assertThat(cache.size()).isEqualTo(4);
        assertThat(cache.size("a.example")).isEqualTo(3);
        assertThat(cache.size("c.example")).isEqualTo(1);
        assertThat(cache.size("d.example")).isZero();

        clock.advance(Duration.ofSeconds(61));

        assertThat(cache.size()).isEqualTo(1);
        assertThat(cache.size("a.example")).isEqualTo(1);
        assertThat(cache.size("c.example")).isZero();
    }

    @Test
    void aDomainsShareCountsOnlyUnexpiredEntriesWhenAskedFirst() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);
        record(cache, "nonce-0000000001");

        clock.advance(Duration.ofSeconds(61));

        assertThat(cache.size("a.example")).isZero();
    }

    @Test
    void aReplayIdAddedWithAnEarlierExpiryDoesNotShortenTheSignaturesStay() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);
        cache.record(signature("nonce-0000000001"), "bob@b.example", 2, NOW.plusSeconds(600));
        cache.record(signature("nonce-0000000001"), "carol@b.example", 2, NOW.plusSeconds(60));

        clock.advance(Duration.ofSeconds(120));

        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.record(signature("nonce-0000000001"), "carol@b.example", 2, NOW.plusSeconds(60))).isEqualTo(Outcome.REPLAY);
    }

    @Test
    void refusesARecipientLimitUnderOneAndANegativeRetention() {
        InMemoryReplayCache cache = new InMemoryReplayCache(10, Duration.ZERO, clock);

        assertThatThrownBy(() -> cache.record(signature("nonce-0000000001"), BOB, 0, NOW.plusSeconds(60)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxRecipients");
        assertThatThrownBy(() -> new InMemoryReplayCache(10, Duration.ofSeconds(-1), clock))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retention");
    }

    @Test
    void aShareEqualToTheCapacityIsNoShare() throws Exception {
        InMemoryReplayCache cache = new InMemoryReplayCache(2, 2, Duration.ZERO, clock);

        assertThat(record(cache, "nonce-0000000001")).isEqualTo(Outcome.FRESH);
        assertThat(record(cache, "nonce-0000000002")).isEqualTo(Outcome.FRESH);
    }
}
