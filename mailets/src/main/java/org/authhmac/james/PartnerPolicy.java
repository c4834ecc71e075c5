package org.authhmac.james;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.ReplayScope;
import org.authhmac.protocol.VerifierSettings;

/**
 * What this server agreed with one partner domain, read once from {@code conf/auth-hmac-partners.properties}
 * ({@link PartnerPolicies}): the keyset both sides hold, the period length both sign and verify with, and how mail
 * claiming the domain is verified and when it counts as failed.
 *
 * @param domain          the partner domain, lower case, IDN as A-label
 * @param keyset          the vault keyset of this relationship: its primary signs mail to the domain, its keys verify
 *                        mail from it
 * @param periodSeconds   the period length {@code p} of signatures made and accepted
 * @param previousPeriods how many periods before the acceptance time's are still accepted
 * @param maxFutureSkew   how far the signing time may be ahead of the acceptance time
 * @param maxAge          how old a signature may be, when bounded more tightly than the periods do
 * @param replayScope     what one signature may be delivered to once
 * @param alignment       which domain a passing signature must be made for
 * @param failOn          the results whose recipients the matcher matches
 */
public record PartnerPolicy(String domain, String keyset, int periodSeconds, int previousPeriods, Duration maxFutureSkew,
                            Optional<Duration> maxAge, ReplayScope replayScope, Alignment alignment, Set<AuthResult> failOn) {
    /** The results that count as failure unless {@code failOn} says otherwise. */
    public static final Set<AuthResult> DEFAULT_FAIL_ON = Set.of(AuthResult.FAIL, AuthResult.PERMERROR, AuthResult.NONE);

    /** Which domain a passing signature must be made for. */
    public enum Alignment {
        /**
         * The From domain, read strictly and alike by the protocol and mail clients' parsers: never the envelope
         * sender's domain, a parent or a sub-domain of it.
         */
        STRICT
    }

    public PartnerPolicy {
        failOn = Set.copyOf(failOn);
    }

    /** The verifier settings for mail claiming this partner: {@code shared} with this partner's own values. */
    public VerifierSettings verifierSettings(VerifierSettings shared) {
        return shared.withPeriodSeconds(periodSeconds)
                .withPreviousPeriods(previousPeriods)
                .withMaxFutureSkew(maxFutureSkew)
                .withMaxAge(maxAge.orElse(null))
                .withReplayScope(replayScope);
    }
}
