package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.testing.MutableClock;
import org.authhmac.testing.tpm.Swtpm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Forged signature headers against the vault as the receiving server uses it: the real Signer makes the mail
 * (the partner with the shared primary, the attacker with a primary of its own but the partner's public key id
 * and d=), the real Verifier with its default settings checks it through {@link KeyVault#forVerification}, and
 * the vault counts the derivations (each one a TPM2_HMAC with the TPM backend): with the PKCS#12 backend, and the
 * flood also against a real swtpm.
 */
class ForgedHeadersAttackTest {
    /** A whole hour: the period boundary of every period length that divides 3600. */
    private static final Instant T0 = Instant.parse("2026-11-22T02:00:00Z");
    private static final int P = 900;
    private static final String KEY_ID = "k1";
    private static final String PARTNER = "a.example";
    private static final String BOB = "bob@b.example";
    private static final byte[] ATTACKER_PRIMARY = "not the partner's primary, 32 b".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(T0.plusSeconds(10));
    private final AtomicLong wastedReported = new AtomicLong();
    private Swtpm swtpm;
    private DefaultKeyVault vault;
    private PeriodKeys verifying;
    private Verifier verifier;
    private int mails;

    @BeforeEach
    void openVault() {
        open(TestVaults.pkcs12(), dir);
    }

    private void open(Properties properties, Path directory) {
        vault = TestVaults.open(properties, directory, clock);
        vault.importKey(KEY_ID, "partner-a", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        verifying = vault.forVerification(wastedReported::incrementAndGet);
        verifier = new Verifier(VerifierSettings.defaults(), verifying, new InMemoryReplayCache(1_000_000, clock));
    }

    @AfterEach
    void close() {
        vault.close();
        if (swtpm != null) {
            swtpm.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"pkcs12", "tpm"})
    void tenThousandForgedContextsNeitherEvictTheGenuineKeyNorStopItsPrefetch(String backend) throws Exception {
        if (backend.equals("tpm")) {
            vault.close();
            swtpm = Swtpm.start();
            open(TestVaults.tpm(swtpm), Files.createDirectories(dir.resolve("tpm")));
        }
        // given: the partner's mail verified once (one derivation)
        assertThat(verify(genuine())).isInstanceOf(Verdict.Pass.class);
        assertThat(vault.derivationCount()).isEqualTo(1);

        // when: 10,000 forged mails, each with a period length of its own (a context of its own)
        Set<KdfContext> forgedContexts = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            int p = 60 + i >= P ? 61 + i : 60 + i; // every p in 60..10060 but the genuine 900
            forgedContexts.add(context(p, clock.instant()));
            assertThat(verify(forged(List.of(p), List.of(clock.instant())))).isNotInstanceOf(Verdict.Pass.class);
        }
        long afterFlood = vault.derivationCount();

        // then: the prefetcher, 30 s before the boundary, derives the genuine stream's next key and nothing else
        clock.set(T0.plusSeconds(P - 30));
        vault.refreshAhead();
        long prefetched = vault.derivationCount() - afterFlood;
        // and after the boundary 100 genuine mails cost no derivation, and no operation of the key store
        clock.set(T0.plusSeconds(P + 5));
        long operationsBefore = vault.backendOperationCount();
        for (int i = 0; i < 100; i++) {
            assertThat(verify(genuine())).isInstanceOf(Verdict.Pass.class);
        }
        assertThat(vault.backendOperationCount()).as("key store operations for the 100 genuine mails").isEqualTo(operationsBefore);

        assertThat(afterFlood - 1).as("forged derivations: at most one per distinct context (0 with the period policy)")
                .isLessThanOrEqualTo(forgedContexts.size());
        assertThat(prefetched).as("derivations by the prefetcher").isEqualTo(1);
        assertThat(vault.derivationCount()).as("derivations for 100 genuine mails after the flood")
                .isEqualTo(afterFlood + prefetched);
        System.out.printf("MEASURE forged flood (%s): %d forged contexts cost %d derivations; prefetch %d; 100 genuine after it: %d%n",
                backend, forgedContexts.size(), afterFlood - 1, prefetched, vault.derivationCount() - afterFlood - prefetched);
    }

    @Test
    void genuineMailFirstSeenAfterTenThousandForgedContextsIsDerivedOnceThenCached() throws Exception {
        // given: 10,000 forged contexts seen first
        for (int i = 0; i < 10_000; i++) {
            int p = 60 + i >= P ? 61 + i : 60 + i;
            verify(forged(List.of(p), List.of(clock.instant())));
        }
        long afterFlood = vault.derivationCount();

        // when: 100 genuine mails
        for (int i = 0; i < 100; i++) {
            assertThat(verify(genuine())).isInstanceOf(Verdict.Pass.class);
        }

        // then: one derivation for the first, the other 99 from the cache
        assertThat(vault.derivationCount() - afterFlood).isEqualTo(1);
    }

    @Test
    void forgedHeadersDoNotMakeThePrefetcherDeriveAnything() throws Exception {
        // given: 30 s before a boundary shared by every period length that divides an hour
        clock.set(T0.plusSeconds(3600 - 30));
        List<Integer> lengths = new ArrayList<>();
        for (int p = 60; p <= 3600; p++) {
            if (3600 % p == 0) {
                lengths.add(p); // 900, the configured one, among them
            }
        }
        // when: forged mails under each of them, with the partner's key id and domain
        for (int p : lengths) {
            verify(forged(List.of(p), List.of(clock.instant())));
        }
        long beforePrefetch = vault.derivationCount();
        vault.refreshAhead();

        // then
        assertThat(vault.derivationCount() - beforePrefetch).as("derived by the prefetcher").isZero();
        assertThat(vault.cachedKeyCount()).as("keys cached for forged contexts").isZero();
    }

    @Test
    void aMacReportedUnderAKeyTheVaultDidNotHandOutDoesNotMakeThePrefetcherDeriveAnything() throws Exception {
        // given: 30 s before a boundary, a context nobody derived here
        clock.set(T0.plusSeconds(3600 - 30));
        KdfContext ctx = context(P, clock.instant());

        // when: a verifier reports a MAC, verified or not, under a key of that context that the vault never handed out
        verifying.macChecked(PeriodKey.of(ctx, new byte[32]), true);
        verifying.macChecked(PeriodKey.of(ctx, new byte[32]), false);
        vault.refreshAhead();

        // then
        assertThat(vault.derivationCount()).as("derived by the prefetcher").isZero();
    }

    /**
     * The bound: a context costs at most one derivation while it stays in the window (and among the
     * cache.maxEntries most recently derived unverified contexts). With the configured p, the partner's key id and
     * d=, the contexts a forger can reach are its periods in the window: here the current and the previous one.
     */
    @Test
    void twoHundredForgedMailsOfFiveHeadersAtTheConfiguredPeriodCostOneDerivationPerContext() throws Exception {
        Instant now = clock.instant();
        List<Instant> times = List.of(now, now.minusSeconds(5), now.minusSeconds(20), now.minusSeconds(60), now.minusSeconds(1));
        Set<KdfContext> contexts = new HashSet<>();
        times.forEach(t -> contexts.add(context(P, t)));

        for (int i = 0; i < 200; i++) {
            Verdict v = verify(forged(List.of(P, P, P, P, P), times));
            assertThat(v).isNotInstanceOf(Verdict.Pass.class);
        }

        assertThat(contexts).hasSize(2);
        assertThat(vault.derivationCount()).isEqualTo(contexts.size());
        assertThat(vault.cachedKeyCount()).as("nothing cached for them").isZero();
    }

    @Test
    void wastedDerivationsCountDerivationsForMacsThatFailedAndKeysNeverChecked() throws Exception {
        // given: the partner's genuine mail (a derivation that paid off)
        assertThat(verify(genuine())).isInstanceOf(Verdict.Pass.class);
        // when: forged mails at the configured p in the previous period (a context of its own) and in the current one
        Instant previous = T0.minusSeconds(100);
        for (int i = 0; i < 20; i++) {
            verify(forged(List.of(P, P), List.of(previous, clock.instant())));
        }
        // and a key asked for and never checked against a MAC, until it leaves the window
        verifying.periodKey(new KdfContext(KEY_ID, PARTNER, 1800, KdfContext.periodOf(clock.instant().getEpochSecond(), 1800)));
        long beforeWindowMoves = vault.wastedDerivationCount();
        clock.advance(Duration.ofHours(2));
        vault.refreshAhead();

        // then: the previous period's forged context and the unchecked key are wasted; the genuine one is not
        assertThat(vault.derivationCount()).isEqualTo(3);
        assertThat(beforeWindowMoves).isEqualTo(1);
        assertThat(vault.wastedDerivationCount()).isEqualTo(2);
        assertThat(wastedReported.get()).as("reported to the view's listener").isEqualTo(2);
    }

    @Test
    void keyDerivedForVerificationIsCachedOnlyAfterAMacVerifiedUnderIt() throws Exception {
        KdfContext ctx = context(P, clock.instant());
        PeriodKey key = verifying.periodKey(ctx);
        assertThat(vault.cachedKeyCount()).isZero();
        assertThat(vault.unconfirmedKeyCount()).isEqualTo(1);

        verifying.macChecked(PeriodKey.of(ctx, key.exportBytesForTestVectors()), true); // not a key the vault handed out
        assertThat(vault.cachedKeyCount()).isZero();

        verifying.macChecked(key, true);
        assertThat(vault.cachedKeyCount()).isEqualTo(1);
        assertThat(vault.unconfirmedKeyCount()).isZero();
        verifying.periodKey(ctx);
        vault.periodKey(ctx);
        assertThat(vault.derivationCount()).isEqualTo(1);
        assertThat(vault.wastedDerivationCount()).isZero();
    }

    @Test
    void keysDerivedForSigningAreCachedAtOnce() throws Exception {
        KdfContext ctx = context(P, clock.instant());

        vault.periodKey(ctx);
        verifying.periodKey(ctx);

        assertThat(vault.cachedKeyCount()).isEqualTo(1);
        assertThat(vault.derivationCount()).isEqualTo(1);
    }

    @Test
    void aKeyAVerifierDerivedBecomesTrustedWhenOurOwnSigningUsesItsContext() throws Exception {
        KdfContext ctx = context(P, clock.instant());
        PeriodKey derivedForVerifier = verifying.periodKey(ctx);

        PeriodKey signing = vault.periodKey(ctx);
        verifying.macChecked(derivedForVerifier, false); // a forged MAC under it, after our signing vouched for it

        assertThat(signing).isSameAs(derivedForVerifier);
        assertThat(vault.derivationCount()).isEqualTo(1);
        assertThat(vault.cachedKeyCount()).isEqualTo(1);
        assertThat(vault.unconfirmedKeyCount()).isZero();
        assertThat(vault.wastedDerivationCount()).isZero();
    }

    @Test
    void concurrentVerifiersOfOneNewContextDeriveItOnceWhetherTheirMacsVerifyOrNot() throws Exception {
        // many rounds: the race this catches (a confirmation between a waiting deriver's two lookups) takes one
        // context's key derived twice in about one run of six at 500 rounds on two cores
        int contexts = 1000;
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int c = 0; c < contexts; c++) {
                KdfContext ctx = context(60 + c, clock.instant()); // a new context each round, so each round races anew
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    boolean genuineMail = t % 2 == 0;
                    done.add(pool.submit(() -> {
                        start.await();
                        for (int i = 0; i < 50; i++) {
                            verifying.macChecked(verifying.periodKey(ctx), genuineMail);
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(vault.derivationCount()).isEqualTo(contexts);
        assertThat(vault.cachedKeyCount()).isEqualTo(contexts);
        assertThat(vault.unconfirmedKeyCount()).isZero();
        assertThat(vault.wastedDerivationCount()).isLessThanOrEqualTo(contexts);
    }

    private Verdict verify(byte[] mail) {
        return verifier.verify(mail, 0, mail.length, clock.instant(), List.of(BOB)).get(BOB);
    }

    private static KdfContext context(int p, Instant t) {
        return new KdfContext(KEY_ID, PARTNER, p, KdfContext.periodOf(t.getEpochSecond(), p));
    }

    private byte[] genuine() throws Exception {
        byte[] message = message();
        List<String> lines = new Signer(SignerSettings.defaults()).sign(message, 0, message.length,
                List.of(new SignRequest(KEY_ID, PARTNER, "b.example", clock.instant())), StaticPeriodKeys.of(KEY_ID, TestVaults.PRIMARY));
        return prepend(lines, message);
    }

    /** One forged header per (period length, time), made with the attacker's primary under the partner's key id. */
    private byte[] forged(List<Integer> periodLengths, List<Instant> times) throws Exception {
        byte[] message = message();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < periodLengths.size(); i++) {
            lines.addAll(new Signer(SignerSettings.defaults().withPeriodSeconds(periodLengths.get(i))).sign(message, 0, message.length,
                    List.of(new SignRequest(KEY_ID, PARTNER, "b.example", times.get(i))), StaticPeriodKeys.of(KEY_ID, ATTACKER_PRIMARY)));
        }
        return prepend(lines, message);
    }

    private byte[] message() {
        int n = ++mails;
        return ("From: alice@a.example\r\nTo: bob@b.example\r\nSubject: note " + n + "\r\nDate: Sun, 22 Nov 2026 02:00:00 +0000\r\n"
                + "Message-ID: <m" + n + "@a.example>\r\n\r\nHello " + n + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] prepend(List<String> lines, byte[] message) {
        byte[] head = (String.join("\r\n", lines) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + message.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(message, 0, out, head.length, message.length);
        return out;
    }
}
