package org.authhmac.vault;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyFingerprint;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;

/**
 * The derived period keys in memory: at most one backend operation per (key id, domain, period length, period)
 * while the key stays in the window (the previous periods the verifier accepts, the current one and the next), and
 * keys that leave the window dropped. Trusted contexts (our own, or one a MAC verified under) are cached; keys
 * derived for a verifier wait in {@link UnconfirmedKeys} until a MAC verifies under them. Each table holds at most
 * {@link CacheSettings#maxEntries()} entries, so forged contexts can displace only other unconfirmed ones.
 */
final class PeriodKeyCache {
    private final KeyBackend backend;
    private final CacheSettings settings;
    private final Clock clock;
    private final Object deriveLock = new Object();
    /** Keys of trusted contexts: derived for signing or prefetching, or a MAC verified under them. */
    private final LruTable<KdfContext, PeriodKey> trusted;
    private final UnconfirmedKeys unconfirmed;
    private final AtomicLong derivations = new AtomicLong();
    /** Told of each backend derivation, for a latency metric; never the key. */
    private volatile DerivationTiming derivationTiming = () -> () -> { };

    private Runnable timingStarted() {
        try {
            Runnable done = derivationTiming.started();
            return done == null ? () -> { } : done;
        } catch (RuntimeException e) {
            return () -> { };
        }
    }

    void timeDerivations(DerivationTiming timing) {
        this.derivationTiming = timing;
    }
    private volatile long lastSweepSecond = Long.MIN_VALUE;

    PeriodKeyCache(KeyBackend backend, CacheSettings settings, Clock clock) {
        this.backend = backend;
        this.settings = settings;
        this.clock = clock;
        this.trusted = new LruTable<>(settings.maxEntries());
        this.unconfirmed = new UnconfirmedKeys(settings.maxEntries());
    }

    /** The key for a trusted context: from memory, or derived and cached at once. */
    PeriodKey trusted(KeyRecord key, KdfContext ctx) throws KeyUnavailableException {
        PeriodKey cached = trusted.get(ctx);
        return cached != null ? cached : derive(key, ctx, null);
    }

    /** The key for a context a verifier asks for: from memory, or derived and held unconfirmed. */
    PeriodKey forVerifier(KeyRecord key, KdfContext ctx, Runnable onWasted) throws KeyUnavailableException {
        PeriodKey cached = trusted.get(ctx);
        if (cached != null) {
            return cached;
        }
        UnconfirmedKeys.Held held = unconfirmed.get(ctx);
        return held != null ? held.key : derive(key, ctx, onWasted);
    }

    /**
     * A MAC checked under a key this cache handed out: verified, an unconfirmed key becomes trusted; failed, it counts
     * as wasted. Returns whether the key is a trusted one that verified a MAC (its stream is worth prefetching).
     */
    boolean macChecked(PeriodKey key, boolean verified) {
        KdfContext ctx = key.context();
        UnconfirmedKeys.Held held = unconfirmed.get(ctx);
        if (held != null && held.key == key) {
            if (!verified) {
                unconfirmed.waste(held);
                return false;
            }
            // cached before it leaves the unconfirmed table, so that no verifier finds it in neither and derives again
            if (inWindow(ctx, clock.instant().getEpochSecond())) {
                trusted.put(ctx, key);
            }
            unconfirmed.confirm(ctx, held);
        }
        return verified && trusted.get(ctx) == key;
    }

    boolean contains(KdfContext ctx) {
        return trusted.containsKey(ctx);
    }

    /**
     * Derives a key, one derivation at a time. {@code onWasted} null: a trusted context, cached at once.
     * Otherwise a verifier's: held unconfirmed until a MAC verifies under it.
     */
    PeriodKey derive(KeyRecord key, KdfContext ctx, Runnable onWasted) throws KeyUnavailableException {
        List<UnconfirmedKeys.Held> dropped = new ArrayList<>(0);
        PeriodKey periodKey;
        // One derivation at a time: concurrent requests for the same period wait here and then find it in memory,
        // so the TPM sees one command per period, not one per waiting thread.
        synchronized (deriveLock) {
            // The unconfirmed table first: a MAC that verifies (macChecked, which takes no lock) caches the key before
            // it removes it from there, so a key found in neither table, looked for in this order, was never derived.
            // In the other order a confirmation between the two lookups would hide it from both.
            UnconfirmedKeys.Held held = unconfirmed.get(ctx);
            if (held != null) {
                if (onWasted == null) {
                    // our own use of the context (signing, or the prefetch of a verified stream) vouches for it
                    trusted.put(ctx, held.key);
                    unconfirmed.confirm(ctx, held);
                }
                return held.key;
            }
            PeriodKey cached = trusted.get(ctx);
            if (cached != null) {
                return cached;
            }
            byte[] bytes = hmac(key, ctx);
            try {
                periodKey = PeriodKey.of(ctx, bytes);
            } finally {
                Arrays.fill(bytes, (byte) 0);
            }
            long now = clock.instant().getEpochSecond();
            if (now != lastSweepSecond) {
                lastSweepSecond = now;
                dropped.addAll(evictOutsideWindow(now));
            }
            if (onWasted == null) {
                if (inWindow(ctx, now)) {
                    trusted.put(ctx, periodKey);
                }
            } else {
                // held even outside the window (until the next sweep), so that its check is counted
                dropped.addAll(unconfirmed.hold(ctx, periodKey, onWasted));
            }
        }
        unconfirmed.waste(dropped);
        return periodKey;
    }

    /**
     * The key's public fingerprint: one backend HMAC over the fingerprint input, taken in turn with derivations (the
     * backend serves one at a time). Not cached and not counted as a derivation.
     */
    KeyFingerprint fingerprint(KeyRecord key) throws KeyUnavailableException {
        byte[] bytes;
        synchronized (deriveLock) {
            try {
                bytes = backend.hmacSha256(key.keyId(), key.reference(), KeyFingerprint.input());
            } catch (RuntimeException e) {
                throw new KeyUnavailableException(backend.name() + " key store failed: " + e, e);
            }
        }
        if (bytes == null || bytes.length != Kdf.OUTPUT_BITS / 8) {
            throw new KeyUnavailableException(backend.name() + " key store returned no 256-bit HMAC");
        }
        try {
            return KeyFingerprint.fromHmac(bytes);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** The backend's HMAC over the context's fixed input (one backend operation); the caller wipes it. */
    private byte[] hmac(KeyRecord key, KdfContext ctx) throws KeyUnavailableException {
        byte[] bytes;
        Runnable done = timingStarted();
        try {
            bytes = backend.hmacSha256(key.keyId(), key.reference(), Kdf.fixedInput(ctx));
        } catch (RuntimeException e) {
            // whatever the backend's library throws, the caller gets the temporary answer, never a key
            throw new KeyUnavailableException(backend.name() + " key store failed: " + e, e);
        } finally {
            try {
                done.run();
            } catch (RuntimeException e) {
                // a metric must not fail a derivation
            }
        }
        if (bytes == null || bytes.length != Kdf.OUTPUT_BITS / 8) {
            throw new KeyUnavailableException(backend.name() + " key store returned no 256-bit HMAC");
        }
        derivations.incrementAndGet();
        return bytes;
    }

    /** Drops keys that left the window; the prefetch thread calls this every second. */
    void sweep(long nowSeconds) {
        lastSweepSecond = nowSeconds;
        unconfirmed.waste(evictOutsideWindow(nowSeconds));
    }

    /** Drops the keys of key ids that can no longer derive (retired, or gone from the keyset file). */
    void retain(Predicate<String> usableKeyId) {
        trusted.removeIf((ctx, key) -> !usableKeyId.test(ctx.keyId()));
        unconfirmed.waste(unconfirmed.removeIf((ctx, held) -> !usableKeyId.test(ctx.keyId())));
    }

    private boolean inWindow(KdfContext ctx, long nowSeconds) {
        long current = KdfContext.periodOf(nowSeconds, ctx.periodSeconds());
        return ctx.period() >= current - settings.previousPeriods() && ctx.period() <= current + 1;
    }

    private List<UnconfirmedKeys.Held> evictOutsideWindow(long nowSeconds) {
        trusted.removeIf((ctx, k) -> !inWindow(ctx, nowSeconds));
        return unconfirmed.removeIf((ctx, held) -> !inWindow(ctx, nowSeconds));
    }

    long derivationCount() {
        return derivations.get();
    }

    long wastedDerivationCount() {
        return unconfirmed.wastedCount();
    }

    int cachedKeyCount() {
        return trusted.size();
    }

    int unconfirmedKeyCount() {
        return unconfirmed.size();
    }

    void clear() {
        trusted.clear();
        unconfirmed.clear();
    }
}
