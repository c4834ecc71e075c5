package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.authhmac.protocol.KdfContext;
import org.authhmac.testing.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The next period's key of a stream in use is derived shortly before the boundary (cache.prefetchSeconds, at most half
 * a period), so that no mail waits on the key store then.
 */
class PeriodKeyPrefetchTest {
    private static final Instant T0 = Instant.parse("2026-11-22T02:00:00Z");
    private static final int P = 900;
    private static final String PREFETCH_THREAD = "auth-hmac-key-prefetch";

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(T0.plusSeconds(10));

    private int vaults;

    private DefaultKeyVault open(CacheSettings settings, boolean startPrefetcher) {
        Path keyset = dir.resolve("keyset-" + ++vaults + ".properties");
        DefaultKeyVault vault = new DefaultKeyVault(new SoftwareKeyStore(), keyset, settings, clock, startPrefetcher);
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        return vault;
    }

    private KdfContext now(int periodSeconds) {
        return new KdfContext("k1", "a.example", periodSeconds, KdfContext.periodOf(clock.instant().getEpochSecond(), periodSeconds));
    }

    @Test
    void theNextKeyIsDerivedOnceTheBoundaryIsWithinThePrefetchLead() throws Exception {
        try (DefaultKeyVault vault = open(CacheSettings.DEFAULTS, false)) {
            vault.periodKey(now(P));

            clock.set(T0.plusSeconds(P - 61));
            vault.refreshAhead();
            assertThat(vault.derivationCount()).as("61 s before the boundary").isEqualTo(1);

            clock.set(T0.plusSeconds(P - 60));
            vault.refreshAhead();
            assertThat(vault.derivationCount()).as("60 s before the boundary").isEqualTo(2);

            clock.set(T0.plusSeconds(P + 5));
            vault.periodKey(now(P));
            assertThat(vault.derivationCount()).as("the new period's key came from the prefetch").isEqualTo(2);
        }
    }

    @Test
    void aShortPeriodsNextKeyIsDerivedOnlyInTheSecondHalfOfThePeriod() throws Exception {
        try (DefaultKeyVault vault = open(CacheSettings.DEFAULTS, false)) {
            vault.periodKey(now(60));

            clock.set(T0.plusSeconds(29));
            vault.refreshAhead();
            assertThat(vault.derivationCount()).as("31 s before the boundary of a 60 s period").isEqualTo(1);

            clock.set(T0.plusSeconds(30));
            vault.refreshAhead();
            assertThat(vault.derivationCount()).as("30 s before it").isEqualTo(2);
        }
    }

    @Test
    void aStreamUsedInThePreviousPeriodIsStillPrefetched() throws Exception {
        try (DefaultKeyVault vault = open(CacheSettings.DEFAULTS, false)) {
            vault.periodKey(now(P));

            clock.set(T0.plusSeconds(2 * P - 30));
            vault.refreshAhead();

            assertThat(vault.derivationCount()).isEqualTo(2);
        }
    }

    @Test
    void aStreamUnusedForAWholePeriodIsNoLongerPrefetched() throws Exception {
        try (DefaultKeyVault vault = open(CacheSettings.DEFAULTS, false)) {
            vault.periodKey(now(P));

            clock.set(T0.plusSeconds(3 * P - 30));
            vault.refreshAhead();

            assertThat(vault.derivationCount()).isEqualTo(1);
        }
    }

    @Test
    void aVaultStartedWithItsPrefetcherDerivesTheNextKeyInABackgroundDaemonThread() throws Exception {
        clock.set(T0.plusSeconds(P - 30));
        Set<Thread> before = prefetchThreads();
        try (DefaultKeyVault vault = open(CacheSettings.DEFAULTS, true)) {
            Set<Thread> started = prefetchThreads();
            started.removeAll(before);
            vault.periodKey(now(P));

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (vault.derivationCount() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }

            assertThat(vault.derivationCount()).as("the next period's key, derived without a call").isEqualTo(2);
            assertThat(started).as("one thread, which does not keep the JVM alive").singleElement().satisfies(t -> assertThat(t.isDaemon()).isTrue());
        }
    }

    @Test
    void noThreadIsStartedWhenPrefetchIsOffOrNotAskedFor() {
        Set<Thread> before = prefetchThreads();
        try (DefaultKeyVault off = open(new CacheSettings(1, 0, 10_000), true);
                DefaultKeyVault notAsked = open(CacheSettings.DEFAULTS, false)) {
            Set<Thread> started = prefetchThreads();
            started.removeAll(before);

            assertThat(started).isEmpty();
        }
    }

    private static Set<Thread> prefetchThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(PREFETCH_THREAD)).collect(Collectors.toSet());
    }
}
