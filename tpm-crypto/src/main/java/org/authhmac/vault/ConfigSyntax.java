package org.authhmac.vault;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import org.authhmac.protocol.SignatureHeader;

/**
 * The syntax of the words every configuration of this extension shares, whoever reads it (the vault's properties, the
 * mailets' and the matcher's parameters, the command line): key ids, partner keyset names and booleans. One place, so
 * that a value one reader accepts is not refused by another.
 */
public final class ConfigSyntax {
    /** A partner keyset name (mailbox users' own keysets are {@code user:<mailbox>}, see {@link MailboxKeys}). */
    static final Pattern PARTNER_KEYSET = Pattern.compile("[A-Za-z0-9._-]{1,64}");
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
