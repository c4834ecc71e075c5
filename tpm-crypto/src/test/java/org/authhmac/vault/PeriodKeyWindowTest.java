package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Period keys stay in memory while their period is in the window (the current one and cache.previousPeriods before it). */
class PeriodKeyWindowTest {
    private static final Instant T0 = Instant.parse("2026-11-22T02:00:00Z");
    private static final int P = 900;

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(T0.plusSeconds(10));
    private DefaultKeyVault vault;

    @BeforeEach
    void openVault() {
        vault = new DefaultKeyVault(new SoftwareKeyStore(), dir.resolve("keyset.properties"), CacheSettings.DEFAULTS, clock, false);
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
    }

    @AfterEach
    void closeVault() {
        vault.close();
    }

    private KdfContext at(String domain, Instant t) {
        return new KdfContext("k1", domain, P, KdfContext.periodOf(t.getEpochSecond(), P));
    }

    @Test
    void aKeyStaysCachedThroughThePeriodAfterItsOwnAndIsDroppedAtTheSweepAfterThat() throws Exception {
        KdfContext first = at("a.example", clock.instant());
        vault.periodKey(first);

        clock.set(T0.plusSeconds(P + 10));
        vault.refreshAhead();
        assertThat(vault.cachedKeyCount()).as("in the previous period").isEqualTo(1);
        vault.periodKey(first);
        assertThat(vault.derivationCount()).as("still cached").isEqualTo(1);

        clock.set(T0.plusSeconds(2 * P + 10));
        vault.refreshAhead();
        assertThat(vault.cachedKeyCount()).as("two periods back").isZero();
    }

    @Test
    void aKeyThatLeftTheWindowIsDroppedWhenTheNextKeyIsDerived() throws Exception {
        vault.periodKey(at("a.example", clock.instant()));

        clock.set(T0.plusSeconds(7200 + 10));
        vault.periodKey(at("b.example", clock.instant()));

        assertThat(vault.cachedKeyCount()).isEqualTo(1);
    }

    @Test
    void anUnverifiedKeyOfThePreviousPeriodWaitsThroughTheSweepForItsMacCheck() throws Exception {
        PeriodKeys verifying = vault.forVerification(() -> { });
        PeriodKey key = verifying.periodKey(at("a.example", clock.instant()));

        clock.set(T0.plusSeconds(P + 10));
        vault.refreshAhead();
        verifying.macChecked(key, true);

        assertThat(vault.cachedKeyCount()).isEqualTo(1);
        assertThat(vault.unconfirmedKeyCount()).isZero();
        assertThat(vault.wastedDerivationCount()).isZero();
    }
}
