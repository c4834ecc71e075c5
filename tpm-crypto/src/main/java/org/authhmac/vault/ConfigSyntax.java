package org.authhmac.vault;

import java.net.IDN;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.authhmac.protocol.CanonicalizationPolicy;
import org.authhmac.protocol.SignatureHeader;

/**
 * The syntax of the words every configuration of this extension shares, whoever reads it (the vault's properties, the
 * partner file, the mailets' parameters, the command line): key ids, partner keyset names, domains, canonicalization
 * names and booleans. One place, so that a value one reader accepts is not refused by another. Where the protocol
 * defines a word (a key id, {@code c=}), this asks the protocol's own reader.
 */
public final class ConfigSyntax {
    /** A partner keyset name (mailbox users' own keysets are {@code user:<mailbox>}, see {@link MailboxKeys}). */
    static final Pattern PARTNER_KEYSET = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** A domain as the protocol carries it: LDH labels, lower case, A-labels. */
    private static final Pattern DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
    /** What the errors say a key id and a partner keyset name may be. */
    public static final String NAME_RULE = "1..64 characters of [A-Za-z0-9._-]";

    private ConfigSyntax() {
    }

    /** A key id: what a signature's {@code s=} tag carries ({@link SignatureHeader#isKeyId}, the protocol's rule). */
    public static boolean isKeyId(String s) {
        return SignatureHeader.isKeyId(s);
    }

    public static boolean isPartnerKeyset(String s) {
        return PARTNER_KEYSET.matcher(s).matches();
    }

    /**
     * A domain in the form the protocol carries (trimmed, a trailing dot dropped, lower case, IDN as A-labels, LDH
     * labels); empty for anything else, which the caller refuses, naming its setting.
     */
    public static Optional<String> domain(String value) {
        String d = value.trim();
        if (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        try {
            String ascii = IDN.toASCII(d, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
            return DOMAIN.matcher(ascii).matches() ? Optional.of(ascii) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * A canonicalization as {@code c=} writes it ({@code header/body}, each simple or relaxed; a lone word is the
     * header's and the body is simple, RFC 6376), read by the protocol's reader; empty for anything else.
     */
    public static Optional<CanonicalizationPolicy> canonicalization(String value) {
        try {
            return Optional.of(CanonicalizationPolicy.fromTag(value.trim()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * A boolean written as true/false, yes/no or on/off, in any case; empty for any other word, which the caller
     * refuses, naming its setting: "ture" must never silently mean false.
     */
    public static Optional<Boolean> bool(String word) {
        return switch (word.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> Optional.of(true);
            case "false", "no", "off" -> Optional.of(false);
            default -> Optional.empty();
        };
    }
}
