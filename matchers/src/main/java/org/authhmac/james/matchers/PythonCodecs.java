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
    /** Name alias, upper case, to its code point ({@link UnicodeEscapeCodec}). */
    static final Map<String, Integer> CHARACTER_ALIASES;
    /** Codec modules (encodings/*.py). */
    private static final Set<String> MODULES;
    /** Normalised alias to the codec module Python imports for it. */
    private static final Map<String, String> ALIASES;
    /** Every charset name and alias of this JVM, lower case. */
    static final Map<String, Charset> JDK = jdkCharsets();
    /** Codec module to its decoder, for the codecs this JVM (or UTF-7, the escapes and punycode here) can decode. */
    private static final Map<String, Function<byte[], String>> DECODERS;

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
        decoders.put("utf_7", Utf7Codec::decode);
        decoders.put("unicode_escape", bytes -> UnicodeEscapeCodec.decode(bytes, false));
        decoders.put("raw_unicode_escape", bytes -> UnicodeEscapeCodec.decode(bytes, true));
        decoders.put("punycode", PunycodeCodec::decode);
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
