package org.authhmac.james;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.mailet.MailetException;
import org.authhmac.protocol.Reason;

/**
 * Which held reasons a recipient may release themselves ({@code selfRelease} of AuthHmacQuarantine and
 * AuthHmacRelease). Only reasons that point to a timing or rollout problem at a genuine partner can be listed; a
 * release then still checks the signature's MAC, because a forger can write any t= or key id.
 */
public final class SelfRelease {
    /** The default list: a partner's clock, a slow path, a key promoted before it was imported here. */
    public static final Set<Reason> DEFAULT = Set.copyOf(EnumSet.of(Reason.EXPIRED, Reason.FUTURE, Reason.UNKNOWN_KEY));
    /** What may be listed at all: a mail held for anything else is released by an administrator only. */
    public static final Set<Reason> ALLOWED = Set.copyOf(EnumSet.of(Reason.EXPIRED, Reason.FUTURE, Reason.UNKNOWN_KEY,
            Reason.UNSUPPORTED_VERSION, Reason.UNSUPPORTED_ALGORITHM));
    public static final String OFF = "off";

    private SelfRelease() {
    }

    /** The reasons named by a parameter value: {@code off} for none, blank for {@link #DEFAULT}. */
    public static Set<Reason> reasons(String parameter, String value) throws MailetException {
        if (value == null || value.isBlank()) {
            return DEFAULT;
        }
        if (value.trim().equalsIgnoreCase(OFF)) {
            return Set.of();
        }
        Set<Reason> out = EnumSet.noneOf(Reason.class);
        for (String word : value.split(",")) {
            String token = word.trim().toLowerCase(Locale.ROOT);
            Reason reason;
            try {
                reason = Reason.fromToken(token);
            } catch (IllegalArgumentException e) {
                throw Parameters.error(parameter, "unknown reason '" + token + "'; expected off or some of " + words(ALLOWED));
            }
            if (!ALLOWED.contains(reason)) {
                throw Parameters.error(parameter, "'" + token + "' cannot be released by its recipient: a mail held for it "
                        + "is as likely a forgery, and only an administrator may release it; allowed: " + words(ALLOWED));
            }
            out.add(reason);
        }
        return Set.copyOf(out);
    }

    private static String words(Set<Reason> reasons) {
        return reasons.stream().map(Reason::token).sorted().collect(Collectors.joining(","));
    }
}
