package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyFingerprint;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vault over its key store: which contexts reach the store, what the vault keeps of its answers, and when it lets go. */
class DefaultKeyVaultTest {
    private static final int P = 900;
    /** Four labels of 63 characters: the longest domain name DNS allows, 255 bytes. */
    private static final String LONGEST_DOMAIN = String.join(".", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(63));

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:10Z"));
    private final SoftwareKeyStore store = new SoftwareKeyStore();
    private DefaultKeyVault vault;

    @BeforeEach
    void openVault() {
        vault = new DefaultKeyVault(store, dir.resolve("keyset.properties"), CacheSettings.DEFAULTS, clock, false);
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
    }

    @AfterEach
    void closeVault() {
        vault.close();
    }

    private KdfContext now(String domain) {
        return new KdfContext("k1", domain, P, KdfContext.periodOf(clock.instant().getEpochSecond(), P));
    }

    @Test
    void fingerprintIsOneStoreOperationOverTheFingerprintInputAndNoDerivation() throws Exception {
        long before = store.operationCount();

        KeyFingerprint fp = vault.fingerprint("k1");

        assertThat(fp).isEqualTo(KeyFingerprint.of(TestVaults.PRIMARY));
        assertThat(store.operationCount() - before).isEqualTo(1);
        assertThat(vault.derivationCount()).isZero();
        assertThat(vault.cachedKeyCount()).isZero();
    }

    @Test
    void fingerprintOfARetiredKeyIsShownAndOfAnUnknownKeyIdRefused() throws Exception {
        vault.importKey("k2", "partner-b", new byte[32], KeyStatus.ACTIVE);
        vault.setStatus("k2", KeyStatus.RETIRED);

        assertThat(vault.fingerprint("k2")).isEqualTo(KeyFingerprint.of(new byte[32]));
        assertThatThrownBy(() -> vault.fingerprint("k3")).isInstanceOf(UnknownKeyException.class).hasMessageContaining("k3");
    }

    @Test
    void healthSaysHowManyKeysWhichKeysetFileHolds() {
        assertThat(vault.health().detail()).endsWith("; 1 keys in " + dir.resolve("keyset.properties"));
    }

    @Test
    void aDomainOfTheLongestLengthDnsAllowsDerivesItsKey() throws Exception {
        assertThat(LONGEST_DOMAIN.length()).isEqualTo(Kdf.MAX_DOMAIN_BYTES);
        KdfContext ctx = now(LONGEST_DOMAIN);

        assertThat(vault.periodKey(ctx).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, ctx));
        assertThat(vault.forVerification(() -> { }).periodKey(ctx).exportBytesForTestVectors())
                .isEqualTo(Kdf.derive(TestVaults.PRIMARY, ctx));
    }

    @Test
    void aDomainTooLongOrEmptyIsAnUnknownKeyForSignerAndVerifierAndNeverReachesTheKeyStore() {
        PeriodKeys verifying = vault.forVerification(() -> { });
        long operationsBefore = vault.backendOperationCount();

        for (String domain : List.of(LONGEST_DOMAIN + "x", "")) {
            // permanent: a header naming such a domain fails, it is not retried as a key store outage would be
            assertThatThrownBy(() -> vault.periodKey(now(domain))).isInstanceOf(UnknownKeyException.class);
            assertThatThrownBy(() -> verifying.periodKey(now(domain))).isInstanceOf(UnknownKeyException.class);
        }
        assertThat(vault.backendOperationCount()).isEqualTo(operationsBefore);
        assertThat(vault.derivationCount()).isZero();
    }

    @Test
    void askingAgainForASigningContextGivesTheCachedKey() throws Exception {
        PeriodKey first = vault.periodKey(now("a.example"));

        assertThat(vault.periodKey(now("a.example"))).isSameAs(first);
        assertThat(vault.derivationCount()).isEqualTo(1);
    }

    @Test
    void theKeyStoresAnswerIsWipedOnceThePeriodKeyHoldsIt() throws Exception {
        PeriodKey key = vault.periodKey(now("a.example"));

        assertThat(store.lastAnswer()).containsOnly(0);
        assertThat(key.exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, now("a.example")));
    }

    @Test
    void theKeyStoresOperationsAreCountedThroughTheVault() throws Exception {
        long afterImport = vault.backendOperationCount();
        vault.periodKey(now("a.example"));

        assertThat(afterImport).isEqualTo(1);
        assertThat(vault.backendOperationCount()).isEqualTo(2);
    }

    @Test
    void theKeyStoreIsToldOfEveryKeysetChangeTheVaultWrites() throws Exception {
        int afterFirstImport = store.keysetChanges();

        vault.importKey("k2", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
        vault.setStatus("k2", KeyStatus.RETIRED);

        assertThat(afterFirstImport).isEqualTo(1);
        assertThat(store.keysetChanges()).isEqualTo(3);
    }

    @Test
    void closingTheVaultClosesTheKeyStoreAndDropsEveryPeriodKey() throws Exception {
        vault.periodKey(now("a.example"));
        vault.forVerification(() -> { }).periodKey(now("b.example"));

        vault.close();

        assertThat(store.closed()).isTrue();
        assertThat(vault.cachedKeyCount()).isZero();
        assertThat(vault.unconfirmedKeyCount()).isZero();
    }

    @Test
    void aClosedVaultDerivesNothingAheadAnyMore() throws Exception {
        vault.periodKey(now("a.example"));
        vault.close();

        clock.set(Instant.parse("2026-11-22T02:14:30Z")); // 30 s before the boundary
        vault.refreshAhead();

        assertThat(vault.derivationCount()).isEqualTo(1);
        assertThat(vault.cachedKeyCount()).isZero();
    }

    @Test
    void theVerificationViewNamesItsKeyStore() {
        assertThat(vault.forVerification(() -> { })).hasToString("verification view of the software key vault");
    }

    @Test
    void concurrentSignersOfOneNewContextAllGetItsKeyFromOneDerivation() throws Exception {
        List<PeriodKey> keys = concurrently(4, () -> vault.periodKey(now("a.example")));

        assertThat(keys).hasSize(4).doesNotContainNull().allSatisfy(k -> assertThat(k).isSameAs(keys.get(0)));
        assertThat(vault.derivationCount()).isEqualTo(1);
    }

    @Test
    void concurrentVerifiersOfOneNewContextAllGetTheSameKeyFromOneDerivation() throws Exception {
        PeriodKeys verifying = vault.forVerification(() -> { });

        List<PeriodKey> keys = concurrently(4, () -> verifying.periodKey(now("a.example")));

        assertThat(keys).hasSize(4).doesNotContainNull().allSatisfy(k -> assertThat(k).isSameAs(keys.get(0)));
        assertThat(vault.derivationCount()).isEqualTo(1);
        assertThat(vault.unconfirmedKeyCount()).isEqualTo(1);
    }

    private interface KeyRequest {
        PeriodKey get() throws Exception;
    }

    /**
     * Runs the request in that many threads at once; the first derivation waits in the key store until every other
     * thread waits for it, so that they all find the context new and then find it derived (or derive it again).
     */
    private List<PeriodKey> concurrently(int threads, KeyRequest request) throws Exception {
        Set<Thread> workers = ConcurrentHashMap.newKeySet();
        AtomicBoolean first = new AtomicBoolean(true);
        store.beforeEachHmac(() -> {
            if (first.getAndSet(false)) {
                awaitAllWaitingOnTheVault(workers, threads - 1);
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<PeriodKey>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    workers.add(Thread.currentThread());
                    start.await();
                    return request.get();
                }));
            }
            start.countDown();
            List<PeriodKey> keys = new ArrayList<>();
            for (Future<PeriodKey> f : results) {
                keys.add(f.get(60, TimeUnit.SECONDS));
            }
            return keys;
        } finally {
            pool.shutdownNow();
        }
    }

    private static void awaitAllWaitingOnTheVault(Set<Thread> workers, int others) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            long waiting = workers.stream()
                    .filter(w -> w != Thread.currentThread())
                    .map(w -> mx.getThreadInfo(w.threadId()))
                    .filter(i -> i != null && i.getThreadState() == Thread.State.BLOCKED && isDerivationLock(i))
                    .count();
            if (waiting == others) {
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        throw new AssertionError("the other threads never waited for the derivation");
    }

    /** The vault's derivation lock is a plain Object; its tables' locks are the tables. */
    private static boolean isDerivationLock(ThreadInfo info) {
        return info.getLockName() != null && info.getLockName().startsWith("java.lang.Object@");
    }
}
