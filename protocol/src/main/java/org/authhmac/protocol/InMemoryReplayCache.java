package org.authhmac.protocol;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A bounded replay cache in one JVM's memory. It holds at most {@code capacity} entries (one per replay id a
 * signature passed for), and the signatures of one signing domain at most {@code domainCapacity} of them, so that
 * one partner's flood cannot take the room the others need. Entries are dropped only after they expire (plus a
 * retention margin for mail that waits in a queue between acceptance and verification). When there is no room
 * for unexpired entries it refuses new ones with an exception, so the verifier fails closed instead of forgetting.
 */
public final class InMemoryReplayCache implements ReplayCache {
    public static final Duration DEFAULT_RETENTION = Duration.ofHours(1);

    private final int capacity;
    private final int domainCapacity;
    private final long retentionSeconds;
    private final Clock clock;
    /** What each signature passed for, and when it may be dropped. */
    private final Map<SignatureId, Seen> seen = new HashMap<>();
    /** Entries held per signing domain (absent: none). */
    private final Map<String, Integer> perDomain = new HashMap<>();
    private int size;
    /**
     * The signatures grouped by the epoch second after which they may be dropped. Signatures arrive in roughly
     * increasing t, so new ones land in the last buckets and purging takes whole buckets from the front: cheaper
     * than a priority queue of one timed record and two Instants per entry (bench/, docs/PERFORMANCE.md). A
     * signature whose drop second moved later is listed again in the later bucket; the earlier listing is stale
     * and skipped.
     */
    private final TreeMap<Long, List<SignatureId>> byDropSecond = new TreeMap<>();

    /** The replay ids one signature passed for: the first inline, a set only from the second on (rare). */
    private static final class Seen {
        long dropAfter;
        final String first;
        Set<String> more;

        Seen(String first, long dropAfter) {
            this.first = first;
            this.dropAfter = dropAfter;
        }

        boolean contains(String replayId) {
            return first.equals(replayId) || (more != null && more.contains(replayId));
        }

        int count() {
            return more == null ? 1 : 1 + more.size();
        }

        void add(String replayId) {
            if (more == null) {
                more = new HashSet<>(4);
            }
            more.add(replayId);
        }
    }

    /**
     * @param capacity       the most entries held at once (350-410 bytes of heap each, measured in the soak test;
     *                       docs/RELIABILITY.md)
     * @param domainCapacity the most entries the signatures of one signing domain hold at once, 1..capacity
     *                       ({@code capacity}: no share)
     * @param retention      how long after {@code expiresAt} an entry is still kept: the longest expected delay
     *                       between accepting a message and verifying it
     */
    public InMemoryReplayCache(int capacity, int domainCapacity, Duration retention, Clock clock) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        if (domainCapacity < 1 || domainCapacity > capacity) {
            throw new IllegalArgumentException("domainCapacity must be 1.." + capacity + ": " + domainCapacity);
        }
        if (retention.isNegative()) {
            throw new IllegalArgumentException("retention must not be negative: " + retention);
        }
        this.capacity = capacity;
        this.domainCapacity = domainCapacity;
        // Whole seconds, rounded up: an entry may be kept up to two seconds longer than asked, never less.
        this.retentionSeconds = retention.getSeconds() + (retention.getNano() > 0 ? 1 : 0);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A cache without per-domain share. */
    public InMemoryReplayCache(int capacity, Duration retention, Clock clock) {
        this(capacity, capacity, retention, clock);
    }

    /** A cache without per-domain share and with the default retention. */
    public InMemoryReplayCache(int capacity, Clock clock) {
        this(capacity, DEFAULT_RETENTION, clock);
    }

    @Override
    public synchronized Outcome record(SignatureId signature, String replayId, int maxRecipients, Instant expiresAt)
            throws ReplayCacheException {
        Objects.requireNonNull(signature, "signature");
        Objects.requireNonNull(replayId, "replayId");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (maxRecipients < 1) {
            throw new IllegalArgumentException("maxRecipients must be at least 1: " + maxRecipients);
        }
        purge(nowSecond());
        Seen s = seen.get(signature);
        if (s != null && s.contains(replayId)) {
            return Outcome.REPLAY;
        }
        if (s != null && s.count() >= maxRecipients) {
            return Outcome.RECIPIENT_LIMIT;
        }
        if (size >= capacity) {
            throw new ReplayCacheException("replay cache full: " + capacity + " unexpired entries");
        }
        int ofDomain = perDomain.getOrDefault(signature.domain(), 0);
        if (ofDomain >= domainCapacity) {
            throw new ReplayCacheException("replay cache share of d=" + signature.domain() + " full: "
                    + domainCapacity + " unexpired entries");
        }
        long expires = expiresAt.getEpochSecond() + (expiresAt.getNano() > 0 ? 1 : 0);
        long dropAfter = expires > Long.MAX_VALUE - retentionSeconds ? Long.MAX_VALUE : expires + retentionSeconds;
        if (s == null) {
            seen.put(signature, new Seen(replayId, dropAfter));
            listAt(dropAfter, signature);
        } else {
            s.add(replayId);
            if (dropAfter > s.dropAfter) {
                s.dropAfter = dropAfter;
                listAt(dropAfter, signature);
            }
        }
        size++;
        perDomain.put(signature.domain(), ofDomain + 1);
        return Outcome.FRESH;
    }

    /** Unexpired entries held now. */
    public synchronized int size() {
        purge(nowSecond());
        return size;
    }

    /** Unexpired entries held now for the signatures of one signing domain. */
    public synchronized int size(String domain) {
        purge(nowSecond());
        return perDomain.getOrDefault(domain, 0);
    }

    private void listAt(long dropAfter, SignatureId signature) {
        byDropSecond.computeIfAbsent(dropAfter, k -> new ArrayList<>(4)).add(signature);
    }

    private long nowSecond() {
        return Math.floorDiv(clock.millis(), 1000L);
    }

    /** Drops the signatures whose second is before {@code now}: with the rounding above, never before they expire. */
    private void purge(long now) {
        while (!byDropSecond.isEmpty() && byDropSecond.firstKey() < now) {
            Map.Entry<Long, List<SignatureId>> bucket = byDropSecond.pollFirstEntry();
            for (SignatureId id : bucket.getValue()) {
                Seen s = seen.get(id);
                if (s == null || s.dropAfter != bucket.getKey()) {
                    continue; // already dropped, or kept longer and listed again later
                }
                seen.remove(id);
                int n = s.count();
                size -= n;
                perDomain.computeIfPresent(id.domain(), (d, held) -> held == n ? null : held - n);
            }
        }
    }
}
