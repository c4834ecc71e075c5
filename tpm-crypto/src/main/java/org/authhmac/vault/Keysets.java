package org.authhmac.vault;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every keyset of a vault at one moment, immutable: what the keyset file holds. Key ids are unique across keysets,
 * so a key is found by its id alone, as verification needs.
 */
final class Keysets {
    static final Keysets EMPTY = new Keysets(Map.of());

    private final Map<String, Keyset> byName;
    private final Map<String, Keyset> byKeyId;

    private Keysets(Map<String, Keyset> byName) {
        this.byName = Map.copyOf(byName);
        Map<String, Keyset> index = new HashMap<>();
        for (Keyset ks : byName.values()) {
            for (KeyRecord k : ks.records()) {
                Keyset other = index.put(k.keyId(), ks);
                if (other != null) {
                    throw new IllegalArgumentException("key id " + k.keyId() + " is in keysets " + other.name() + " and " + ks.name());
                }
            }
        }
        this.byKeyId = Map.copyOf(index);
    }

    /**
     * The keysets the records make up.
     *
     * @throws IllegalArgumentException as {@link Keyset#of} says
     */
    static Keysets of(Collection<KeyRecord> records) {
        Map<String, List<KeyRecord>> grouped = new LinkedHashMap<>();
        for (KeyRecord k : records) {
            grouped.computeIfAbsent(k.keyset(), n -> new ArrayList<>()).add(k);
        }
        Map<String, Keyset> byName = new HashMap<>();
        grouped.forEach((name, keys) -> byName.put(name, Keyset.of(name, keys)));
        return new Keysets(byName);
    }

    Optional<Keyset> keyset(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The key with this id, in whichever keyset; null when there is none. */
    KeyRecord record(String keyId) {
        Keyset ks = byKeyId.get(keyId);
        return ks == null ? null : ks.record(keyId);
    }

    /** Every key, ordered by keyset, then creation, then key id. */
    List<KeyRecord> records() {
        List<KeyRecord> all = new ArrayList<>(byKeyId.size());
        byName.values().stream().sorted(Comparator.comparing(Keyset::name)).forEach(ks -> all.addAll(ks.records()));
        return all;
    }

    int size() {
        return byKeyId.size();
    }

    /** These keysets with {@code changed} in place of the keyset of its name. */
    Keysets with(Keyset changed) {
        Map<String, Keyset> next = new HashMap<>(byName);
        next.put(changed.name(), changed);
        return new Keysets(next);
    }
}
