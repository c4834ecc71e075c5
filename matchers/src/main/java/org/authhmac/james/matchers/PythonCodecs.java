package org.authhmac.james.matchers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The decoder Python's email (both {@code decode_header} and {@code policy.default}) picks for the charset label of
 * an encoded word: Python normalises the label ({@code codecs.lookup}: lower case, every run of characters other
 * than ASCII letters, digits and {@code .} one {@code _}) and looks it up in its alias table, so that
 * {@code UTF_7}, {@code utf7} and {@code u7} are UTF-7 and {@code u8} is UTF-8, names the JDK does not know. The
 * table (python-codecs.txt, from Python's {@code encodings.aliases}) is read once: no look-up per word searches the
 * class path.
 */
final class PythonCodecs {
    private static final String TABLE = "python-codecs.txt";
    /** The Unicode name aliases Python's {@code \N{...}} reads (NameAliases.txt), which the JDK's names lack. */
    private static final String NAME_ALIASES = "unicode-name-aliases.txt";
    /** Longer than the longest Unicode character name (83 characters): no name. */
    private static final int MAX_CHARACTER_NAME = 100;
    /** Codec modules (encodings/*.py). */
    private static final Set<String> MODULES;
    /** Normalised alias to the codec module Python imports for it. */
    private static final Map<String, String> ALIASES;
    /** Every charset name and alias of this JVM, lower case. */
    static final Map<String, Charset> JDK = jdkCharsets();
    /** Codec module to its decoder, for the codecs this JVM (or this class, UTF-7) can decode. */
    private static final Map<String, Function<byte[], String>> DECODERS;
    /** A UTF-7 shifted run: "+", base64 of UTF-16, ended by "-" (absorbed) or any character outside base64. */
    private static final Pattern UTF_7_RUN = Pattern.compile("\\+([A-Za-z0-9+/]*)-?");
    /** Name alias, upper case, to its code point. */
    private static final Map<String, Integer> CHARACTER_ALIASES;
    private static final String HANGUL_SYLLABLE = "HANGUL SYLLABLE ";
    private static final String UNIFIED_IDEOGRAPH = "CJK UNIFIED IDEOGRAPH-";
    /** The short names of the leading, vowel and trailing jamo of a Hangul syllable's name (Unicode 3.12). */
    private static final List<List<String>> JAMO = List.of(
            List.of("G", "GG", "N", "D", "DD", "R", "M", "B", "BB", "S", "SS", "", "J", "JJ", "C", "K", "T", "P", "H"),
            List.of("A", "AE", "YA", "YAE", "EO", "E", "YEO", "YE", "O", "WA", "WAE", "OE", "YO", "U", "WEO", "WE", "WI",
                    "YU", "EU", "YI", "I"),
            List.of("", "G", "GG", "GS", "N", "NJ", "NH", "D", "L", "LG", "LM", "LB", "LS", "LT", "LP", "LH", "M", "B",
                    "BS", "S", "SS", "NG", "J", "C", "K", "T", "P", "H"));

    static {
        Map<String, String> aliases = new HashMap<>();
        Map<String, List<String>> names = new HashMap<>();
        for (String line : tableLines(TABLE)) {
            List<String> words = List.of(line.trim().split("\\s+"));
            names.put(words.get(0), words);
            words.subList(1, words.size()).forEach(alias -> aliases.put(alias, words.get(0)));
        }
        MODULES = Set.copyOf(names.keySet());
        ALIASES = Map.copyOf(aliases);
        DECODERS = decoders(names);
        Map<String, Integer> characterAliases = new HashMap<>();
        for (String line : tableLines(NAME_ALIASES)) {
            int semicolon = line.indexOf(';');
            characterAliases.put(line.substring(0, semicolon), Integer.parseInt(line.substring(semicolon + 1), 16));
        }
        CHARACTER_ALIASES = Map.copyOf(characterAliases);
    }

    private PythonCodecs() {
    }

    /** The decoder Python uses for the label (an RFC 2231 language suffix already removed); empty when unknown. */
    static Optional<Function<byte[], String>> decoder(String label) {
        return codec(label).map(DECODERS::get);
    }

    /**
     * The codec module {@code encodings.search_function} imports for the label, if any. Python never imports a name
     * with a dot; no module name has one, so the look-up in MODULES refuses those too.
     */
    static Optional<String> codec(String label) {
        String norm = normalised(label);
        String aliased = ALIASES.getOrDefault(norm, ALIASES.get(norm.replace('.', '_')));
        if (aliased != null) {
            return Optional.of(aliased);
        }
        return MODULES.contains(norm) ? Optional.of(norm) : Optional.empty();
    }

    /**
     * Codec module (to its names, module name first) to its decoder, for the codecs this JVM (or this class: UTF-7,
     * the escapes, punycode) can decode.
     */
    static Map<String, Function<byte[], String>> decoders(Map<String, List<String>> codecNames) {
        Map<String, Function<byte[], String>> decoders = new HashMap<>();
        codecNames.forEach((module, moduleNames) -> jdkCharset(module, moduleNames, JDK)
                .ifPresent(c -> decoders.put(module, bytes -> new String(bytes, c))));
        decoders.put("utf_7", PythonCodecs::utf7);
        decoders.put("unicode_escape", bytes -> unicodeEscape(bytes, false));
        decoders.put("raw_unicode_escape", bytes -> unicodeEscape(bytes, true));
        decoders.put("punycode", PythonCodecs::punycode);
        return Map.copyOf(decoders);
    }

    /**
     * codecs.lookup's normalisation (Python 3.9 and later): lower case (the label is lower-cased as a whole first, as
     * email.charset does), each run of characters other than ASCII letters, digits and {@code .} one {@code _},
     * none at either end.
     */
    static String normalised(String label) {
        String lower = label.toLowerCase(Locale.ROOT);
        StringBuilder out = new StringBuilder(lower.length());
        boolean punct = false;
        for (int i = 0; i < lower.length(); i++) {
            char c = lower.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.') {
                if (punct && !out.isEmpty()) {
                    out.append('_');
                }
                out.append(c);
                punct = false;
            } else {
                punct = true;
            }
        }
        return out.toString();
    }

    /**
     * The JDK charset that decodes as the Python codec does. Python's utf_16 and utf_32 read a byte-order mark and
     * are otherwise little-endian (the JDK's UTF-16 and UTF-32: big-endian). The JIS X 0213 codecs, which the JDK
     * lacks, as their JIS X 0208 subset (the full-width forms are there).
     */
    private static Optional<Charset> jdkCharset(String module, List<String> aliases, Map<String, Charset> jdk) {
        switch (module) {
            case "utf_16":
                return Optional.ofNullable(jdk.get("x-utf-16le-bom"));
            case "utf_32":
                return Optional.ofNullable(jdk.get("x-utf-32le-bom"));
            case "utf_8_sig":
                return Optional.of(StandardCharsets.UTF_8);
            case "euc_jis_2004", "euc_jisx0213":
                return Optional.ofNullable(jdk.get("euc-jp"));
            case "shift_jis_2004", "shift_jisx0213":
                return Optional.ofNullable(jdk.get("shift_jis"));
            case "iso2022_jp_1", "iso2022_jp_3", "iso2022_jp_2004", "iso2022_jp_ext":
                return Optional.ofNullable(jdk.get("iso-2022-jp-2"));
            default:
                for (String name : aliases) {
                    for (String candidate : List.of(name, name.replace('_', '-'), name.replace("_", ""))) {
                        Charset c = jdk.get(candidate);
                        if (c != null) {
                            return Optional.of(c);
                        }
                    }
                }
                return Optional.empty();
        }
    }

    /**
     * Python's unicode_escape (the escapes of a Python string literal; other bytes as ISO-8859-1) or, raw,
     * raw_unicode_escape (only {@code \\uXXXX} and {@code \\UXXXXXXXX} after an odd number of backslashes):
     * {@code ceo\\u0040a.example} is the partner's address. An escape Python refuses is kept as it stands. Linear.
     */
    static String unicodeEscape(byte[] bytes, boolean raw) {
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
        Integer alias = CHARACTER_ALIASES.get(name.toUpperCase(Locale.ROOT));
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

    /** RFC 2152 UTF-7: ASCII, and shifted runs of base64 UTF-16; "+-" is "+". */
    static String utf7(byte[] bytes) {
        Matcher m = UTF_7_RUN.matcher(new String(bytes, StandardCharsets.ISO_8859_1));
        StringBuilder out = new StringBuilder(bytes.length);
        while (m.find()) {
            String run = m.group(1).isEmpty() ? "+" : new String(FromReadings.base64(m.group(1)), StandardCharsets.UTF_16BE);
            m.appendReplacement(out, Matcher.quoteReplacement(run));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * Python's punycode codec (RFC 3492 decoding of a whole text, not of a label): the ASCII before the last
     * {@code -}, with the code points the rest encodes inserted, so that {@code ceoa.example-k050e} is
     * {@code ceo\uFF20a.example}. Python refuses a bad encoding; here decoding stops there and keeps what it has.
     */
    static String punycode(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int dash = text.lastIndexOf('-');
        // Python's text is a list of code points: a lone surrogate is one of its own, even next to another one
        // (two that pair up in a Java String would shift every later index), so insert into code points. Each
        // inserted code point takes at least one character of the text: the text's length bounds their number.
        String base = text.substring(0, Math.max(dash, 0));
        int[] out = new int[text.length()];
        for (int b = 0; b < base.length(); b++) {
            out[b] = base.charAt(b); // the base is ISO-8859-1: one char a code point
        }
        String extended = text.substring(dash + 1);
        int n = 128;
        int bias = 72;
        long i = 0;
        int pos = 0;
        int points = base.length();
        while (pos < extended.length()) {
            long oldI = i;
            long w = 1;
            for (int k = 36; ; k += 36) {
                int digit = pos < extended.length() ? punycodeDigit(extended.charAt(pos++)) : -1;
                if (digit < 0 || w > Integer.MAX_VALUE) {
                    return new String(out, 0, points);
                }
                i += digit * w;
                int t = k <= bias ? 1 : Math.min(k - bias, 26);
                if (digit < t) {
                    break;
                }
                w *= 36 - t;
            }
            int length = ++points;
            bias = adapt(i - oldI, length, oldI == 0);
            long code = n + i / length;
            if (code > Character.MAX_CODE_POINT || i > Integer.MAX_VALUE) {
                return new String(out, 0, points - 1);
            }
            n = (int) code;
            i %= length;
            System.arraycopy(out, (int) i, out, (int) i + 1, length - 1 - (int) i);
            out[(int) i] = n;
            i++;
        }
        return new String(out, 0, points);
    }

    private static int punycodeDigit(char c) {
        return c >= 'a' && c <= 'z' ? c - 'a' : c >= 'A' && c <= 'Z' ? c - 'A' : c >= '0' && c <= '9' ? c - '0' + 26 : -1;
    }

    /** RFC 3492 6.1. */
    private static int adapt(long delta, int points, boolean first) {
        long d = first ? delta / 700 : delta / 2;
        d += d / points;
        int k = 0;
        while (d > 455) {
            d /= 35;
            k += 36;
        }
        return (int) (k + 36 * d / (d + 38));
    }

    /** Every charset name and alias of this JVM, lower case. */
    private static Map<String, Charset> jdkCharsets() {

        Map<String, Charset> known = new HashMap<>();
        for (Charset c : Charset.availableCharsets().values()) {
            known.put(c.name().toLowerCase(Locale.ROOT), c);
            for (String alias : c.aliases()) {
                known.put(alias.toLowerCase(Locale.ROOT), c);
            }
        }
        return Map.copyOf(known);
    }

    private static List<String> tableLines(String table) {
        try (InputStream in = PythonCodecs.class.getResourceAsStream(table)) {
            if (in == null) {
                throw new IllegalStateException(table + " is missing from the class path");
            }
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII)).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
