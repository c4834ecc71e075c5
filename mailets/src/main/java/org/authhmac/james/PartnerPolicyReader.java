package org.authhmac.james;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.configuration2.Configuration;
import org.apache.mailet.MailetException;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.ReplayScope;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.vault.ConfigSyntax;

/**
 * Reads {@code conf/auth-hmac-partners.properties} strictly: a key this extension does not know, a value out of range,
 * a key given twice or a partner without keyset stops James's start-up with a message that names the key. Values are
 * read as {@link Parameters} reads the mailets' parameters, so that the two accept the same words.
 *
 * <p>Keys: {@code partner.<domain>.<setting>} for each partner ({@link #PARTNER_SETTINGS}), and the shared
 * {@link #SHARED_SETTINGS}.
 */
final class PartnerPolicyReader {
    static final String PARTNER_PREFIX = "partner.";
    static final Set<String> PARTNER_SETTINGS = Set.of("keyset", "periodSeconds", "previousPeriods", "maxFutureSkew",
            "maxAge", "replayScope", "alignment", "failOn");
    static final Set<String> SHARED_SETTINGS = Set.of("authservId", "headerName", "maxSignatures", "subAddressSeparator",
            "replayCache.capacity", "replayCache.domainSharePercent");

    /**
     * James reads .properties files as ISO-8859-1: a domain typed in UTF-8 ({@code partner.bücher.example}) arrives as
     * other characters, which IDNA turns into another, valid-looking domain, and the partner would silently be missing.
     */
    static final String NOT_ASCII = "holds a character outside ASCII: the file is read as ISO-8859-1, as Java reads "
            + ".properties files, so it would be another domain; write an internationalized domain as its A-label (xn--...)";

    private final Configuration configuration;

    PartnerPolicyReader(Configuration configuration) {
        this.configuration = configuration;
    }

    PartnerPolicies read() throws MailetException {
        try {
            return readAll();
        } catch (MailetException e) {
            // Parameters' messages name the key; say which file it is in.
            throw new MailetException(e.getMessage().replaceFirst("^auth-hmac: ", "auth-hmac: " + PartnerPolicies.PATH + ": "), e);
        }
    }

    private PartnerPolicies readAll() throws MailetException {
        Map<String, Map<String, String>> partners = new LinkedHashMap<>();
        Map<String, String> shared = new LinkedHashMap<>();
        for (Iterator<String> keys = configuration.getKeys(); keys.hasNext(); ) {
            String key = keys.next();
            if (!isAscii(key)) {
                throw error(printable(key), NOT_ASCII);
            }
            String value = value(key);
            if (!isAscii(value)) {
                throw error(key, NOT_ASCII);
            }
            if (value.isBlank() && !key.equals("subAddressSeparator")) {
                // An empty value is a line left half-edited, not a wish for the default: say so.
                throw error(key, "has no value: give one, or remove the line for the default");
            }
            if (key.startsWith(PARTNER_PREFIX)) {
                int dot = key.lastIndexOf('.');
                String setting = key.substring(dot + 1);
                if (dot < PARTNER_PREFIX.length() || !PARTNER_SETTINGS.contains(setting)) {
                    throw error(key, "unknown; a partner's keys are partner.<domain>.<setting>, the setting one of "
                            + sorted(PARTNER_SETTINGS));
                }
                String domain = Parameters.domain(key, key.substring(PARTNER_PREFIX.length(), dot));
                if (partners.computeIfAbsent(domain, d -> new LinkedHashMap<>()).put(setting, value) != null) {
                    throw error(key, "given twice (domains are compared in lower case, IDN as A-labels)");
                }
            } else if (SHARED_SETTINGS.contains(key)) {
                shared.put(key, value);
            } else {
                throw error(key, "unknown; expected partner.<domain>.<setting> or one of " + sorted(SHARED_SETTINGS));
            }
        }
        if (partners.isEmpty()) {
            throw error("partner.<domain>.keyset", "the file names no partner: add partner.<domain>.keyset=<keyset> for each");
        }
        Map<String, PartnerPolicy> policies = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, String>> p : partners.entrySet()) {
            policies.put(p.getKey(), partner(p.getKey(), p.getValue()));
        }
        String authservId = shared.get("authservId");
        return new PartnerPolicies(policies, Optional.ofNullable(authservId == null ? null : Parameters.domain("authservId", authservId)),
                sharedSettings(shared), replayCache(shared));
    }

    private PartnerPolicy partner(String domain, Map<String, String> s) throws MailetException {
        String prefix = PARTNER_PREFIX + domain + ".";
        String keyset = s.get("keyset");
        if (keyset == null || keyset.isBlank()) {
            throw error(prefix + "keyset", "is required: the vault keyset of this partner");
        }
        if (!ConfigSyntax.isPartnerKeyset(keyset)) {
            throw error(prefix + "keyset", "'" + keyset + "' must be " + ConfigSyntax.NAME_RULE);
        }
        int period = Parameters.integer(prefix + "periodSeconds", s.get("periodSeconds"), SignatureHeader.DEFAULT_PERIOD_SECONDS,
                SignatureHeader.MIN_PERIOD_SECONDS, SignatureHeader.MAX_PERIOD_SECONDS);
        int previous = Parameters.integer(prefix + "previousPeriods", s.get("previousPeriods"),
                VerifierSettings.DEFAULT_PREVIOUS_PERIODS, 0, 96);
        Duration skew = Parameters.duration(prefix + "maxFutureSkew", s.get("maxFutureSkew"), VerifierSettings.DEFAULT_MAX_FUTURE_SKEW);
        try {
            VerifierSettings.defaults().withMaxFutureSkew(skew);
        } catch (IllegalArgumentException e) {
            throw error(prefix + "maxFutureSkew", e.getMessage());
        }
        Optional<Duration> maxAge = Optional.ofNullable(Parameters.duration(prefix + "maxAge", s.get("maxAge"), null));
        // Given without a value (maxAge=) is refused too, not read as no bound.
        if (s.containsKey("maxAge") && (maxAge.isEmpty() || maxAge.get().isZero() || maxAge.get().isNegative())) {
            throw error(prefix + "maxAge", "must be positive");
        }
        long window = (previous + 1L) * period;
        if (maxAge.isPresent() && maxAge.get().compareTo(Duration.ofSeconds(window)) > 0) {
            // It would accept nothing more (the periods bound the age), only keep replay-cache entries longer.
            throw error(prefix + "maxAge", "is longer than the periods accept ((previousPeriods+1) x periodSeconds = "
                    + window + " s): leave it out for that bound, or give a shorter one");
        }
        return new PartnerPolicy(domain, keyset, period, previous, skew, maxAge,
                Parameters.choice(prefix + "replayScope", s.get("replayScope"), ReplayScope.class, ReplayScope.RECIPIENT),
                Parameters.choice(prefix + "alignment", s.get("alignment"), PartnerPolicy.Alignment.class, PartnerPolicy.Alignment.STRICT),
                failOn(prefix + "failOn", s.get("failOn")));
    }

    private VerifierSettings sharedSettings(Map<String, String> s) throws MailetException {
        VerifierSettings settings = VerifierSettings.defaults()
                .withHeaderName(Parameters.headerName("headerName", s.get("headerName"), SignatureHeader.DEFAULT_HEADER_NAME))
                .withMaxHeaders(Parameters.integer("maxSignatures", s.get("maxSignatures"), VerifierSettings.DEFAULT_MAX_HEADERS, 1, 50));
        String separator = s.get("subAddressSeparator");
        if (separator == null) {
            return settings;
        }
        try {
            // Given empty (subAddressSeparator=): no sub-addressing.
            return settings.withSubAddressSeparator(separator);
        } catch (IllegalArgumentException e) {
            throw error("subAddressSeparator", e.getMessage());
        }
    }

    private static PartnerPolicies.ReplayCacheSize replayCache(Map<String, String> s) throws MailetException {
        PartnerPolicies.ReplayCacheSize d = PartnerPolicies.ReplayCacheSize.DEFAULT;
        return new PartnerPolicies.ReplayCacheSize(
                Parameters.integer("replayCache.capacity", s.get("replayCache.capacity"), d.capacity(), 1, Integer.MAX_VALUE),
                Parameters.integer("replayCache.domainSharePercent", s.get("replayCache.domainSharePercent"),
                        d.domainSharePercent(), 1, 100));
    }

    /**
     * The results that count as failure: a list of fail, permerror, none and neutral; never pass or temperror. Absent:
     * the default; given without a result ({@code failOn=}, which PropertiesProvider hands over as no value): refused.
     */
    static Set<AuthResult> failOn(String key, String value) throws MailetException {
        if (value == null) {
            return PartnerPolicy.DEFAULT_FAIL_ON;
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
                throw error(key, e.getMessage());
            }
            if (r == AuthResult.TEMPERROR) {
                throw error(key, "temperror is never a failure: such mail waits and is retried");
            }
            if (r == AuthResult.PASS) {
                throw error(key, "pass cannot count as failure");
            }
            out.add(r);
        }
        if (out.isEmpty()) {
            throw error(key, "names no result");
        }
        return out;
    }

    /**
     * The key's value as written. James's PropertiesProvider splits values at commas: a list setting (failOn) is
     * joined back, and a key written twice in the file is refused, not silently read as its first value.
     */
    private String value(String key) throws MailetException {
        if (String.valueOf(configuration.getProperty(key)).contains("${")) {
            // commons-configuration would substitute a system property, an environment variable or another key here.
            throw error(key, "holds a ${...} substitution: write the value itself");
        }
        List<Object> values = configuration.getList(key);
        if (values.size() > 1 && !key.endsWith(".failOn")) {
            throw error(key, "has several values (given twice, or with a comma): expected one");
        }
        StringBuilder b = new StringBuilder();
        for (Object v : values) {
            if (b.length() > 0) {
                b.append(',');
            }
            b.append(String.valueOf(v).trim());
        }
        return b.toString();
    }

    private static boolean isAscii(String s) {
        return s.chars().allMatch(c -> c < 0x80);
    }

    /** The key as read, each character outside printable ASCII as a Java escape (backslash, u, four hex digits). */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.chars().forEach(c -> b.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\u%04x", c)));
        return b.toString();
    }

    private static List<String> sorted(Set<String> names) {
        return names.stream().sorted().toList();
    }

    private static MailetException error(String key, String problem) {
        return Parameters.error(key, problem);
    }
}
