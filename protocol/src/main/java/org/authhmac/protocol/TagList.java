package org.authhmac.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * RFC 6376 §3.2 tag=value lists. Each tag keeps the offsets of its whole value region (from just after '='
 * to just before the next ';' or the end), which is what "b= emptied" removes when the MAC input is built.
 */
final class TagList {
    record Tag(String name, String value, int valueStart, int valueEnd) {
    }

    private final List<Tag> tags;

    private TagList(List<Tag> tags) {
        this.tags = tags;
    }

    Tag get(String name) {
        for (Tag t : tags) {
            if (t.name.equals(name)) {
                return t;
            }
        }
        return null;
    }

    /**
     * Parses a tag-list; tag names are case-sensitive (RFC 6376 §3.2), a repeated name is an error. More than
     * {@code maxTags} tag-specs is an error found by counting the ';' first, so that the work is bounded before any
     * tag is looked at.
     */
    static TagList parse(String s, int maxTags) throws SignatureFormatException {
        int semicolons = 0;
        for (int i = s.indexOf(';'); i >= 0; i = s.indexOf(';', i + 1)) {
            // A tag-list of n tag-specs has n - 1 separators and an optional final ';'.
            if (++semicolons > maxTags) {
                throw malformed("more than " + maxTags + " tag-specs");
            }
        }
        // indexOf is vectorised: an unfolded value (what our signers write) skips the per-char line-break check.
        boolean lineBreaks = s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0;
        for (int i = 0; lineBreaks && i < s.length(); i++) {
            char c = s.charAt(i);
            // Line breaks may only be folding (CRLF followed by WSP), wherever they occur.
            if (c == '\r' && !(i + 2 < s.length() && s.charAt(i + 1) == '\n' && isWsp(s.charAt(i + 2)))) {
                throw malformed("line break that is not folding white space");
            }
            if (c == '\n' && (i == 0 || s.charAt(i - 1) != '\r')) {
                throw malformed("bare LF in the header value");
            }
        }
        List<Tag> tags = new ArrayList<>(16);
        int pos = 0;
        // Every pass ends in a throw, a break, or pos = semi + 1 <= s.length().
        while (true) {
            int semi = s.indexOf(';', pos);
            int end = semi < 0 ? s.length() : semi;
            if (semi < 0 && isFwsOnly(s, pos, end)) {
                // The final tag-spec may be followed by ";" and FWS only.
                if (tags.isEmpty()) {
                    throw malformed("empty tag list");
                }
                break;
            }
            int eq = s.indexOf('=', pos);
            if (eq < 0 || eq > end) {
                throw malformed("tag without '='");
            }
            String name = trimFws(s, pos, eq);
            if (!isTagName(name)) {
                throw malformed("bad tag name '" + printable(name) + "'");
            }
            checkValueChars(s, eq + 1, end, name);
            String value = trimFws(s, eq + 1, end);
            if (tags.size() == maxTags) {
                throw malformed("more than " + maxTags + " tag-specs");
            }
            // At most maxTags tags: a scan of the earlier names costs less than a HashSet.
            for (Tag earlier : tags) {
                if (earlier.name.equals(name)) {
                    throw malformed("tag " + name + "= appears twice");
                }
            }
            tags.add(new Tag(name, value, eq + 1, end));
            if (semi < 0) {
                break;
            }
            pos = semi + 1;
        }
        return new TagList(List.copyOf(tags));
    }

    private static void checkValueChars(String s, int from, int to, String name) throws SignatureFormatException {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            // CR and LF are FWS here: parse has checked that every line break is folding (CRLF followed by WSP).
            if (!(isFws(c) || (c >= 0x21 && c <= 0x7e && c != ';'))) {
                throw malformed("character outside VALCHAR in tag " + name + "=");
            }
        }
    }

    private static boolean isFwsOnly(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(isWsp(c) || c == '\r' || c == '\n')) {
                return false;
            }
        }
        return true;
    }

    private static String trimFws(String s, int from, int to) {
        while (from < to && isFws(s.charAt(from))) {
            from++;
        }
        while (to > from && isFws(s.charAt(to - 1))) {
            to--;
        }
        return s.substring(from, to);
    }

    private static boolean isFws(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    static boolean isWsp(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean isTagName(String name) {
        if (name.isEmpty() || !isAlpha(name.charAt(0))) {
            return false;
        }
        for (int i = 1; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(isAlpha(c) || (c >= '0' && c <= '9') || c == '_')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    /** Removes all FWS inside a value (for base64 and colon lists, where RFC 6376 allows it). */
    static String stripFws(String v) {
        int first = 0;
        while (first < v.length() && !isFws(v.charAt(first))) {
            first++;
        }
        if (first == v.length()) {
            // The usual case (an unfolded value): nothing to strip, no copy.
            return v;
        }
        StringBuilder sb = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (!isFws(c)) {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static String printable(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        StringBuilder sb = new StringBuilder();
        for (char c : cut.toCharArray()) {
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }

    private static SignatureFormatException malformed(String msg) {
        return new SignatureFormatException(Reason.MALFORMED, msg);
    }
}
