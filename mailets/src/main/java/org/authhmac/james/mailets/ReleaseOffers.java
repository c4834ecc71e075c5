package org.authhmac.james.mailets;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailKey;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.ReleaseTokens;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a recipient's quarantine notice offers ({@code selfRelease}, {@code selfReleaseValidity}): the two one-time
 * addresses of release by reply when every verdict behind that mailbox's copy is in the list, otherwise the word that
 * an administrator decides.
 */
record ReleaseOffers(ReleaseTokens tokens, Set<Reason> reasons, Duration validity, Clock clock) {
    private static final Logger LOGGER = LoggerFactory.getLogger(AuthHmacQuarantine.class);
    static final Duration DEFAULT_VALIDITY = Duration.ofDays(7);
    static final Duration MIN_VALIDITY = Duration.ofSeconds(10);

    sealed interface Offer permits SelfService, AdministratorDecides, AskAdministrator {
    }

    /** The recipient can release or discard their copy by writing to these addresses until {@code expiry}. */
    record SelfService(MailAddress release, MailAddress discard, Instant expiry) implements Offer {
    }

    /** Self-service is on, but not for this reason: an administrator decides. */
    record AdministratorDecides(String reasons) implements Offer {
    }

    /** No self-service (off, or the key vault could not make the addresses): ask an administrator. */
    record AskAdministrator() implements Offer {
    }

    /** Nothing offered: self-service is off. */
    static ReleaseOffers off() {
        return new ReleaseOffers(null, Set.of(), DEFAULT_VALIDITY, Clock.systemUTC());
    }

    Offer offer(MailKey key, MailAddress mailbox, Collection<RecordedVerdict> verdicts) {
        if (reasons.isEmpty()) {
            return new AskAdministrator();
        }
        if (verdicts.isEmpty() || !verdicts.stream().allMatch(v -> reasons.contains(v.reason()))) {
            return new AdministratorDecides(String.join(",", verdicts.stream().map(v -> v.reason().token()).distinct().sorted().toList()));
        }
        Instant expiry = clock.instant().plus(validity).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        try {
            return new SelfService(tokens.address(ReleaseTokens.Action.RELEASE, key.asString(), mailbox, expiry),
                    tokens.address(ReleaseTokens.Action.DISCARD, key.asString(), mailbox, expiry), expiry);
        } catch (KeyUnavailableException | RuntimeException e) {
            // The mail is held either way; its notice then asks for an administrator, as without self-service.
            LOGGER.warn("auth-hmac: no release address for mail {} (key vault: {}); the notice asks for an administrator",
                    key.asString(), e.getMessage());
            return new AskAdministrator();
        }
    }
}
