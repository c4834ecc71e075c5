package org.authhmac.tpm;

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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.UnknownKeyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The vault: keyset file + backend + period-key cache. At most one backend operation per (key id, domain, period
 * length, period) while the key stays in the window; the next period's key is derived shortly before the boundary
 * so that no mail waits on the TPM then; keys that leave the window are dropped from memory.
 */
public final class DefaultKeyVault implements ManagedKeyVault {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultKeyVault.class);
    /** How often the keyset file's modification time is looked at, so that keys added by the CLI show up. */
    private static final long KEYSET_RECHECK_MILLIS = 1_000;

    /** What is signed or verified repeatedly: one key, one domain, one period length. */
    private record Stream(String keyId, String domain, int periodSeconds) {
    }

    private final KeyBackend backend;
    private final KeysetFile keysetFile;
    private final CacheSettings cacheSettings;
    private final Clock clock;
    private final Object keysetLock = new Object();
    private final Object deriveLock = new Object();
    private final ConcurrentHashMap<KdfContext, PeriodKey> cache = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Stream, Long> recentStreams = new ConcurrentHashMap<>();
    private final AtomicLong derivations = new AtomicLong();
    private final ScheduledExecutorService prefetcher;
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

    @Override
    public PeriodKey periodKey(KdfContext ctx) throws UnknownKeyException, KeyUnavailableException {
        KeyRecord key = usableKey(ctx.keyId());
        if (ctx.domain().isEmpty() || ctx.domain().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > Kdf.MAX_DOMAIN_BYTES) {
            throw new UnknownKeyException("no key can be derived for a domain of that length");
        }
        Stream stream = new Stream(ctx.keyId(), ctx.domain(), ctx.periodSeconds());
        // bounded: domains come from received headers, so a flood of made-up ones must not grow memory or prefetching
        if (recentStreams.size() < cacheSettings.maxEntries() || recentStreams.containsKey(stream)) {
            recentStreams.merge(stream, ctx.period(), Math::max);
        }
        PeriodKey cached = cache.get(ctx);
        if (cached != null) {
            return cached;
        }
        return derive(key, ctx);
    }

    private PeriodKey derive(KeyRecord key, KdfContext ctx) throws KeyUnavailableException {
        // One derivation at a time: concurrent requests for the same period wait here and then find it cached,
        // so the TPM sees one command per period, not one per waiting thread.
        synchronized (deriveLock) {
            PeriodKey cached = cache.get(ctx);
            if (cached != null) {
                return cached;
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
                PeriodKey periodKey = PeriodKey.of(ctx, bytes);
                evictOutsideWindow();
                if (inWindow(ctx) && cache.size() < cacheSettings.maxEntries()) {
                    cache.put(ctx, periodKey);
                }
                return periodKey;
            } finally {
                Arrays.fill(bytes, (byte) 0);
            }
        }
    }

    /**
     * Derives the next period's key for every recently used (key, domain, period length) whose boundary is
     * less than prefetchSeconds away, and drops keys that left the window. The prefetch thread calls this every second.
     */
    public void refreshAhead() {
        long now = clock.instant().getEpochSecond();
        evictOutsideWindow();
        for (Map.Entry<Stream, Long> e : recentStreams.entrySet()) {
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
                derive(usableKey(s.keyId()), next);
            } catch (UnknownKeyException retired) {
                recentStreams.remove(s);
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

    private boolean inWindow(KdfContext ctx) {
        long current = KdfContext.periodOf(clock.instant().getEpochSecond(), ctx.periodSeconds());
        return ctx.period() >= current - cacheSettings.previousPeriods() && ctx.period() <= current + 1;
    }

    private void evictOutsideWindow() {
        cache.keySet().removeIf(ctx -> !inWindow(ctx));
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
        cache.keySet().removeIf(ctx -> {
            KeyRecord k = fresh.get(ctx.keyId());
            return k == null || !k.status().usable();
        });
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

    /** How many operations reached the key store, derivations plus loads and connection set-up. */
    public long backendOperationCount() {
        return backend.operationCount();
    }

    /** How many period keys are held in memory now. */
    public int cachedKeyCount() {
        return cache.size();
    }

    @Override
    public void close() {
        if (prefetcher != null) {
            prefetcher.shutdownNow();
        }
        cache.clear();
        backend.close();
    }
}
