package org.authhmac.protocol;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Verification policy (docs/PROTOCOL.md, "Verification"). Defaults: header X-Auth-HMAC, the current and one
 * previous period, 300 s future skew, maximum age (previousPeriods + 1) * p when {@code maxAge} is null,
 * at most 5 signature headers evaluated, hmac-sha256 only, replay scope per recipient, sub-address separator "+",
 * period length 900 s (a signature with another p= is unknown-key, so that forged p= values cannot make the key
 * source derive keys).
 */
public record VerifierSettings(
        String headerName,
        int previousPeriods,
        Duration maxFutureSkew,
        Duration maxAge,
        int maxHeaders,
        Set<String> allowedAlgorithms,
        int maxHeaderBytes,
        ReplayScope replayScope,
        String subAddressSeparator,
        int periodSeconds) {

    public static final int DEFAULT_PREVIOUS_PERIODS = 1;
    public static final Duration DEFAULT_MAX_FUTURE_SKEW = Duration.ofSeconds(300);
    public static final int DEFAULT_MAX_HEADERS = 5;
    /** The sub-address separator most servers use (bob+tag@): what {@code subAddressSeparator} is by default. */
    public static final String DEFAULT_SUB_ADDRESS_SEPARATOR = "+";

    public VerifierSettings {
        headerName = SignerSettings.checkHeaderName(headerName, "headerName");
        if (previousPeriods < 0 || previousPeriods > 96) {
            throw new IllegalArgumentException("previousPeriods must be 0..96: " + previousPeriods);
        }
        Objects.requireNonNull(maxFutureSkew, "maxFutureSkew");
        if (maxFutureSkew.isNegative()) {
            throw new IllegalArgumentException("maxFutureSkew must not be negative: " + maxFutureSkew);
        }
        if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
            throw new IllegalArgumentException("maxAge must be positive: " + maxAge);
        }
        if (maxHeaders < 1 || maxHeaders > 50) {
            throw new IllegalArgumentException("maxHeaders must be 1..50: " + maxHeaders);
        }
        Objects.requireNonNull(allowedAlgorithms, "allowedAlgorithms");
        allowedAlgorithms = allowedAlgorithms.stream().map(a -> a.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        if (allowedAlgorithms.isEmpty()) {
            throw new IllegalArgumentException("allowedAlgorithms must not be empty");
        }
        for (String a : allowedAlgorithms) {
            if (!a.equals(SignatureHeader.ALGORITHM)) {
                throw new IllegalArgumentException("allowedAlgorithms: unsupported algorithm '" + a + "', v1 defines only hmac-sha256");
            }
        }
        if (maxHeaderBytes < 1024) {
            throw new IllegalArgumentException("maxHeaderBytes must be at least 1024: " + maxHeaderBytes);
        }
        Objects.requireNonNull(replayScope, "replayScope");
        Objects.requireNonNull(subAddressSeparator, "subAddressSeparator");
        if (!ReplayIds.isSeparator(subAddressSeparator)) {
            throw new IllegalArgumentException("subAddressSeparator must be empty (none) or 1..8 characters of RFC 5322 atext: '"
                    + TagList.printable(subAddressSeparator) + "'");
        }
        if (periodSeconds < SignatureHeader.MIN_PERIOD_SECONDS || periodSeconds > SignatureHeader.MAX_PERIOD_SECONDS) {
            throw new IllegalArgumentException("periodSeconds must be " + SignatureHeader.MIN_PERIOD_SECONDS + ".."
                    + SignatureHeader.MAX_PERIOD_SECONDS + ": " + periodSeconds);
        }
    }

    public static VerifierSettings defaults() {
        return new VerifierSettings(SignatureHeader.DEFAULT_HEADER_NAME, DEFAULT_PREVIOUS_PERIODS, DEFAULT_MAX_FUTURE_SKEW,
                null, DEFAULT_MAX_HEADERS, Set.of(SignatureHeader.ALGORITHM), SignerSettings.DEFAULT_MAX_HEADER_BYTES,
                ReplayScope.RECIPIENT, DEFAULT_SUB_ADDRESS_SEPARATOR,
                SignatureHeader.DEFAULT_PERIOD_SECONDS);
    }

    /** The maximum age for a signature with period length p. */
    public Duration maxAgeFor(int periodSeconds) {
        return maxAge != null ? maxAge : Duration.ofSeconds((long) (previousPeriods + 1) * periodSeconds);
    }

    public VerifierSettings withHeaderName(String name) {
        return new VerifierSettings(name, previousPeriods, maxFutureSkew, maxAge, maxHeaders, allowedAlgorithms, maxHeaderBytes, replayScope, subAddressSeparator, periodSeconds);
    }

    public VerifierSettings withPreviousPeriods(int n) {
        return new VerifierSettings(headerName, n, maxFutureSkew, maxAge, maxHeaders, allowedAlgorithms, maxHeaderBytes, replayScope, subAddressSeparator, periodSeconds);
    }

    public VerifierSettings withMaxFutureSkew(Duration d) {
        return new VerifierSettings(headerName, previousPeriods, d, maxAge, maxHeaders, allowedAlgorithms, maxHeaderBytes, replayScope, subAddressSeparator, periodSeconds);
    }

    /** null restores the default (previousPeriods + 1) * p. */
    public VerifierSettings withMaxAge(Duration d) {
        return new VerifierSettings(headerName, previousPeriods, maxFutureSkew, d, maxHeaders, allowedAlgorithms, maxHeaderBytes, replayScope, subAddressSeparator, periodSeconds);
    }

    public VerifierSettings withMaxHeaders(int n) {
        return new VerifierSettings(headerName, previousPeriods, maxFutureSkew, maxAge, n, allowedAlgorithms, maxHeaderBytes, replayScope, subAddressSeparator, periodSeconds);
    }

    public VerifierSettings withAllowedAlgorithms(Set<String> algorithms) {
        return new VerifierSettings(headerName, previousPeriods, maxFutureSkew, maxAge, maxHeaders, algorithms, maxHeaderBytes, replayScope, subAddressSeparator, periodSeconds);
    }

    public VerifierSettings withMaxHeaderBytes(int bytes) {
        return new VerifierSettings(headerName, previousPeriods, maxFutureSkew, maxAge, maxHeaders, allowedAlgorithms, bytes, replayScope, subAddressSeparator, periodSeconds);
    }

    public VerifierSettings withReplayScope(ReplayScope scope) {
        return new VerifierSettings(headerName, previousPeriods, maxFutureSkew, maxAge, maxHeaders, allowedAlgorithms, maxHeaderBytes, scope, subAddressSeparator, periodSeconds);
    }

    /**
     * The separator of sub-address detail in a local part (bob+tag@): the replay id of a recipient is its mailbox
     * without the detail (docs/PROTOCOL.md 11). "" when the receiving server has no sub-addressing.
     */
    public VerifierSettings withSubAddressSeparator(String separator) {
        return new VerifierSettings(headerName, previousPeriods, maxFutureSkew, maxAge, maxHeaders, allowedAlgorithms, maxHeaderBytes, replayScope, separator, periodSeconds);
    }

    /** The period length p a signature must carry; another p= is unknown-key, decided before any key is derived. */
    public VerifierSettings withPeriodSeconds(int seconds) {
        return new VerifierSettings(headerName, previousPeriods, maxFutureSkew, maxAge, maxHeaders, allowedAlgorithms, maxHeaderBytes, replayScope,
                subAddressSeparator, seconds);
    }
}
