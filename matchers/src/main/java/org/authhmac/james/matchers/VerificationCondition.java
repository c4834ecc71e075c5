package org.authhmac.james.matchers;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.mailet.MailetException;
import org.authhmac.james.Parameters;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.ReplayScope;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.VerifierSettings;

/**
 * The {@link AuthHmacFailed} condition ({@code partners=a.example:a-b; authservId=mx.b.example; failOn=...} plus
 * verifier settings), read once at start-up into typed values. Every error names the parameter it is about.
 *
 * @param partners   keyset name by partner domain
 * @param failOn     the results whose recipients the matcher matches
 * @param authservId the authserv-id our Authentication-Results fields carry, and forged ones claim
 * @param settings   the verifier's settings
 */
record VerificationCondition(Map<String, String> partners, Set<AuthResult> failOn, String authservId,
                             VerifierSettings settings) {
    static final Set<AuthResult> DEFAULT_FAIL_ON = Set.of(AuthResult.FAIL, AuthResult.PERMERROR, AuthResult.NONE);
    static final Set<String> KEYS = Set.of("partners", "failOn", "authservId", "headerName", "previousPeriods",
            "maxFutureSkew", "maxAge", "maxSignatures", "replayScope", "subAddressSeparator", "periodSeconds");

    VerificationCondition {
        partners = Collections.unmodifiableMap(new LinkedHashMap<>(partners));
        failOn = Set.copyOf(failOn);
    }

    /** Reads the matcher condition; throws, naming the parameter, on anything it does not accept. */
    static VerificationCondition parse(String condition) throws MailetException {
        return parse(condition, InetAddress::getLocalHost);
    }

    /** As {@link #parse(String)}, with the host name to use when {@code authservId} is not given. */
    static VerificationCondition parse(String condition, Callable<InetAddress> localHost) throws MailetException {
        Map<String, String> c = condition(condition);
        Map<String, String> partners = Parameters.partners("partners", c.get("partners"));
        Set<AuthResult> failOn = failOn(c.get("failOn"));
        String authservId = c.containsKey("authservId") ? Parameters.domain("authservId", c.get("authservId"))
                : localHostName(localHost);
        VerifierSettings settings = VerifierSettings.defaults()
                .withHeaderName(Parameters.headerName("headerName", c.get("headerName"), SignatureHeader.DEFAULT_HEADER_NAME))
                .withPreviousPeriods(Parameters.integer("previousPeriods", c.get("previousPeriods"),
                        VerifierSettings.DEFAULT_PREVIOUS_PERIODS, 0, 96))
                .withMaxFutureSkew(Parameters.duration("maxFutureSkew", c.get("maxFutureSkew"), VerifierSettings.DEFAULT_MAX_FUTURE_SKEW))
                .withMaxAge(c.containsKey("maxAge") ? positive("maxAge", Parameters.duration("maxAge", c.get("maxAge"), null)) : null)
                .withMaxHeaders(Parameters.integer("maxSignatures", c.get("maxSignatures"), VerifierSettings.DEFAULT_MAX_HEADERS, 1, 50))
                .withReplayScope(Parameters.choice("replayScope", c.get("replayScope"), ReplayScope.class, ReplayScope.RECIPIENT))
                .withSubAddressSeparator(subAddressSeparator(c.get("subAddressSeparator")))
                .withPeriodSeconds(Parameters.integer("periodSeconds", c.get("periodSeconds"), SignatureHeader.DEFAULT_PERIOD_SECONDS,
                        SignatureHeader.MIN_PERIOD_SECONDS, SignatureHeader.MAX_PERIOD_SECONDS));
        return new VerificationCondition(partners, failOn, authservId, settings);
    }

    /** Whether a recipient with this result is matched. */
    boolean countsAsFailure(AuthResult result) {
        return failOn.contains(result);
    }

    /** The condition's {@code name=value} parts, split at {@code ;}; only {@link #KEYS}, each at most once. */
    static Map<String, String> condition(String condition) throws MailetException {
        Map<String, String> out = new HashMap<>();
        if (condition == null || condition.isBlank()) {
            throw Parameters.error("partners", "the matcher condition must name the partner domains, e.g. "
                    + "AuthHmacFailed=partners=a.example:partner-a");
        }
        for (String part : condition.split(";")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw Parameters.error(part.trim(), "expected name=value in the matcher condition");
            }
            String key = part.substring(0, eq).trim();
            if (!KEYS.contains(key)) {
                throw Parameters.error(key, "unknown; expected one of " + KEYS);
            }
            if (out.put(key, part.substring(eq + 1).trim()) != null) {
                throw Parameters.error(key, "given twice");
            }
        }
        return out;
    }

    static Set<AuthResult> failOn(String value) throws MailetException {
        if (value == null || value.isBlank()) {
            return DEFAULT_FAIL_ON;
        }
        Set<AuthResult> out = EnumSet.noneOf(AuthResult.class);
        for (String token : value.split("[,\\s]+")) {
            if (token.isEmpty()) {
                continue;
            }
            AuthResult r;
            try {
                r = AuthResult.fromToken(token);
            } catch (IllegalArgumentException e) {
                throw Parameters.error("failOn", e.getMessage());
            }
            if (r == AuthResult.TEMPERROR) {
                throw Parameters.error("failOn", "temperror is never a failure: such mail waits and is retried");
            }
            if (r == AuthResult.PASS) {
                throw Parameters.error("failOn", "pass cannot count as failure");
            }
            out.add(r);
        }
        if (out.isEmpty()) {
            throw Parameters.error("failOn", "names no result");
        }
        return out;
    }

    /** Absent: the default "+"; given empty ({@code subAddressSeparator=}): no sub-addressing. */
    private static String subAddressSeparator(String value) throws MailetException {
        if (value == null) {
            return VerifierSettings.DEFAULT_SUB_ADDRESS_SEPARATOR;
        }
        try {
            return VerifierSettings.defaults().withSubAddressSeparator(value).subAddressSeparator();
        } catch (IllegalArgumentException e) {
            throw Parameters.error("subAddressSeparator", e.getMessage());
        }
    }

    private static Duration positive(String parameter, Duration d) throws MailetException {
        if (d == null || d.isZero() || d.isNegative()) {
            throw Parameters.error(parameter, "must be positive");
        }
        return d;
    }

    /** The host's canonical name in lower case; "localhost" when the host's own name does not resolve. */
    static String localHostName(Callable<InetAddress> localHost) {
        try {
            return localHost.call().getCanonicalHostName().toLowerCase(Locale.ROOT);
        } catch (Exception e) {
            return "localhost";
        }
    }
}
