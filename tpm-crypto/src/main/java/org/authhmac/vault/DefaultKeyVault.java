package org.authhmac.vault;

import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The vault: keyset file + backend + period-key cache. At most one backend operation per (key id, domain, period
 * length, period) while the key stays in the window; the next period's key is derived shortly before the boundary
 * so that no mail waits on the TPM then; keys that leave the window are dropped from memory.
 *
 * <p>Received headers choose the context a verifier asks for, so the vault trusts only two kinds of context: those
 * it derives through {@link #periodKey} (signing: our own key ids, domains and period length) and those a real MAC
 * verified under. Keys derived through {@link #forVerification} wait in a table of their own until the verifier
 * reports a verified MAC ({@link PeriodKeys#macChecked}); only then are they cached and their stream prefetched.
 * Each of the three tables (trusted keys, unconfirmed keys, recently used streams) holds at most
 * {@link CacheSettings#maxEntries()} entries and makes room by dropping its least recently used one, so forged
 * contexts can displace only other unconfirmed ones and nothing received grows memory without bound.
 */
public final class DefaultKeyVault implements ManagedKeyVault {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultKeyVault.class);
    /** How often the keyset file's modification time is looked at, so that keys added by the CLI show up. */
    private static final long KEYSET_RECHECK_MILLIS = 1_000;

    /** What is signed or verified repeatedly: one key, one domain, one period length. */
    private record Stream(String keyId, String domain, int periodSeconds) {
    }

    /**
     * A key derived for a verifier, no MAC verified under it yet. {@code settled} turns true once: when a MAC
     * verified under it (useful work) or when it is counted as wasted (the first MAC checked under it failed, or it
     * left memory unchecked).
     */
    private static final class Unconfirmed {
        final PeriodKey key;
        final Runnable onWasted;
        final AtomicBoolean settled = new AtomicBoolean();

        Unconfirmed(PeriodKey key, Runnable onWasted) {
            this.key = key;
            this.onWasted = onWasted;
        }
    }

    private final KeyBackend backend;
    private final KeysetFile keysetFile;
    private final CacheSettings cacheSettings;
    private final Clock clock;
    private final Object keysetLock = new Object();
    private final Object deriveLock = new Object();
    /** Keys of trusted contexts: derived for signing or prefetching, or a MAC verified under them. */
    private final LruTable<KdfContext, PeriodKey> cache;
    /** Keys derived for a verifier that no MAC has verified under yet; never prefetched. */
    private final LruTable<KdfContext, Unconfirmed> unconfirmed;
    /** Trusted streams and the latest period used in each: what the prefetcher derives ahead. */
    private final LruTable<Stream, Long> recentStreams;
    private final AtomicLong derivations = new AtomicLong();
    private final AtomicLong wastedDerivations = new AtomicLong();
    private final ScheduledExecutorService prefetcher;
    private volatile long lastSweepSecond = Long.MIN_VALUE;
    private volatile Map<String, KeyRecord> keys;
    private volatile FileTime keysetModified;
    private volatile long keysetCheckedAt;

    /**
     * @param startPrefetcher whether a daemon thread derives next-period keys ahead of the boundary
     *                        (tests call {@link #refreshAhead()} themselves instead)
     */
    public DefaultKeyVault(KeyBackend backend, java.nio.file.Path keysetFile, CacheSettings cacheSettings, Clock clock, boolean startPrefetcher) {
        this.backend = Objects.requireNonNull(backend);
        this.keysetFile = new KeysetFile(Objects.requireNonNull(keysetFile));
        this.cacheSettings = Objects.requireNonNull(cacheSettings);
        this.clock = Objects.requireNonNull(clock);
        this.cache = new LruTable<>(cacheSettings.maxEntries());
        this.unconfirmed = new LruTable<>(cacheSettings.maxEntries());
        this.recentStreams = new LruTable<>(cacheSettings.maxEntries());
        this.keysetModified = this.keysetFile.lastModified();
        this.keys = this.keysetFile.read();
        for (KeyRecord k : keys.values()) {
            if (!k.backend().equals(backend.name())) {
                throw new VaultConfigException("vault.backend", "is " + backend.name() + " but key " + k.keyId()
                        + " in " + keysetFile + " lives in backend " + k.backend());
            }
        }
        this.keysetCheckedAt = clock.millis();
        if (startPrefetcher && cacheSettings.prefetchSeconds() > 0) {
            prefetcher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "auth-hmac-key-prefetch");
                t.setDaemon(true);
                return t;
            });
            prefetcher.scheduleWithFixedDelay(this::refreshAheadQuietly, 1, 1, TimeUnit.SECONDS);
        } else {
            prefetcher = null;
        }
    }

    /**
     * The key for one of our own contexts (signing, the CLI's checks): trusted, so it is cached at once and its
     * stream is prefetched. A verifier asks {@link #forVerification} instead.
     */
    @Override
    public PeriodKey periodKey(KdfContext ctx) throws UnknownKeyException, KeyUnavailableException {
        KeyRecord key = usableKey(ctx.keyId());
        requireDerivableDomain(ctx);
        noteStream(ctx);
        PeriodKey cached = cache.get(ctx);
        if (cached != null) {
            return cached;
        }
        return derive(key, ctx, null);
    }

    /** A verified MAC under a key this vault handed out: the context is genuine from now on. */
    @Override
    public void macChecked(PeriodKey key, boolean verified) {
        if (key == null) {
            return;
        }
        KdfContext ctx = key.context();
        Unconfirmed u = unconfirmed.get(ctx);
        if (u != null && u.key == key) {
            if (!verified) {
                settleAsWasted(u);
                return;
            }
            // cached before it leaves the unconfirmed table, so that no verifier finds it in neither and derives again
            if (inWindow(ctx, clock.instant().getEpochSecond())) {
                cache.put(ctx, key);
            }
            if (unconfirmed.remove(ctx, u)) {
                u.settled.set(true); // a derivation first checked against a forgery stays counted as wasted
            }
        }
        if (verified && cache.get(ctx) == key) {
            noteStream(ctx);
        }
    }

    @Override
    public PeriodKeys forVerification(Runnable onWastedDerivation) {
        return new VerificationView(Objects.requireNonNull(onWastedDerivation, "onWastedDerivation"));
    }

    /** The vault as a verifier uses it: see {@link KeyVault#forVerification}. */
    private final class VerificationView implements PeriodKeys {
        private final Runnable onWasted;

        VerificationView(Runnable onWasted) {
            this.onWasted = onWasted;
        }

        @Override
        public PeriodKey periodKey(KdfContext ctx) throws UnknownKeyException, KeyUnavailableException {
            KeyRecord key = usableKey(ctx.keyId());
            requireDerivableDomain(ctx);
            PeriodKey cached = cache.get(ctx);
            if (cached != null) {
                return cached;
            }
            Unconfirmed u = unconfirmed.get(ctx);
            if (u != null) {
                return u.key;
            }
            return derive(key, ctx, onWasted);
        }

        @Override
        public void macChecked(PeriodKey key, boolean verified) {
            DefaultKeyVault.this.macChecked(key, verified);
        }

        @Override
        public String toString() {
            return "verification view of the " + backend.name() + " key vault";
        }
    }

    private static void requireDerivableDomain(KdfContext ctx) throws UnknownKeyException {
        if (ctx.domain().isEmpty() || ctx.domain().getBytes(StandardCharsets.UTF_8).length > Kdf.MAX_DOMAIN_BYTES) {
            throw new UnknownKeyException("no key can be derived for a domain of that length");
        }
    }

    private void noteStream(KdfContext ctx) {
        recentStreams.merge(new Stream(ctx.keyId(), ctx.domain(), ctx.periodSeconds()), ctx.period(), Math::max);
    }

    /**
     * Derives a key, one derivation at a time. {@code onWasted} null: a trusted context, cached at once.
     * Otherwise a verifier's: held unconfirmed until a MAC verifies under it.
     */
    private PeriodKey derive(KeyRecord key, KdfContext ctx, Runnable onWasted) throws KeyUnavailableException {
        List<Unconfirmed> dropped = new ArrayList<>(0);
        PeriodKey periodKey;
        // One derivation at a time: concurrent requests for the same period wait here and then find it in memory,
        // so the TPM sees one command per period, not one per waiting thread.
        synchronized (deriveLock) {
            PeriodKey cached = cache.get(ctx);
            if (cached != null) {
                return cached;
            }
            Unconfirmed u = unconfirmed.get(ctx);
            if (u != null) {
                if (onWasted == null) {
                    // our own use of the context (signing, or the prefetch of a verified stream) vouches for it
                    cache.put(ctx, u.key);
                    if (unconfirmed.remove(ctx, u)) {
                        u.settled.set(true);
                    }
                }
                return u.key;
            }
            byte[] bytes;
            try {
                bytes = backend.hmacSha256(key.keyId(), key.reference(), Kdf.fixedInput(ctx));
            } catch (RuntimeException e) {
                // whatever the backend's library throws, the caller gets the temporary answer, never a key
                throw new KeyUnavailableException(backend.name() + " key store failed: " + e, e);
            }
            if (bytes == null || bytes.length != Kdf.OUTPUT_BITS / 8) {
                throw new KeyUnavailableException(backend.name() + " key store returned no 256-bit HMAC");
            }
            derivations.incrementAndGet();
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
                    cache.put(ctx, periodKey);
                }
            } else {
                // held even outside the window (until the next sweep), so that its check is counted
                for (Map.Entry<KdfContext, Unconfirmed> e : unconfirmed.put(ctx, new Unconfirmed(periodKey, onWasted))) {
                    dropped.add(e.getValue());
                }
            }
        }
        dropped.forEach(this::settleAsWasted);
        return periodKey;
    }

    /** Counts an unconfirmed key's derivation as wasted, once, and tells the view that derived it. */
    private void settleAsWasted(Unconfirmed u) {
        if (!u.settled.compareAndSet(false, true)) {
            return;
        }
        wastedDerivations.incrementAndGet();
        try {
            u.onWasted.run();
        } catch (RuntimeException e) {
            LOG.warn("wasted-derivation listener failed: {}", e.toString());
        }
    }

    /**
     * Derives the next period's key for every recently used trusted (key, domain, period length) whose boundary is
     * less than prefetchSeconds away, and drops keys that left the window. The prefetch thread calls this every second.
     */
    public void refreshAhead() {
        long now = clock.instant().getEpochSecond();
        lastSweepSecond = now;
        evictOutsideWindow(now).forEach(this::settleAsWasted);
        for (Map.Entry<Stream, Long> e : recentStreams.snapshot()) {
            Stream s = e.getKey();
            long current = KdfContext.periodOf(now, s.periodSeconds());
            if (e.getValue() < current - 1) {
                recentStreams.remove(s, e.getValue()); // not used in the last full period: stop prefetching
                continue;
            }
            long lead = Math.min(cacheSettings.prefetchSeconds(), s.periodSeconds() / 2);
            long secondsToBoundary = (current + 1) * s.periodSeconds() - now;
            if (secondsToBoundary > lead) {
                continue;
            }
            KdfContext next = new KdfContext(s.keyId(), s.domain(), s.periodSeconds(), current + 1);
            if (cache.containsKey(next)) {
                continue;
            }
            try {
                derive(usableKey(s.keyId()), next, null);
            } catch (UnknownKeyException retired) {
                recentStreams.remove(s, e.getValue());
            } catch (KeyUnavailableException down) {
                LOG.warn("could not derive the next period key ahead of time for key {}: {}", s.keyId(), down.getMessage());
            }
        }
    }

    private void refreshAheadQuietly() {
        try {
            refreshAhead();
        } catch (RuntimeException e) {
            LOG.warn("period-key prefetch failed", e);
        }
    }

    private boolean inWindow(KdfContext ctx, long nowSeconds) {
        long current = KdfContext.periodOf(nowSeconds, ctx.periodSeconds());
        return ctx.period() >= current - cacheSettings.previousPeriods() && ctx.period() <= current + 1;
    }

    /** Drops keys outside the window; returns the unconfirmed ones dropped, for the caller to settle. */
    private List<Unconfirmed> evictOutsideWindow(long nowSeconds) {
        cache.removeIf((ctx, k) -> !inWindow(ctx, nowSeconds));
        return values(unconfirmed.removeIf((ctx, u) -> !inWindow(ctx, nowSeconds)));
    }

    private static List<Unconfirmed> values(List<Map.Entry<KdfContext, Unconfirmed>> entries) {
        List<Unconfirmed> out = new ArrayList<>(entries.size());
        for (Map.Entry<KdfContext, Unconfirmed> e : entries) {
            out.add(e.getValue());
        }
        return out;
    }

    private KeyRecord usableKey(String keyId) throws UnknownKeyException {
        KeyRecord key = currentKeys().get(keyId);
        if (key == null) {
            throw new UnknownKeyException("unknown key id: " + keyId);
        }
        if (!key.status().usable()) {
            throw new UnknownKeyException("key " + keyId + " is retired");
        }
        return key;
    }

    private Map<String, KeyRecord> currentKeys() {
        long now = clock.millis();
        if (now - keysetCheckedAt >= KEYSET_RECHECK_MILLIS || now < keysetCheckedAt) {
            reloadIfChanged();
        }
        return keys;
    }

    /** Re-reads the keyset file when another process (the CLI) changed it. A broken file keeps the last good one. */
    private void reloadIfChanged() {
        synchronized (keysetLock) {
            keysetCheckedAt = clock.millis();
            try {
                FileTime modified = keysetFile.lastModified();
                if (Objects.equals(modified, keysetModified)) {
                    return;
                }
                Map<String, KeyRecord> fresh = keysetFile.read();
                keysetModified = modified;
                applyKeys(fresh);
                backend.keysetChanged();
                LOG.info("keyset {} reloaded: {} keys", keysetFile.path(), fresh.size());
            } catch (VaultConfigException e) {
                LOG.error("keyset file changed but cannot be used; keeping the previous keys: {}", e.getMessage());
            }
        }
    }

    private void applyKeys(Map<String, KeyRecord> fresh) {
        keys = Map.copyOf(fresh);
        cache.removeIf((ctx, key) -> !usable(fresh, ctx));
        values(unconfirmed.removeIf((ctx, u) -> !usable(fresh, ctx))).forEach(this::settleAsWasted);
    }

    private static boolean usable(Map<String, KeyRecord> keys, KdfContext ctx) {
        KeyRecord k = keys.get(ctx.keyId());
        return k != null && k.status().usable();
    }

    @Override
    public String primaryKeyId(String keyset) throws UnknownKeyException {
        return currentKeys().values().stream()
                .filter(k -> k.keyset().equals(keyset) && k.status() == KeyStatus.PRIMARY)
                .map(KeyRecord::keyId)
                .findFirst()
                .orElseThrow(() -> new UnknownKeyException("keyset " + keyset + " has no primary key"));
    }

    @Override
    public List<KeyInfo> keys() {
        List<KeyInfo> list = new ArrayList<>();
        for (KeyRecord k : currentKeys().values()) {
            list.add(k.info());
        }
        list.sort(Comparator.comparing(KeyInfo::keyset).thenComparing(KeyInfo::created).thenComparing(KeyInfo::keyId));
        return list;
    }

    @Override
    public Optional<KeyInfo> key(String keyId) {
        KeyRecord k = currentKeys().get(keyId);
        return k == null ? Optional.empty() : Optional.of(k.info());
    }

    @Override
    public VaultHealth health() {
        VaultHealth b = backend.health();
        return new VaultHealth(b.healthy(), b.detail() + "; " + currentKeys().size() + " keys in " + keysetFile.path());
    }

    @Override
    public KeyInfo importKey(String keyId, String keyset, byte[] primary, KeyStatus status) {
        return importKey(keyId, keyset, primary, status, null);
    }

    @Override
    public KeyInfo replacePrimary(String keyId, String keyset, byte[] primary, Optional<String> expectedPrimary) {
        return importKey(keyId, keyset, primary, KeyStatus.PRIMARY, Objects.requireNonNull(expectedPrimary, "expectedPrimary"));
    }

    /** @param expectedPrimary when not null, the keyset's primary must still be this (empty: none) on disk, or nothing is stored */
    private KeyInfo importKey(String keyId, String keyset, byte[] primary, KeyStatus status, Optional<String> expectedPrimary) {
        Objects.requireNonNull(primary, "primary");
        // the protocol asks for at least 16 bytes (32 recommended, and what 'keys generate' makes); 64 is the
        // HMAC-SHA256 block size, beyond which HMAC would only hash the key down again
        if (primary.length < 16 || primary.length > 64) {
            throw new IllegalArgumentException("a primary is 16..64 bytes (32 recommended), got " + primary.length + " bytes");
        }
        // validate names before anything is locked or stored
        new KeyRecord(keyId, keyset, status, Instant.EPOCH, backend.name(), "-");
        synchronized (keysetLock) {
            // the file as it is now, under the lock every writer in every process takes: never a copy read earlier
            try (OwnerOnlyFiles.Lock locked = keysetFile.lock()) {
                Map<String, KeyRecord> fresh = new LinkedHashMap<>(keysetFile.read());
                if (fresh.containsKey(keyId)) {
                    throw new IllegalArgumentException("key id " + keyId + " already exists (key ids are unique across keysets)");
                }
                if (expectedPrimary != null) {
                    Optional<String> current = fresh.values().stream()
                            .filter(k -> k.keyset().equals(keyset) && k.status() == KeyStatus.PRIMARY).map(KeyRecord::keyId).findFirst();
                    if (!current.equals(expectedPrimary)) {
                        throw new ConcurrentKeysetChangeException(keyset, expectedPrimary, current);
                    }
                }
                String reference;
                try {
                    reference = backend.store(keyId, primary);
                } catch (KeyUnavailableException e) {
                    throw new IllegalStateException("cannot store the key: " + e.getMessage(), e);
                }
                KeyRecord record = new KeyRecord(keyId, keyset, status, clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
                        backend.name(), reference);
                if (status == KeyStatus.PRIMARY) {
                    demotePrimary(fresh, keyset);
                }
                fresh.put(keyId, record);
                save(fresh);
                return record.info();
            } catch (java.io.IOException e) {
                throw new VaultConfigException("vault.keysetFile", "cannot unlock " + keysetFile.path() + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public KeyInfo setStatus(String keyId, KeyStatus status) throws UnknownKeyException {
        synchronized (keysetLock) {
            try (OwnerOnlyFiles.Lock locked = keysetFile.lock()) {
                Map<String, KeyRecord> fresh = new LinkedHashMap<>(keysetFile.read());
                KeyRecord key = fresh.get(keyId);
                if (key == null) {
                    throw new UnknownKeyException("unknown key id: " + keyId);
                }
                if (key.status() == KeyStatus.PRIMARY && status != KeyStatus.PRIMARY) {
                    throw new IllegalStateException("key " + keyId + " is the primary of keyset " + key.keyset()
                            + ": promote another key first, then retire this one");
                }
                if (status == KeyStatus.PRIMARY) {
                    demotePrimary(fresh, key.keyset());
                }
                KeyRecord updated = key.withStatus(status);
                fresh.put(keyId, updated);
                save(fresh);
                return updated.info();
            } catch (java.io.IOException e) {
                throw new VaultConfigException("vault.keysetFile", "cannot unlock " + keysetFile.path() + ": " + e.getMessage(), e);
            }
        }
    }

    private static void demotePrimary(Map<String, KeyRecord> keys, String keyset) {
        keys.replaceAll((id, k) -> k.keyset().equals(keyset) && k.status() == KeyStatus.PRIMARY ? k.withStatus(KeyStatus.ACTIVE) : k);
    }

    private void save(Map<String, KeyRecord> fresh) {
        keysetFile.write(fresh);
        keysetModified = keysetFile.lastModified();
        applyKeys(fresh);
        // what was read under the lock may hold other processes' keys too: the backend must not serve a stale copy
        backend.keysetChanged();
    }

    /** How many derivations reached the backend (each is one TPM2_HMAC for the TPM backend). */
    public long derivationCount() {
        return derivations.get();
    }

    /**
     * How many derivations made for a verifier verified no MAC: the first MAC checked under the key failed, or the
     * key left memory without a check. Work that forged headers (or verifications that stopped before the MAC)
     * cost; a derivation for a context that a genuine mail verifies under later stays counted.
     */
    public long wastedDerivationCount() {
        return wastedDerivations.get();
    }

    /** How many operations reached the key store, derivations plus loads and connection set-up. */
    public long backendOperationCount() {
        return backend.operationCount();
    }

    /** How many trusted period keys are cached now (signing contexts, and contexts a MAC verified under). */
    public int cachedKeyCount() {
        return cache.size();
    }

    /** How many keys derived for a verifier wait for a verified MAC now (never more than cache.maxEntries). */
    public int unconfirmedKeyCount() {
        return unconfirmed.size();
    }

    @Override
    public void close() {
        if (prefetcher != null) {
            prefetcher.shutdownNow();
        }
        cache.clear();
        unconfirmed.clear();
        recentStreams.clear();
        backend.close();
    }
}
