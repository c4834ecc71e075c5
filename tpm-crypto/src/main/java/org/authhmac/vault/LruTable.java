package org.authhmac.vault;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;

/**
 * A map of at most {@code maxEntries} entries that makes room by dropping the least recently used one: a flood
 * of new keys displaces old ones instead of being refused, and memory stays bounded. Thread-safe (one lock per
 * table, held only for the map operation). Methods that remove entries return them, so that the caller can act
 * on them outside the lock.
 */
final class LruTable<K, V> {
    private final int maxEntries;
    private final LinkedHashMap<K, V> map;

    LruTable(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        }
        this.maxEntries = maxEntries;
        this.map = new LinkedHashMap<>(16, 0.75f, true);
    }

    /** The value, now the most recently used; null when absent. */
    synchronized V get(K key) {
        return map.get(key);
    }

    synchronized boolean containsKey(K key) {
        return map.containsKey(key);
    }

    /** Puts the entry as the most recently used and returns the entries dropped to make room (or replaced). */
    synchronized List<Map.Entry<K, V>> put(K key, V value) {
        V old = map.put(key, value);
        List<Map.Entry<K, V>> dropped = new ArrayList<>(1);
        if (old != null && old != value) {
            dropped.add(Map.entry(key, old));
        }
        trim(dropped);
        return dropped;
    }

    /** Map.merge, the entry becoming the most recently used; returns the entries dropped to make room. */
    synchronized List<Map.Entry<K, V>> merge(K key, V value, BiFunction<? super V, ? super V, ? extends V> remapping) {
        map.merge(key, value, remapping);
        List<Map.Entry<K, V>> dropped = new ArrayList<>(0);
        trim(dropped);
        return dropped;
    }

    private void trim(List<Map.Entry<K, V>> dropped) {
        Iterator<Map.Entry<K, V>> eldest = map.entrySet().iterator();
        while (map.size() > maxEntries) {
            Map.Entry<K, V> e = eldest.next();
            dropped.add(Map.entry(e.getKey(), e.getValue()));
            eldest.remove();
        }
    }

    /** Removes the entry only while it maps to {@code expected} (Map.remove(key, value)). */
    synchronized boolean remove(K key, V expected) {
        return map.remove(key, expected);
    }

    /** Removes every entry the predicate holds for and returns them. */
    synchronized List<Map.Entry<K, V>> removeIf(BiPredicate<? super K, ? super V> predicate) {
        List<Map.Entry<K, V>> removed = new ArrayList<>(0);
        Iterator<Map.Entry<K, V>> it = map.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<K, V> e = it.next();
            if (predicate.test(e.getKey(), e.getValue())) {
                removed.add(Map.entry(e.getKey(), e.getValue()));
                it.remove();
            }
        }
        return removed;
    }

    /** A copy of the entries, least recently used first; does not change the order. */
    synchronized List<Map.Entry<K, V>> snapshot() {
        List<Map.Entry<K, V>> copy = new ArrayList<>(map.size());
        for (Map.Entry<K, V> e : map.entrySet()) {
            copy.add(Map.entry(e.getKey(), e.getValue()));
        }
        return copy;
    }

    synchronized int size() {
        return map.size();
    }

    synchronized void clear() {
        map.clear();
    }
}
