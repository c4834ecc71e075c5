package org.authhmac.james;

import java.net.IDN;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetException;
import org.apache.mailet.ProcessingState;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.CanonicalizationPolicy;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.vault.ConfigSyntax;

/**
 * Strict parsing of mailet and matcher parameters. Every error names the parameter, so that a typo in
 * mailetcontainer.xml stops James at start-up instead of surfacing as a lost or unsigned mail.
 */
public final class Parameters {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");

    private Parameters() {
    }

    public static MailetException error(String parameter, String problem) {
        return new MailetException("auth-hmac: invalid parameter '" + parameter + "': " + problem);
    }

    /**
     * Refuses the one value of James's {@code onMailetException} ("ignore") or {@code onMatchException} ("nomatch")
     * that carries a mail on as if our step had succeeded when it threw: a signing mailet's mail would leave
     * unsigned, a quarantine's failure would be delivered, a temperror of the matcher would count as "nothing
     * failed". Every other value (a processor, "error", "propagate", "matchall") keeps the mail back.
     *
     * @param consequence what the value would do, completing "with PARAMETER=VALUE, ..."
     */
    public static void refuseFailOpen(String parameter, String value, String failOpenValue, String consequence)
            throws MailetException {
        if (value != null && value.trim().equalsIgnoreCase(failOpenValue)) {
            throw error(parameter, "'" + failOpenValue + "' is refused: with it, " + consequence
                    + "; name a retry or hold processor (james-conf/ shows one)");
        }
    }

    public static String required(String parameter, String value) throws MailetException {
        if (value == null || value.isBlank()) {
            throw error(parameter, "is required");
        }
        return value.trim();
    }

    /** A boolean written as true/false, yes/no or on/off ({@link ConfigSyntax#bool}): "ture" must not silently mean false. */
    public static boolean bool(String parameter, String value, boolean defaultValue) throws MailetException {
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        Optional<Boolean> b = ConfigSyntax.bool(value);
        if (b.isEmpty()) {
            throw error(parameter, "expected true or false, got '" + value.trim() + "'");
        }
        return b.get();
    }

    public static int integer(String parameter, String value, int defaultValue, int min, int max) throws MailetException {
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n < min || n > max) {
                throw error(parameter, "must be " + min + ".." + max + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw error(parameter, "expected a whole number, got '" + value.trim() + "'");
        }
    }

    /** A duration such as 300, 300s, 5m, 2h, 1d or 500ms; a bare number means seconds. */
    public static Duration duration(String parameter, String value, Duration defaultValue) throws MailetException {
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        var m = DURATION.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw error(parameter, "expected a duration such as 300s, 5m, 2h or 1d, got '" + value.trim() + "'");
        }
        String unit = m.group(2) == null ? "s" : m.group(2);
        try {
            long n = Long.parseLong(m.group(1));
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofSeconds(n);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            // Digits beyond a long, or a count of days beyond Duration: named here, not a stack trace at start-up.
            throw error(parameter, "'" + value.trim() + "' is too long a duration");
        }
    }

    /** A domain in the form the protocol carries: trimmed, lower case, IDN as A-label. */
    public static String domain(String parameter, String value) throws MailetException {
        String d = required(parameter, value);
        return ConfigSyntax.domain(d).orElseThrow(() -> error(parameter, "'" + d + "' is not a domain name"));
    }

    /** Normal form of a domain seen in mail (never throws: a strange domain simply matches no partner). */
    public static Optional<String> normalDomain(String domain) {
        try {
            String d = domain.trim();
            if (d.endsWith(".")) {
                d = d.substring(0, d.length() - 1);
            }
            return Optional.of(IDN.toASCII(d, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** A header field name: printable ASCII without ':' or spaces. */
    public static String headerName(String parameter, String value, String defaultValue) throws MailetException {
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        String v = value.trim();
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < 33 || c > 126 || c == ':') {
                throw error(parameter, "'" + v + "' is not a header field name");
            }
        }
        return v;
    }

    /**
     * The signer settings every signing mailet reads: {@code headerName}, {@code periodSeconds} and
     * {@code canonicalization}, from a mailet's init parameters.
     */
    public static SignerSettings signerSettings(UnaryOperator<String> initParameter) throws MailetException {
        String headerName = headerName("headerName", initParameter.apply("headerName"), SignatureHeader.DEFAULT_HEADER_NAME);
        int period = integer("periodSeconds", initParameter.apply("periodSeconds"), SignatureHeader.DEFAULT_PERIOD_SECONDS,
                SignatureHeader.MIN_PERIOD_SECONDS, SignatureHeader.MAX_PERIOD_SECONDS);
        Canonicalization[] c = canonicalization(initParameter.apply("canonicalization"));
        return SignerSettings.defaults().withHeaderName(headerName).withPeriodSeconds(period).withCanonicalization(c[0], c[1]);
    }

    /**
     * The processors a mailet sends mail to, for {@code Mailet.requiredProcessingState()}: James checks them once every
     * processor is configured and refuses to start when one is not declared in mailetcontainer.xml, so that a misspelt
     * processor name stops start-up instead of sending mail to the error processor later. Nulls are left out, and so is
     * {@code ghost}, which is no processor but the end of a mail's processing.
     */
    public static Collection<ProcessingState> processingStates(String... processors) {
        return Stream.of(processors).filter(Objects::nonNull).filter(p -> !p.equals(Mail.GHOST)).distinct()
                .map(ProcessingState::new).toList();
    }

    /**
     * One constant of an enum, written as its name in any case ({@code quarantine} for {@code QUARANTINE}), or the
     * default when the parameter is absent or blank. The error lists the constants in declaration order.
     */
    public static <E extends Enum<E>> E choice(String parameter, String value, Class<E> type, E defaultValue)
            throws MailetException {
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw error(parameter, "expected " + alternatives(type.getEnumConstants()) + ", got '" + value.trim() + "'");
        }
    }

    /** {@code a}, {@code a or b}, {@code a, b or c}: the names in lower case. */
    private static String alternatives(Enum<?>[] constants) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < constants.length; i++) {
            if (i > 0) {
                b.append(i == constants.length - 1 ? " or " : ", ");
            }
            b.append(constants[i].name().toLowerCase(Locale.ROOT));
        }
        return b.toString();
    }

    /** A processor name, a repository URL or any other word, trimmed; the default when the parameter is absent or blank. */
    public static String orDefault(String value, String defaultValue) {
        return value == null || value.isBlank() ? defaultValue : value.trim();
    }

    /** {@code header/body}, each simple or relaxed; a lone token is the header's and the body is simple (RFC 6376). */
    public static Canonicalization[] canonicalization(String value) throws MailetException {
        if (value == null || value.isBlank()) {
            return new Canonicalization[] {Canonicalization.RELAXED, Canonicalization.RELAXED};
        }
        CanonicalizationPolicy c = ConfigSyntax.canonicalization(value).orElseThrow(() -> error("canonicalization",
                "expected header/body such as relaxed/relaxed, got '" + value.trim() + "'"));
        return new Canonicalization[] {c.header(), c.body()};
    }
}
