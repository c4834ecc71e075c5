package org.authhmac.vault;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyFingerprint;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;

/**
 * The vault: the keysets ({@link KeysetStore}), the backend that holds the primaries, and the period keys derived
 * from them ({@link PeriodKeyCache}, {@link PeriodKeyPrefetcher}).
 *
 * <p>Received headers choose the context a verifier asks for, so the vault trusts only two kinds of context: those
 * it derives through {@link #periodKey} (signing: our own key ids, domains and period length) and those a real MAC
 * verified under. Keys derived through {@link #forVerification} wait apart until the verifier reports a verified MAC
 * ({@link PeriodKeys#macChecked}); only then are they cached and their stream prefetched.
 */
public final class DefaultKeyVault implements ManagedKeyVault {
    private final KeyBackend backend;
    private final KeysetStore keysets;
    private final PeriodKeyCache cache;
    private final PeriodKeyPrefetcher prefetcher;
    private final Clock clock;

    /**
     * @param startPrefetcher whether a daemon thread derives next-period keys ahead of the boundary
     *                        (tests call {@link #refreshAhead()} themselves instead)
     */
    public DefaultKeyVault(KeyBackend backend, Path keysetFile, CacheSettings cacheSettings, Clock clock, boolean startPrefetcher) {
        this.backend = Objects.requireNonNull(backend);
        this.clock = Objects.requireNonNull(clock);
        this.cache = new PeriodKeyCache(backend, Objects.requireNonNull(cacheSettings), clock);
        this.keysets = new KeysetStore(keysetFile, clock, fresh -> {
            cache.retain(keyId -> usable(fresh.record(keyId)));
            backend.keysetChanged();
        });
        for (KeyRecord k : keysets.current().records()) {
            if (!k.backend().equals(backend.name())) {
                throw new VaultConfigException("vault.backend", "is " + backend.name() + " but key " + k.keyId()
                        + " in " + keysetFile + " lives in backend " + k.backend());
            }
        }
        this.prefetcher = new PeriodKeyPrefetcher(cache, this::usableKey, cacheSettings, clock, startPrefetcher);
    }

    /**
     * The key for one of our own contexts (signing, the CLI's checks): trusted, so it is cached at once and its
     * stream is prefetched. A verifier asks {@link #forVerification} instead.
     */
    @Override
    public PeriodKey periodKey(KdfContext ctx) throws UnknownKeyException, KeyUnavailableException {
        KeyRecord key = usableKey(ctx.keyId());
        requireDerivableDomain(ctx);
        prefetcher.note(ctx);
        return cache.trusted(key, ctx);
    }

    /** A verified MAC under a key this vault handed out: the context is genuine from now on. */
    @Override
    public void macChecked(PeriodKey key, boolean verified) {
        if (key != null && cache.macChecked(key, verified)) {
            prefetcher.note(key.context());
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
            return cache.forVerifier(key, ctx, onWasted);
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

    /**
     * Derives the next period's key for every recently used trusted (key, domain, period length) whose boundary is
     * less than prefetchSeconds away, and drops keys that left the window. The prefetch thread calls this every second.
     */
    public void refreshAhead() {
        prefetcher.refreshAhead();
    }

    private KeyRecord usableKey(String keyId) throws UnknownKeyException {
        KeyRecord key = keysets.current().record(keyId);
        if (key == null) {
            throw new UnknownKeyException("unknown key id: " + keyId);
        }
        if (!key.status().usable()) {
            throw new UnknownKeyException("key " + keyId + " is retired");
        }
        return key;
    }

    private static boolean usable(KeyRecord key) {
        return key != null && key.status().usable();
    }

    @Override
    public String primaryKeyId(String keyset) throws UnknownKeyException {
        return keyset(keyset).flatMap(Keyset::primaryId)
                .orElseThrow(() -> new UnknownKeyException("keyset " + keyset + " has no primary key"));
    }

    @Override
    public Optional<Keyset> keyset(String name) {
        return keysets.current().keyset(name);
    }

    @Override
    public List<KeyInfo> keys() {
        return keysets.current().records().stream().map(KeyRecord::info).toList();
    }

    @Override
    public Optional<KeyInfo> key(String keyId) {
        return Optional.ofNullable(keysets.current().record(keyId)).map(KeyRecord::info);
    }

    @Override
    public KeyFingerprint fingerprint(String keyId) throws UnknownKeyException, KeyUnavailableException {
        KeyRecord key = keysets.current().record(keyId);
        if (key == null) {
            throw new UnknownKeyException("unknown key id: " + keyId);
        }
        return cache.fingerprint(key);
    }

    @Override
    public VaultHealth health() {
        VaultHealth b = backend.health();
        return new VaultHealth(b.healthy(), b.detail() + "; " + keysets.current().size() + " keys in " + keysets.path());
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
        Keysets written = keysets.update(fresh -> {
            if (fresh.record(keyId) != null) {
                throw new IllegalArgumentException("key id " + keyId + " already exists (key ids are unique across keysets)");
            }
            Keyset current = fresh.keyset(keyset).orElseGet(() -> Keyset.of(keyset, List.of()));
            if (expectedPrimary != null && !current.primaryId().equals(expectedPrimary)) {
                throw new ConcurrentKeysetChangeException(keyset, expectedPrimary, current.primaryId());
            }
            String reference;
            try {
                reference = backend.store(keyId, primary);
            } catch (KeyUnavailableException e) {
                throw new IllegalStateException("cannot store the key: " + e.getMessage(), e);
            }
            Instant created = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            return fresh.with(current.with(new KeyRecord(keyId, keyset, status, created, backend.name(), reference)));
        });
        return written.record(keyId).info();
    }

    @Override
    public KeyInfo setStatus(String keyId, KeyStatus status) throws UnknownKeyException {
        Keysets written = keysets.update(fresh -> {
            KeyRecord key = fresh.record(keyId);
            if (key == null) {
                throw new UnknownKeyException("unknown key id: " + keyId);
            }
            return fresh.with(fresh.keyset(key.keyset()).orElseThrow().withStatus(keyId, status));
        });
        return written.record(keyId).info();
    }

    /** Times every derivation that reaches the backend from now on, for a metric (the last one set wins). */
    public void timeDerivations(DerivationTiming timing) {
        cache.timeDerivations(timing);
    }

    /** How many derivations reached the backend (each is one TPM2_HMAC for the TPM backend). */
    public long derivationCount() {
        return cache.derivationCount();
    }

    /**
     * How many derivations made for a verifier verified no MAC: the first MAC checked under the key failed, or the
     * key left memory without a check. Work that forged headers (or verifications that stopped before the MAC)
     * cost; a derivation for a context that a genuine mail verifies under later stays counted.
     */
    public long wastedDerivationCount() {
        return cache.wastedDerivationCount();
    }

    /** How many operations reached the key store, derivations plus loads and connection set-up. */
    public long backendOperationCount() {
        return backend.operationCount();
    }

    /** How many trusted period keys are cached now (signing contexts, and contexts a MAC verified under). */
    public int cachedKeyCount() {
        return cache.cachedKeyCount();
    }

    /** How many keys derived for a verifier wait for a verified MAC now (never more than cache.maxEntries). */
    public int unconfirmedKeyCount() {
        return cache.unconfirmedKeyCount();
    }

    @Override
    public void close() {
        prefetcher.close();
        cache.clear();
        backend.close();
    }
}
