package org.authhmac.james.matchers;

import java.net.IDN;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/** The From scan's reading of a text form: the domain after each {@code @}, and a domain's normal form. */
final class AtDomains {
    /** Characters that end a domain in the scan (besides whitespace and, in one variant, controls). */
    private static final String DOMAIN_ENDS = ",;:<>()@/'`|{}!?&*=";

    private AtDomains() {
    }

    /**
     * Domains after each {@code @} in a skeleton of the text: backslashes and brackets dropped, whitespace next to
     * {@code .} or {@code @} dropped; controls dropped or (the other variant) ending a domain; quotes dropped or
     * (the other variant) ending a domain that does not start with them. Each domain is taken twice: up to the first
     * whitespace, and with the whitespace up to the next delimiter dropped.
     */
    static void after(String text, boolean dropControls, boolean quotesEnd, Consumer<String> add) {
        StringBuilder kept = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' || c == '[' || c == ']' || (c == '"' && !quotesEnd) || (dropControls && control(c))) {
                continue;
            }
            kept.append(c);
        }
        String s = withoutSpaceAroundDotsAndAt(kept);
        int at = s.indexOf('@');
        while (at >= 0) {
            // whitespace ends the domain; and (Python's getaddresses) whitespace inside it is dropped
            StringBuilder joined = new StringBuilder();
            int end = at + 1;
            while (end < s.length() && s.charAt(end) == '"') {
                end++;
            }
            boolean spaceSeen = false;
            while (end < s.length() && !endsDomainBesidesSpace(s.charAt(end))) {
                char c = s.charAt(end);
                if (space(c)) {
                    if (!spaceSeen && !joined.isEmpty()) {
                        add.accept(joined.toString());
                    }
                    spaceSeen = true;
                } else {
                    joined.append(c);
                }
                end++;
            }
            if (!spaceSeen || joined.length() <= FromReadings.MAX_DOMAIN_CHARS) {
                add.accept(joined.toString()); // joined across whitespace and that long: free text after an address
            }
            at = s.indexOf('@', at + 1);
        }
    }

    private static String withoutSpaceAroundDotsAndAt(CharSequence s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (!space(c)) {
                out.append(c);
                i++;
                continue;
            }
            int runEnd = i;
            while (runEnd < s.length() && space(s.charAt(runEnd))) {
                runEnd++;
            }
            char before = out.isEmpty() ? ' ' : out.charAt(out.length() - 1);
            char after = runEnd < s.length() ? s.charAt(runEnd) : ' ';
            if (before != '.' && before != '@' && after != '.' && after != '@') {
                out.append(' ');
            }
            i = runEnd;
        }
        return out.toString();
    }

    private static boolean space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || Character.isSpaceChar(c);
    }

    private static boolean control(char c) {
        return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || (c >= 0x7F && c < 0xA0);
    }

    private static boolean endsDomainBesidesSpace(char c) {
        return control(c) || c == '"' || DOMAIN_ENDS.indexOf(c) >= 0;
    }

    /** Lower case, A-labels, no trailing dot; empty when nothing domain-like is left. */
    static Optional<String> normalDomain(String raw) {
        String d = raw;
        while (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        if (d.isEmpty()) {
            return Optional.empty();
        }
        if (d.chars().allMatch(c -> c < 0x80)) {
            return Optional.of(d.toLowerCase(Locale.ROOT)); // what IDN.toASCII gives for ASCII, lower-cased
        }
        try {
            return Optional.of(IDN.toASCII(d, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT));
        } catch (RuntimeException e) {
            return Optional.of(d.toLowerCase(Locale.ROOT));
        }
    }
}
