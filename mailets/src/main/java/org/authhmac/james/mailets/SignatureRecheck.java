package org.authhmac.james.mailets;

import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.PartnerKeys;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicy;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.ReleaseTokens;
import org.authhmac.james.SerializedMessage;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.vault.KeyVault;

/**
 * Before a recipient releases a mail held for a timing or rollout reason: does its signature hold apart from time?
 * The verifier decides {@code expired}, {@code future} and {@code unknown-key} before it derives a key, so that a
 * forged t= or key id costs nothing; a forger can therefore get any of them. The held mail is verified again as if
 * it had been accepted at its own signing time: MAC, body hash, recipient binding and From alignment count, the
 * window does not, and earlier releases of the same signature count against its {@code rc=} (replay scope).
 */
final class SignatureRecheck {
    /** Signatures released by reply that this node remembers: about 400 bytes each. */
    static final int RELEASED_CAPACITY = 10_000;
    /** How long: longer than any held mail's address works. */
    static final java.time.Duration RELEASED_RETENTION = ReleaseTokens.MAX_VALIDITY.plusDays(1);

    private final PartnerPolicies policies;
    private final PartnerKeys keys;
    private final InMemoryReplayCache released;
    private final Clock clock;

    SignatureRecheck(PartnerPolicies policies, KeyVault vault, Clock clock) {
        this.policies = policies;
        this.keys = new PartnerKeys(vault, policies.keysetByDomain());
        // Past its window a signature is no longer in the replay cache, so a copy replayed to other mailboxes is held
        // as expired like a late original. Each release is recorded here for the whole life of an address, under the
        // partner's replay scope: a signature made for rc=1 mailbox is released by reply for one mailbox at most.
        this.released = new InMemoryReplayCache(RELEASED_CAPACITY, java.time.Duration.ZERO, clock);
        this.clock = clock;
    }

    /**
     * The released signatures as the verifier of one held mail sees them: a use is the held mail and its envelope
     * recipient, so the mailboxes of one alias are one use (the partner signed one recipient), and the same
     * signature held again (another copy, sent to another recipient) is another use.
     */
    private ReplayCache releasedFor(String heldKey) {
        return (signature, replayId, maxRecipients, expiresAt) -> {
            ReplayCache.Outcome o = released.record(signature, replayId + "\u0000" + heldKey, maxRecipients,
                    clock.instant().plus(RELEASED_RETENTION));
            return o == ReplayCache.Outcome.REPLAY ? ReplayCache.Outcome.FRESH : o;
        };
    }

    /**
     * The verdict for {@code recipient} of the held mail at its own signing time, under the policy of the author
     * domain AuthHmacFailed read when it held the mail: a pass must be signed for that domain, as the matcher
     * requires. Fail (from-mismatch) when the matcher recorded no author domain, permerror malformed when the held
     * verdict names no signature.
     */
    Verdict recheck(Mail held, MailAddress recipient, RecordedVerdict recorded) {
        Optional<String> author = held.getAttribute(AuthHmacAttributes.AUTHOR_DOMAIN)
                .flatMap(a -> a.getValue().valueAs(String.class));
        if (author.isEmpty() || recorded.domain().isEmpty() || !author.get().equals(recorded.domain().get())) {
            return new Verdict.Fail(Reason.FROM_MISMATCH, Optional.empty(),
                    "the held mail's From domain is not one partner domain that the signature names");
        }
        Optional<PartnerPolicy> partner = Optional.ofNullable(policies.partners().get(author.get()));
        if (partner.isEmpty() || recorded.signingTime().isEmpty()) {
            return new Verdict.PermError(Reason.MALFORMED, Optional.empty(), "the held verdict names no partner signature");
        }
        Instant signedAt = recorded.signingTime().get();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            SerializedMessage.writeBack(() -> held.getMessage().writeTo(out));
            Verifier verifier = new Verifier(policies.verifierSettings(partner.get()), keys, releasedFor(held.getName()));
            byte[] bytes = out.toByteArray();
            Verdict v = verifier.verify(bytes, 0, bytes.length, signedAt, java.util.List.of(recipient.asString()))
                    .get(recipient.asString());
            if (v instanceof Verdict.Pass p && !p.header().domain().equals(author.get())) {
                return new Verdict.Fail(Reason.FROM_MISMATCH, v.signature(), "signed for d=" + p.header().domain()
                        + " but the From domain is " + author.get());
            }
            return v;
        } catch (Exception e) {
            return new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.empty(), "the held mail cannot be read: " + e);
        }
    }
}
