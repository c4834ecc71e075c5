package org.authhmac.vault;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One keyset, immutable: its keys (never their bytes) and a pointer to the primary that new signatures use, as
 * Tink's {@code KeysetHandle}. It is validated once, when built; {@link #withPrimary} is the one place that keeps the
 * rule of one primary per keyset. The vault hands a keyset out by name ({@link KeyVault#keyset}).
 */
public final class Keyset {
    private static final Comparator<KeyRecord> ORDER = Comparator.comparing(KeyRecord::created).thenComparing(KeyRecord::keyId);

    private final String name;
    private final String primaryId;
    private final Map<String, KeyRecord> keys;

    private Keyset(String name, String primaryId, Map<String, KeyRecord> keys) {
        this.name = name;
        this.primaryId = primaryId;
        this.keys = Map.copyOf(keys);
    }

    /**
     * The keyset as its records say (the primary's record has status PRIMARY).
     *
     * @throws IllegalArgumentException a record of another keyset, a key id twice, or two PRIMARY keys
     */
    static Keyset of(String name, Collection<KeyRecord> records) {
        Objects.requireNonNull(name, "name");
        String primary = null;
        Map<String, KeyRecord> keys = new LinkedHashMap<>();
        for (KeyRecord k : records) {
            if (!k.keyset().equals(name)) {
                throw new IllegalArgumentException("key " + k.keyId() + " belongs to keyset " + k.keyset() + ", not " + name);
            }
            if (keys.putIfAbsent(k.keyId(), k) != null) {
                throw new IllegalArgumentException("key id " + k.keyId() + " appears twice in keyset " + name);
            }
            if (k.status() == KeyStatus.PRIMARY) {
                if (primary != null) {
                    throw new TwoPrimariesException(name, primary, k.keyId());
                }
                primary = k.keyId();
            }
        }
        return new Keyset(name, primary, keys);
    }

    /** The keyset as a list of every key of a vault shows it; empty when none of them is in it. */
    static Optional<Keyset> listed(String name, List<KeyInfo> all) {
        List<KeyRecord> records = all.stream().filter(k -> k.keyset().equals(name))
                .map(k -> new KeyRecord(k.keyId(), k.keyset(), k.status(), k.created(), k.backend(), "-")).toList();
        return records.isEmpty() ? Optional.empty() : Optional.of(of(name, records));
    }

    public String name() {
        return name;
    }

    /** The key new signatures use; empty while the keyset has no primary. */
    public Optional<String> primaryId() {
        return Optional.ofNullable(primaryId);
    }

    /** The keys, retired ones included, oldest first. */
    public List<KeyInfo> keys() {
        return records().stream().map(KeyRecord::info).toList();
    }

    public Optional<KeyInfo> key(String keyId) {
        return Optional.ofNullable(keys.get(keyId)).map(KeyRecord::info);
    }

    /** Whether this keyset holds the key and verification may use it (PRIMARY or ACTIVE). */
    public boolean verifiesWith(String keyId) {
        KeyRecord k = keys.get(keyId);
        return k != null && k.status().usable();
    }

    KeyRecord record(String keyId) {
        return keys.get(keyId);
    }

    /** The records, oldest first. */
    List<KeyRecord> records() {
        List<KeyRecord> sorted = new ArrayList<>(keys.values());
        sorted.sort(ORDER);
        return sorted;
    }

    /** This keyset with a new key; a PRIMARY one becomes the primary through {@link #withPrimary}. */
    Keyset with(KeyRecord added) {
        Map<String, KeyRecord> next = new LinkedHashMap<>(keys);
        next.put(added.keyId(), added.status() == KeyStatus.PRIMARY ? added.withStatus(KeyStatus.ACTIVE) : added);
        Keyset withKey = Keyset.of(name, next.values());
        return added.status() == KeyStatus.PRIMARY ? withKey.withPrimary(added.keyId()) : withKey;
    }

    /**
     * This keyset with a key's status changed. PRIMARY goes through {@link #withPrimary}; the primary itself only
     * leaves that status when another key is promoted.
     *
     * @throws IllegalStateException the key is the primary and {@code status} is not PRIMARY
     */
    Keyset withStatus(String keyId, KeyStatus status) {
        KeyRecord key = Objects.requireNonNull(keys.get(keyId), keyId);
        if (status == KeyStatus.PRIMARY) {
            return withPrimary(keyId);
        }
        if (keyId.equals(primaryId)) {
            throw new IllegalStateException("key " + keyId + " is the primary of keyset " + name
                    + ": promote another key first, then retire this one");
        }
        Map<String, KeyRecord> next = new LinkedHashMap<>(keys);
        next.put(keyId, key.withStatus(status));
        return new Keyset(name, primaryId, next);
    }

    /**
     * The keyset with {@code keyId} as its primary, as Tink's {@code KeysetManager.setPrimary}: the key must be in the
     * keyset; the previous primary becomes ACTIVE, so that mail signed under it still verifies.
     */
    Keyset withPrimary(String keyId) {
        KeyRecord key = keys.get(keyId);
        if (key == null) {
            throw new IllegalArgumentException("key " + keyId + " is not in keyset " + name);
        }
        Map<String, KeyRecord> next = new LinkedHashMap<>(keys);
        if (primaryId != null) {
            next.put(primaryId, keys.get(primaryId).withStatus(KeyStatus.ACTIVE));
        }
        next.put(keyId, key.withStatus(KeyStatus.PRIMARY));
        return new Keyset(name, keyId, next);
    }

    /** A keyset that names two primaries: {@link #keyId()} is the second one met. */
    static final class TwoPrimariesException extends IllegalArgumentException {
        private final String keyId;

        TwoPrimariesException(String keyset, String first, String second) {
            super("keyset " + keyset + " has two PRIMARY keys (" + first + ", " + second + ")");
            this.keyId = second;
        }

        String keyId() {
            return keyId;
        }
    }

    @Override
    public String toString() {
        return "Keyset[" + name + ", primary " + primaryId + ", " + keys.size() + " keys]";
    }
}
