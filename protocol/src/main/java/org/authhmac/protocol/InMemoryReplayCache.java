package org.authhmac.protocol;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * A bounded replay cache in one JVM's memory. Entries are dropped only after they expire (plus a retention
 * margin for mail that waits in a queue between acceptance and verification). When it is full of unexpired
 * entries it refuses new ones with an exception, so the verifier fails closed instead of forgetting.
 */
public final class InMemoryReplayCache implements ReplayCache {
    public static final Duration DEFAULT_RETENTION = Duration.ofHours(1);

    private record Timed(Entry entry, Instant dropAfter) {
    }

    private final int capacity;
    private final Duration retention;
    private final Clock clock;
    private final Map<Entry, Instant> entries = new HashMap<>();
    private final PriorityQueue<Timed> byExpiry = new PriorityQueue<>((a, b) -> a.dropAfter.compareTo(b.dropAfter));

    /**
     * @param capacity  the most entries held at once (each is about 200 bytes)
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
        this.retention = retention;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public InMemoryReplayCache(int capacity, Clock clock) {
        this(capacity, DEFAULT_RETENTION, clock);
    }

    @Override
    public synchronized boolean recordIfAbsent(Entry entry, Instant expiresAt) throws ReplayCacheException {
        Objects.requireNonNull(entry, "entry");
        Instant now = clock.instant();
        purge(now);
        if (entries.containsKey(entry)) {
            return false;
        }
        if (entries.size() >= capacity) {
            throw new ReplayCacheException("replay cache full: " + capacity + " unexpired entries");
        }
        Instant dropAfter = expiresAt.plus(retention);
        entries.put(entry, dropAfter);
        byExpiry.add(new Timed(entry, dropAfter));
        return true;
    }

    /** Unexpired entries held now. */
    public synchronized int size() {
        purge(clock.instant());
        return entries.size();
    }

    private void purge(Instant now) {
        while (!byExpiry.isEmpty() && byExpiry.peek().dropAfter.isBefore(now)) {
            Timed t = byExpiry.poll();
            entries.remove(t.entry, t.dropAfter);
        }
    }
}
