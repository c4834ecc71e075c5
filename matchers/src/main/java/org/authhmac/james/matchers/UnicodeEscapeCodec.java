package org.authhmac.james.matchers;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Python's unicode_escape and raw_unicode_escape codecs, as the From scan decodes an encoded word that names them,
 * with the character names of {@code \N{...}} as Python reads them.
 */
final class UnicodeEscapeCodec {
    /** Longer than the longest Unicode character name (83 characters): no name. */
    private static final int MAX_CHARACTER_NAME = 100;
    private static final String HANGUL_SYLLABLE = "HANGUL SYLLABLE ";
    private static final String UNIFIED_IDEOGRAPH = "CJK UNIFIED IDEOGRAPH-";
    /** The short names of the leading, vowel and trailing jamo of a Hangul syllable's name (Unicode 3.12). */
    private static final List<List<String>> JAMO = List.of(
            List.of("G", "GG", "N", "D", "DD", "R", "M", "B", "BB", "S", "SS", "", "J", "JJ", "C", "K", "T", "P", "H"),
            List.of("A", "AE", "YA", "YAE", "EO", "E", "YEO", "YE", "O", "WA", "WAE", "OE", "YO", "U", "WEO", "WE", "WI",
                    "YU", "EU", "YI", "I"),
            List.of("", "G", "GG", "GS", "N", "NJ", "NH", "D", "L", "LG", "LM", "LB", "LS", "LT", "LP", "LH", "M", "B",
                    "BS", "S", "SS", "NG", "J", "C", "K", "T", "P", "H"));

    private UnicodeEscapeCodec() {
    }

    /**
     * Python's unicode_escape (the escapes of a Python string literal; other bytes as ISO-8859-1) or, raw,
     * raw_unicode_escape (only {@code \\uXXXX} and {@code \\UXXXXXXXX} after an odd number of backslashes):
     * {@code ceo\\u0040a.example} is the partner's address. An escape Python refuses is kept as it stands. Linear.
     */
    static String decode(byte[] bytes, boolean raw) {
        String s = new String(bytes, StandardCharsets.ISO_8859_1);
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                out.append(c);
                i++;
            } else if (raw) {
                int run = i;
                while (run < s.length() && s.charAt(run) == '\\') {
                    run++;
                }
                out.append(s, i, run);
                boolean odd = (run - i) % 2 == 1;
                i = run;
                int digits = i < s.length() ? (s.charAt(i) == 'u' ? 4 : s.charAt(i) == 'U' ? 8 : 0) : 0;
                int cp = odd && digits > 0 ? hexValue(s, i + 1, digits) : -1;
                if (cp >= 0) {
                    out.setLength(out.length() - 1);
                    out.appendCodePoint(cp);
                    i += 1 + digits;
                }
            } else {
                i = escape(s, i, out);
            }
        }
        return out.toString();
    }

    /** One unicode_escape escape at {@code at} (a backslash), appended; the index after it. */
    private static int escape(String s, int at, StringBuilder out) {
        char e = s.charAt(at + 1);
        int simple = "\\'\"abfnrtv".indexOf(e);
        if (simple >= 0) {
            out.append("\\'\"\u0007\b\f\n\r\t\u000B".charAt(simple));
            return at + 2;
        }
        if (e == '\n') {
            return at + 2;
        }
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        int cp = digits > 0 ? hexValue(s, at + 2, digits) : -1;
        if (cp >= 0) {
            out.appendCodePoint(cp);
            return at + 2 + digits;
        }
        if (e >= '0' && e <= '7') {
            int end = at + 1;
            int value = 0;
            while (end < s.length() && end < at + 4 && s.charAt(end) >= '0' && s.charAt(end) <= '7') {
                value = value * 8 + (s.charAt(end++) - '0');
            }
            out.appendCodePoint(value);
            return end;
        }
        int close = e == 'N' && at + 2 < s.length() && s.charAt(at + 2) == '{' ? nameEnd(s, at + 3) : -1;
        int named = close >= 0 ? characterNamed(s.substring(at + 3, close)) : -1;
        if (named >= 0) {
            out.appendCodePoint(named);
            return close + 1;
        }
        out.append('\\');
        return at + 1;
    }

    /** The closing brace of a character name starting at {@code from}, looked for within the longest name's length. */
    private static int nameEnd(String s, int from) {
        for (int i = from; i < s.length() && i <= from + MAX_CHARACTER_NAME; i++) {
            if (s.charAt(i) == '}') {
                return i;
            }
        }
        return -1;
    }

    /**
     * The character Python's {@code \N{name}} names, -1 if none: a JDK name (the JDK also reads a name in lower case
     * or with spaces around it), a name alias (in any case, as Python), a Hangul syllable or a CJK unified ideograph
     * (in upper case only, as Python).
     */
    static int characterNamed(String name) {
        try {
            return Character.codePointOf(name);
        } catch (IllegalArgumentException notAJdkName) {
            // Python's other names, below
        }
        Integer alias = PythonCodecs.CHARACTER_ALIASES.get(name.toUpperCase(Locale.ROOT));
        if (alias != null) {
            return alias;
        }
        if (name.startsWith(HANGUL_SYLLABLE)) {
            return hangulSyllable(name.substring(HANGUL_SYLLABLE.length()));
        }
        return name.startsWith(UNIFIED_IDEOGRAPH) ? unifiedIdeograph(name.substring(UNIFIED_IDEOGRAPH.length())) : -1;
    }

    /** The syllable whose jamo short names these are, each the longest that matches, as Python reads them; or -1. */
    private static int hangulSyllable(String jamo) {
        int at = 0;
        int syllable = 0;
        for (List<String> names : JAMO) {
            int best = -1;
            for (int j = 0; j < names.size(); j++) {
                if (jamo.startsWith(names.get(j), at) && (best < 0 || names.get(j).length() > names.get(best).length())) {
                    best = j;
                }
            }
            if (best < 0) {
                return -1;
            }
            syllable = syllable * names.size() + best;
            at += names.get(best).length();
        }
        return at == jamo.length() ? 0xAC00 + syllable : -1;
    }

    /** The CJK unified ideograph of these 4 or 5 upper-case hex digits; -1 for other text or another character. */
    private static int unifiedIdeograph(String hex) {
        if (hex.length() < 4 || hex.length() > 5) {
            return -1;
        }
        int cp = 0;
        for (int i = 0; i < hex.length(); i++) {
            int d = "0123456789ABCDEF".indexOf(hex.charAt(i));
            if (d < 0) {
                return -1;
            }
            cp = cp * 16 + d;
        }
        String jdkName = Character.getName(cp);
        return jdkName != null && jdkName.startsWith("CJK UNIFIED IDEOGRAPHS") ? cp : -1;
    }

    /**
     * The code point of exactly {@code digits} hex digits at {@code from}; -1 if there are fewer or it is none. The
     * text is ISO-8859-1, whose only hex digits (for Character.digit) are ASCII ones, as Python's.
     */
    private static int hexValue(String s, int from, int digits) {
        if (from + digits > s.length()) {
            return -1;
        }
        long value = 0;
        for (int i = from; i < from + digits; i++) {
            int d = Character.digit(s.charAt(i), 16);
            if (d < 0) {
                return -1;
            }
            value = value * 16 + d;
        }
        return value <= Character.MAX_CODE_POINT ? (int) value : -1;
    }
}
