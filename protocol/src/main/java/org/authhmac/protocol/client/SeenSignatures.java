package org.authhmac.protocol.client;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.ReplayCacheException;

/**
 * The replay memory of a client scanning its own mailbox. Unlike a server's cache it keeps entries regardless of
 * their window, because a client verifies old mail long after the window closed and a copy of an old message is
 * still a copy. Bounded; full means temperror, never forgetting.
 */
public final class SeenSignatures implements ReplayCache {
    /** Longer than any mailbox lives: nothing is ever dropped. */
    private static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE);

    private final InMemoryReplayCache memory;

    public SeenSignatures(int capacity) {
        // One mailbox, one signing domain: no per-domain share. The clock never drops anything, so any clock does.
        this.memory = new InMemoryReplayCache(capacity, FOREVER, Clock.systemUTC());
    }

    @Override
    public Outcome record(SignatureId signature, String replayId, int maxRecipients, Instant expiresAt)
            throws ReplayCacheException {
        try {
            return memory.record(signature, replayId, maxRecipients, expiresAt);
        } catch (ReplayCacheException e) {
            throw new ReplayCacheException("replay memory full: " + memory.size() + " entries", e);
        }
    }

    public int size() {
        return memory.size();
    }
}
