package org.authhmac.protocol;

import java.time.Instant;
import java.util.Objects;

/**
 * Remembers signatures that already passed, and for which recipients, so that the same signature delivered again
 * inside its validity window fails as a replay (docs/PROTOCOL.md, "Replay cache"). A small interface so that a
 * store shared between servers can replace {@link InMemoryReplayCache}. Implementations must be thread-safe, and
 * {@link #record} must be one atomic step per signature.
 *
 * <p>A shared store can implement it in one round trip: for example, in Redis, one small Lua script over a set
 * per signature (the key names d, s and n; {@code SISMEMBER} gives {@link Outcome#REPLAY}, {@code SCARD >=
 * maxRecipients} {@link Outcome#RECIPIENT_LIMIT}, else {@code SADD} and {@code PEXPIREAT} the later expiry);
 * or without a script, {@code SET <signature>:<replayId> 1 NX PXAT <expiry>} per replay id (nil: a replay)
 * followed by {@code INCR} of a per-signature counter with the same expiry, undoing both when the counter
 * passes {@code maxRecipients}.
 */
public interface ReplayCache {

    /** What identifies one signature: signing domain {@code d}, key id {@code s}, nonce {@code n}. */
    record SignatureId(String domain, String keyId, String nonce) {
        public SignatureId {
            Objects.requireNonNull(domain, "domain");
            Objects.requireNonNull(keyId, "keyId");
            Objects.requireNonNull(nonce, "nonce");
        }
    }

    /** What {@link #record} decided. */
    enum Outcome {
        /** The replay id was new for the signature and is now recorded: the verdict may be pass. */
        FRESH,
        /** The replay id was already recorded for the signature: a replay. */
        REPLAY,
        /** The signature already passed for {@code maxRecipients} other replay ids: a replay to another mailbox. */
        RECIPIENT_LIMIT
    }

    /**
     * Records that {@code signature} passed for {@code replayId}, unless that is a replay. One atomic step:
     * <ol>
     *   <li>if {@code replayId} is already recorded for the signature: {@link Outcome#REPLAY};</li>
     *   <li>else if {@code maxRecipients} distinct replay ids are already recorded for it:
     *       {@link Outcome#RECIPIENT_LIMIT};</li>
     *   <li>else if there is no room (the store is full, or the signature's domain holds its whole share of it):
     *       {@link ReplayCacheException}, never forgetting an unexpired entry to make room;</li>
     *   <li>else it records the replay id and answers {@link Outcome#FRESH}.</li>
     * </ol>
     * The verifier's replay scope {@code recipient} passes the recipient's replay id and the signature's
     * {@code rc=}; scope {@code signature} passes {@code ""} and 1.
     *
     * @param replayId      the recipient's replay id (docs/PROTOCOL.md 11), or "" when the whole signature is one use
     * @param maxRecipients how many distinct replay ids the signature may pass for, at least 1
     * @param expiresAt     the last acceptance time at which the signature could still pass; the cache must keep
     *                      what it recorded for the signature at least until then
     * @throws ReplayCacheException the cache cannot answer (store down, or no room for unexpired entries); the
     *                              verifier then says temperror, never pass
     */
    Outcome record(SignatureId signature, String replayId, int maxRecipients, Instant expiresAt) throws ReplayCacheException;
}
