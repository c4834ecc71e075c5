package org.authhmac.james;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
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
            "replayCache.capacity", "replayCache.domainSharePercent", "replayCache.store", "replayCache.redis.uri",
            "replayCache.redis.username", "replayCache.redis.passwordFile", "replayCache.redis.timeout",
            "replayCache.redis.connectTimeout", "replayCache.redis.keyPrefix", "health.offsetWarnPercent", "health.window",
            "clock.reference", "clock.checkEvery");
    static final String REDIS_PREFIX = "replayCache.redis.";
    /** Key prefixes: no hash-tag braces, no white space or control characters, short enough to leave room for the rest. */
    private static final Pattern KEY_PREFIX = Pattern.compile("[A-Za-z0-9:._-]{1,64}");
    private static final Pattern ACL_USER = Pattern.compile("[A-Za-z0-9._@-]{1,64}");
    private static final Duration MIN_TIMEOUT = Duration.ofMillis(50);
    private static final Duration MAX_TIMEOUT = Duration.ofSeconds(60);

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
                sharedSettings(shared), replayCache(shared), replayStore(shared), health(shared), clockCheck(shared));
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

    private static PartnerPolicies.Health health(Map<String, String> s) throws MailetException {
        PartnerPolicies.Health d = PartnerPolicies.Health.DEFAULT;
        Duration window = Parameters.duration("health.window", s.get("health.window"), d.window());
        if (window.compareTo(Duration.ofMinutes(1)) < 0 || window.compareTo(Duration.ofDays(7)) > 0) {
            throw error("health.window", "must be between 1m and 7d: " + s.get("health.window"));
        }
        return new PartnerPolicies.Health(Parameters.integer("health.offsetWarnPercent", s.get("health.offsetWarnPercent"),
                d.offsetWarnPercent(), 1, 100), window);
    }

    /**
     * {@code clock.reference} ({@code ntp://host[:port]}) and {@code clock.checkEvery}, the latter refused without the
     * former: the operator would believe a check runs that does not.
     */
    static Optional<PartnerPolicies.ClockCheck> clockCheck(Map<String, String> s) throws MailetException {
        String value = s.get("clock.reference");
        if (value == null) {
            if (s.containsKey("clock.checkEvery")) {
                throw error("clock.checkEvery", "is read only with clock.reference=ntp://host[:port], which is not given");
            }
            return Optional.empty();
        }
        String key = "clock.reference";
        URI uri;
        try {
            uri = new URI(value.trim());
        } catch (URISyntaxException e) {
            throw error(key, "is not a URI: " + e.getMessage());
        }
        if (!"ntp".equals(uri.getScheme())) {
            throw error(key, "must be ntp://host[:port] (an NTP server answering SNTP, RFC 4330), got '" + value.trim() + "'");
        }
        if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null
                || (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))) {
            throw error(key, "must be ntp://host[:port], nothing more: got '" + value.trim() + "'");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw error(key, "names no host (ntp://host[:port]): got '" + value.trim() + "'");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = uri.getPort() == -1 ? PartnerPolicies.ClockCheck.DEFAULT_PORT : uri.getPort();
        if (port < 1 || port > 65535) {
            throw error(key, "port " + port + " is no UDP port (1..65535)");
        }
        Duration every = Parameters.duration("clock.checkEvery", s.get("clock.checkEvery"), PartnerPolicies.ClockCheck.DEFAULT_EVERY);
        if (every.compareTo(PartnerPolicies.ClockCheck.MIN_EVERY) < 0 || every.compareTo(PartnerPolicies.ClockCheck.MAX_EVERY) > 0) {
            // more often burdens the NTP server (RFC 4330 asks clients for 15 s at least); less often sees nothing in time
            throw error("clock.checkEvery", "must be between 16s and 1d: " + s.get("clock.checkEvery"));
        }
        return Optional.of(new PartnerPolicies.ClockCheck(host.toLowerCase(java.util.Locale.ROOT), port, every));
    }

    private static PartnerPolicies.ReplayCacheSize replayCache(Map<String, String> s) throws MailetException {
        PartnerPolicies.ReplayCacheSize d = PartnerPolicies.ReplayCacheSize.DEFAULT;
        return new PartnerPolicies.ReplayCacheSize(
                Parameters.integer("replayCache.capacity", s.get("replayCache.capacity"), d.capacity(), 1, Integer.MAX_VALUE),
                Parameters.integer("replayCache.domainSharePercent", s.get("replayCache.domainSharePercent"),
                        d.domainSharePercent(), 1, 100));
    }

    /** {@code replayCache.store} and, for Redis, its {@code replayCache.redis.*} keys, each refused without the other. */
    static PartnerPolicies.ReplayStore replayStore(Map<String, String> s) throws MailetException {
        String store = s.getOrDefault("replayCache.store", "memory").trim();
        switch (store) {
            case "memory" -> {
                for (String key : s.keySet()) {
                    if (key.startsWith(REDIS_PREFIX)) {
                        // Half a switch to Redis: the operator believes the nodes share a cache they do not share.
                        throw error(key, "is read only with replayCache.store=redis (the store is memory)");
                    }
                }
                return new PartnerPolicies.ReplayStore.Memory();
            }
            case "redis" -> {
                URI uri = redisUri(s.get(REDIS_PREFIX + "uri"));
                Optional<String> user = Optional.ofNullable(s.get(REDIS_PREFIX + "username")).map(String::trim);
                if (user.isPresent() && !ACL_USER.matcher(user.get()).matches()) {
                    throw error(REDIS_PREFIX + "username", "must be 1 to 64 of A-Z a-z 0-9 . _ @ -");
                }
                Optional<Path> passwordFile = Optional.ofNullable(s.get(REDIS_PREFIX + "passwordFile")).map(String::trim)
                        .map(Path::of);
                if (passwordFile.isPresent()) {
                    checkPasswordFile(REDIS_PREFIX + "passwordFile", passwordFile.get());
                } else if (user.isPresent()) {
                    throw error(REDIS_PREFIX + "username", "needs replayCache.redis.passwordFile: an ACL user logs in with a password");
                }
                Duration timeout = timeout(REDIS_PREFIX + "timeout", s.get(REDIS_PREFIX + "timeout"));
                Duration connectTimeout = timeout(REDIS_PREFIX + "connectTimeout", s.get(REDIS_PREFIX + "connectTimeout"));
                String prefix = s.getOrDefault(REDIS_PREFIX + "keyPrefix", PartnerPolicies.ReplayStore.Redis.DEFAULT_KEY_PREFIX).trim();
                if (!KEY_PREFIX.matcher(prefix).matches()) {
                    throw error(REDIS_PREFIX + "keyPrefix", "must be 1 to 64 of A-Z a-z 0-9 : . _ - (no braces: the keys "
                            + "hold no Redis Cluster hash tag)");
                }
                return new PartnerPolicies.ReplayStore.Redis(uri, user, passwordFile, timeout, connectTimeout, prefix);
            }
            default -> throw error("replayCache.store", "'" + store + "' is not a store: memory (one James) or redis (shared)");
        }
    }

    private static URI redisUri(String value) throws MailetException {
        String key = REDIS_PREFIX + "uri";
        if (value == null) {
            throw error(key, "is required with replayCache.store=redis, for example redis://127.0.0.1:6379/0 (rediss:// for TLS)");
        }
        URI uri;
        try {
            uri = new URI(value.trim());
        } catch (URISyntaxException e) {
            throw error(key, "is not a URI: " + e.getMessage());
        }
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme())) {
            throw error(key, "must start with redis:// or rediss:// (TLS)");
        }
        if (uri.getRawUserInfo() != null) {
            // A password in the URI would sit in a file every James admin reads, and in our log lines.
            throw error(key, "must not hold a user or password: give replayCache.redis.username and replayCache.redis.passwordFile");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw error(key, "names no host");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw error(key, "must not have a query or fragment: the settings are replayCache.redis.* keys");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (!path.isEmpty() && !path.equals("/") && !path.matches("/\\d{1,4}")) {
            throw error(key, "the path is the database number, 0 to 9999: redis://host:port/0");
        }
        if (uri.getPort() == 0) {
            throw error(key, "port 0 is no port");
        }
        return uri;
    }

    private static Duration timeout(String key, String value) throws MailetException {
        Duration d = Parameters.duration(key, value, PartnerPolicies.ReplayStore.Redis.DEFAULT_TIMEOUT);
        if (d.compareTo(MIN_TIMEOUT) < 0 || d.compareTo(MAX_TIMEOUT) > 0) {
            // Unbounded, a hung Redis would hold James's spool threads; too short, a busy one would make every mail wait.
            throw error(key, "must be 50ms to 60s");
        }
        return d;
    }

    /** The password file must be there, readable, and not readable by every user of the host. */
    static void checkPasswordFile(String key, Path file) throws MailetException {
        if (!file.isAbsolute()) {
            throw error(key, "must be an absolute path: James's working directory is not the configuration folder");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw error(key, file + " is not a readable file");
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                throw error(key, file + " can be read or written by every user of this host: chmod 600 (or 640 with "
                        + "the group James runs as)");
            }
            if (Files.size(file) == 0) {
                throw error(key, file + " is empty");
            }
        } catch (UnsupportedOperationException notPosix) {
            // Windows: no POSIX bits to check; the folder's ACL is the operator's to set.
        } catch (IOException e) {
            throw error(key, "cannot read " + file + ": " + e.getMessage());
        }
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
