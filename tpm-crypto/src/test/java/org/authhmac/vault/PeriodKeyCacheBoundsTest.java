package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cache.maxEntries bounds every table of the vault, and a full table makes room instead of refusing. */
class PeriodKeyCacheBoundsTest {
    private static final Instant T0 = Instant.parse("2026-11-22T02:00:00Z");
    private static final int P = 900;

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(T0.plusSeconds(10));
    private DefaultKeyVault vault;

    @BeforeEach
    void openVault() {
        Properties p = TestVaults.pkcs12();
        p.setProperty("cache.maxEntries", "2");
        vault = TestVaults.open(p, dir, clock);
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
    }

    @AfterEach
    void close() {
        vault.close();
    }

    private KdfContext now(String domain) {
        return new KdfContext("k1", domain, P, KdfContext.periodOf(clock.instant().getEpochSecond(), P));
    }

    @Test
    void fullCacheEvictsTheLeastRecentlyUsedKeyInsteadOfRefusingTheNewOne() throws Exception {
        vault.periodKey(now("x.example"));
        vault.periodKey(now("y.example"));
        vault.periodKey(now("x.example"));
        vault.periodKey(now("z.example")); // full: y, the least recently used, makes room
        assertThat(vault.derivationCount()).isEqualTo(3);

        vault.periodKey(now("z.example"));
        vault.periodKey(now("x.example"));
        assertThat(vault.derivationCount()).as("z and x cached").isEqualTo(3);
        vault.periodKey(now("y.example"));
        assertThat(vault.derivationCount()).as("y was evicted").isEqualTo(4);
        assertThat(vault.cachedKeyCount()).isEqualTo(2);
    }

    @Test
    void prefetchFollowsTheMostRecentlyUsedStreamsWhenThereAreMoreThanTheBound() throws Exception {
        vault.periodKey(now("x.example"));
        vault.periodKey(now("y.example"));
        vault.periodKey(now("z.example"));

        clock.set(T0.plusSeconds(P - 30));
        vault.refreshAhead();
        long afterPrefetch = vault.derivationCount();
        clock.set(T0.plusSeconds(P + 5));
        vault.periodKey(now("z.example"));

        assertThat(afterPrefetch).as("y and z prefetched").isEqualTo(5);
        assertThat(vault.derivationCount()).as("z's next key came from the prefetch").isEqualTo(afterPrefetch);
    }

    @Test
    void anUnverifiedKeyPushedOutByTheBoundIsCountedAsWasted() throws Exception {
        AtomicInteger reported = new AtomicInteger();
        PeriodKeys verifying = vault.forVerification(reported::incrementAndGet);

        verifying.periodKey(now("x.example"));
        verifying.periodKey(now("y.example"));
        verifying.periodKey(now("z.example")); // full: x, never checked, makes room

        assertThat(vault.unconfirmedKeyCount()).isEqualTo(2);
        assertThat(vault.wastedDerivationCount()).isEqualTo(1);
        assertThat(reported.get()).as("reported to the view's listener").isEqualTo(1);
    }

    @Test
    void unverifiedKeysAreHeldWithinTheSameBound() throws Exception {
        PeriodKeys verifying = vault.forVerification(() -> { });
        for (int p = 60; p < 1060; p++) {
            PeriodKey key = verifying.periodKey(new KdfContext("k1", "x.example", p, KdfContext.periodOf(clock.instant().getEpochSecond(), p)));
            verifying.macChecked(key, false);
        }

        assertThat(vault.unconfirmedKeyCount()).isLessThanOrEqualTo(2);
        assertThat(vault.cachedKeyCount()).isZero();
        assertThat(vault.derivationCount()).isEqualTo(1000);
        assertThat(vault.wastedDerivationCount()).isEqualTo(1000);
    }
}
