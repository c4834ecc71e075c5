package org.authhmac.protocol;

import java.time.Instant;
import java.util.Objects;

/**
 * Remembers signatures that already passed, so that the same one delivered again inside its validity window
 * fails as a replay (docs/PROTOCOL.md, "Replay cache"). A small interface so that a store shared between
 * servers can replace {@link InMemoryReplayCache}. Implementations must be thread-safe and atomic per entry.
 */
public interface ReplayCache {

    /**
     * What identifies one use of a signature: signing domain, key id, nonce, and the envelope recipient it was
     * accepted for (empty when the verifier's replay scope is the whole signature).
     */
    record Entry(String domain, String keyId, String nonce, String recipient) {
        public Entry {
            Objects.requireNonNull(domain, "domain");
            Objects.requireNonNull(keyId, "keyId");
            Objects.requireNonNull(nonce, "nonce");
            Objects.requireNonNull(recipient, "recipient");
        }
    }

    /**
     * Records the entry unless it is already held and unexpired.
     *
     * @param expiresAt the last acceptance time at which the signature could still pass; the cache must keep the
     *                  entry at least until then
     * @return true if the entry was new and is now recorded; false if it was already there (a replay)
     * @throws ReplayCacheException the cache cannot answer (store down, or full of unexpired entries); the
     *                              verifier then says temperror, never pass
     */
    boolean recordIfAbsent(Entry entry, Instant expiresAt) throws ReplayCacheException;
}
