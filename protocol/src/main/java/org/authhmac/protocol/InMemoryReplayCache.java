package org.authhmac.protocol;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A bounded replay cache in one JVM's memory. Entries are dropped only after they expire (plus a retention
 * margin for mail that waits in a queue between acceptance and verification). When it is full of unexpired
 * entries it refuses new ones with an exception, so the verifier fails closed instead of forgetting.
 */
public final class InMemoryReplayCache implements ReplayCache {
    public static final Duration DEFAULT_RETENTION = Duration.ofHours(1);

    private final int capacity;
    private final long retentionSeconds;
    private final Clock clock;
    /** Each entry with the epoch second after which it may be dropped. */
    private final Map<Entry, Long> entries = new HashMap<>();
    /**
     * The same entries grouped by that second. Signatures arrive in roughly increasing t, so new entries land in the
     * last buckets and purging takes whole buckets from the front: cheaper than a priority queue of one timed
     * record and two Instants per entry (bench/, docs/PERFORMANCE.md).
     */
    private final TreeMap<Long, List<Entry>> byDropSecond = new TreeMap<>();

    /**
     * @param capacity  the most entries held at once (350-410 bytes of heap each, measured in the soak test; docs/RELIABILITY.md)
     * @param retention how long after {@code expiresAt} an entry is still kept: the longest expected delay
     *                  between accepting a message and verifying it
     */
    public InMemoryReplayCache(int capacity, Duration retention, Clock clock) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        if (retention.isNegative()) {
            throw new IllegalArgumentException("retention must not be negative: " + retention);
        }
        this.capacity = capacity;
        // Whole seconds, rounded up: an entry may be kept up to two seconds longer than asked, never less.
        this.retentionSeconds = retention.getSeconds() + (retention.getNano() > 0 ? 1 : 0);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public InMemoryReplayCache(int capacity, Clock clock) {
        this(capacity, DEFAULT_RETENTION, clock);
    }

    @Override
    public synchronized boolean recordIfAbsent(Entry entry, Instant expiresAt) throws ReplayCacheException {
        Objects.requireNonNull(entry, "entry");
        Objects.requireNonNull(expiresAt, "expiresAt");
        purge(nowSecond());
        if (entries.containsKey(entry)) {
            return false;
        }
        if (entries.size() >= capacity) {
            throw new ReplayCacheException("replay cache full: " + capacity + " unexpired entries");
        }
        long expires = expiresAt.getEpochSecond() + (expiresAt.getNano() > 0 ? 1 : 0);
        long dropAfter = expires > Long.MAX_VALUE - retentionSeconds ? Long.MAX_VALUE : expires + retentionSeconds;
        entries.put(entry, dropAfter);
        byDropSecond.computeIfAbsent(dropAfter, k -> new ArrayList<>(4)).add(entry);
        return true;
    }

    /** Unexpired entries held now. */
    public synchronized int size() {
        purge(nowSecond());
        return entries.size();
    }

    private long nowSecond() {
        return Math.floorDiv(clock.millis(), 1000L);
    }

    /** Drops the entries whose second is before {@code now}: with the rounding above, never before they expire. */
    private void purge(long now) {
        while (!byDropSecond.isEmpty() && byDropSecond.firstKey() < now) {
            Map.Entry<Long, List<Entry>> bucket = byDropSecond.pollFirstEntry();
            for (Entry e : bucket.getValue()) {
                entries.remove(e, bucket.getKey());
            }
        }
    }
}
