package org.authhmac.james.mailets;

import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.authhmac.james.PartnerKeys;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicy;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.SerializedMessage;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.vault.KeyVault;

/**
 * Before a recipient releases a mail held for a timing or rollout reason: does its signature hold apart from time?
 * The verifier decides {@code expired}, {@code future} and {@code unknown-key} before it derives a key, so that a
 * forged t= or key id costs nothing; a forger can therefore get any of them. The held mail is verified again as if
 * it had been accepted at its own signing time, with a replay cache of its own: MAC, body hash, recipient binding and
 * From alignment count, the window and earlier sightings do not.
 */
final class SignatureRecheck {
    private final PartnerPolicies policies;
    private final PartnerKeys keys;

    SignatureRecheck(PartnerPolicies policies, KeyVault vault) {
        this.policies = policies;
        this.keys = new PartnerKeys(vault, policies.keysetByDomain());
    }

    /** The verdict for {@code recipient} of the held mail at its own signing time; permerror malformed when it cannot tell. */
    Verdict recheck(Mail held, MailAddress recipient, RecordedVerdict recorded) {
        Optional<PartnerPolicy> partner = recorded.domain().map(d -> policies.partners().get(d));
        if (partner.isEmpty() || recorded.signingTime().isEmpty()) {
            return new Verdict.PermError(Reason.MALFORMED, Optional.empty(), "the held verdict names no partner signature");
        }
        Instant signedAt = recorded.signingTime().get();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            SerializedMessage.writeBack(() -> held.getMessage().writeTo(out));
            Verifier verifier = new Verifier(policies.verifierSettings(partner.get()), keys,
                    new InMemoryReplayCache(16, Clock.systemUTC()));
            byte[] bytes = out.toByteArray();
            return verifier.verify(bytes, 0, bytes.length, signedAt, java.util.List.of(recipient.asString()))
                    .get(recipient.asString());
        } catch (Exception e) {
            return new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.empty(), "the held mail cannot be read: " + e);
        }
    }
}
