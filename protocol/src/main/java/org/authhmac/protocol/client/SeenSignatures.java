package org.authhmac.protocol.client;

import java.time.Instant;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.ReplayCacheException;

/**
 * The replay memory of a client scanning its own mailbox. Unlike a server's cache it keeps entries regardless of
 * their window, because a client verifies old mail long after the window closed and a copy of an old message is
 * still a copy. Bounded; full means temperror, never forgetting.
 */
public final class SeenSignatures implements ReplayCache {
    private final int capacity;
    private final Set<Entry> seen = new HashSet<>();

    public SeenSignatures(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
    }

    @Override
    public synchronized boolean recordIfAbsent(Entry entry, Instant expiresAt) throws ReplayCacheException {
        Objects.requireNonNull(entry, "entry");
        if (seen.contains(entry)) {
            return false;
        }
        if (seen.size() >= capacity) {
            throw new ReplayCacheException("replay memory full: " + capacity + " signatures");
        }
        seen.add(entry);
        return true;
    }

    public synchronized int size() {
        return seen.size();
    }
}
