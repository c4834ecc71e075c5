package org.authhmac.protocol;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Verification policy (docs/PROTOCOL.md, "Verification"). Defaults: header X-Auth-HMAC, the current and one
 * previous period, 300 s future skew, maximum age (previousPeriods + 1) * p when {@code maxAge} is null,
 * at most 5 signature headers evaluated, hmac-sha256 only, replay scope per recipient, sub-address separator "+",
 * period length 900 s (a signature with another p= is unknown-key, so that forged p= values cannot make the key
 * source derive keys), header version 1 only (another v= is unsupported-version).
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
        int periodSeconds,
        Set<Integer> acceptedVersions) {

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
        acceptedVersions = Set.copyOf(Objects.requireNonNull(acceptedVersions, "acceptedVersions"));
        if (acceptedVersions.isEmpty()) {
            throw new IllegalArgumentException("acceptedVersions must not be empty");
        }
        for (int v : acceptedVersions) {
            try {
                HeaderVersions.of(v);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("acceptedVersions: " + e.getMessage());
            }
        }
    }

    public static VerifierSettings defaults() {
        return new VerifierSettings(SignatureHeader.DEFAULT_HEADER_NAME, DEFAULT_PREVIOUS_PERIODS, DEFAULT_MAX_FUTURE_SKEW,
                null, DEFAULT_MAX_HEADERS, Set.of(SignatureHeader.ALGORITHM), SignerSettings.DEFAULT_MAX_HEADER_BYTES,
                ReplayScope.RECIPIENT, DEFAULT_SUB_ADDRESS_SEPARATOR,
                SignatureHeader.DEFAULT_PERIOD_SECONDS, HeaderVersions.DEFAULT_ACCEPTED);
    }

    /** The maximum age for a signature with period length p. */
    public Duration maxAgeFor(int periodSeconds) {
        return maxAge != null ? maxAge : Duration.ofSeconds((long) (previousPeriods + 1) * periodSeconds);
    }

    public VerifierSettings withHeaderName(String name) {
        return with(d -> d.headerName = name);
    }

    public VerifierSettings withPreviousPeriods(int n) {
        return with(d -> d.previousPeriods = n);
    }

    public VerifierSettings withMaxFutureSkew(Duration skew) {
        return with(d -> d.maxFutureSkew = skew);
    }

    /** null restores the default (previousPeriods + 1) * p. */
    public VerifierSettings withMaxAge(Duration age) {
        return with(d -> d.maxAge = age);
    }

    public VerifierSettings withMaxHeaders(int n) {
        return with(d -> d.maxHeaders = n);
    }

    public VerifierSettings withAllowedAlgorithms(Set<String> algorithms) {
        return with(d -> d.allowedAlgorithms = algorithms);
    }

    public VerifierSettings withMaxHeaderBytes(int bytes) {
        return with(d -> d.maxHeaderBytes = bytes);
    }

    public VerifierSettings withReplayScope(ReplayScope scope) {
        return with(d -> d.replayScope = scope);
    }

    /**
     * The separator of sub-address detail in a local part (bob+tag@): the replay id of a recipient is its mailbox
     * without the detail (docs/PROTOCOL.md 11). "" when the receiving server has no sub-addressing.
     */
    public VerifierSettings withSubAddressSeparator(String separator) {
        return with(d -> d.subAddressSeparator = separator);
    }

    /** The period length p a signature must carry; another p= is unknown-key, decided before any key is derived. */
    public VerifierSettings withPeriodSeconds(int seconds) {
        return with(d -> d.periodSeconds = seconds);
    }

    /** The header versions (v=) read; a signature of another version is unsupported-version, its tags unread. */
    public VerifierSettings withAcceptedVersions(Set<Integer> versions) {
        return with(d -> d.acceptedVersions = versions);
    }

    /** A copy with one setting changed, checked as a whole by the constructor. */
    private VerifierSettings with(Consumer<Draft> change) {
        Draft d = new Draft(this);
        change.accept(d);
        return new VerifierSettings(d.headerName, d.previousPeriods, d.maxFutureSkew, d.maxAge, d.maxHeaders,
                d.allowedAlgorithms, d.maxHeaderBytes, d.replayScope, d.subAddressSeparator, d.periodSeconds,
                d.acceptedVersions);
    }

    /** The settings while one of them changes. */
    private static final class Draft {
        String headerName;
        int previousPeriods;
        Duration maxFutureSkew;
        Duration maxAge;
        int maxHeaders;
        Set<String> allowedAlgorithms;
        int maxHeaderBytes;
        ReplayScope replayScope;
        String subAddressSeparator;
        int periodSeconds;
        Set<Integer> acceptedVersions;

        Draft(VerifierSettings s) {
            headerName = s.headerName;
            previousPeriods = s.previousPeriods;
            maxFutureSkew = s.maxFutureSkew;
            maxAge = s.maxAge;
            maxHeaders = s.maxHeaders;
            allowedAlgorithms = s.allowedAlgorithms;
            maxHeaderBytes = s.maxHeaderBytes;
            replayScope = s.replayScope;
            subAddressSeparator = s.subAddressSeparator;
            periodSeconds = s.periodSeconds;
            acceptedVersions = s.acceptedVersions;
        }
    }
}
