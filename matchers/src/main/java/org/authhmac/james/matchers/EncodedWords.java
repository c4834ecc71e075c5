package org.authhmac.james.matchers;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * RFC 2047 encoded words in a From field, decoded as the readers the From scan stands in for decode them: each word
 * alone, or adjacent words of one charset together as Python's email does, with the charsets Python's email picks
 * ({@link PythonCodecs}), leniently.
 */
final class EncodedWords {
    /** RFC 2047 encoded word, liberally: charset (with an optional RFC 2231 language), B or Q, any text up to "?=". */
    private static final Pattern ENCODED_WORD = Pattern.compile("=\\?([^?]*)\\?([bBqQ])\\?([^?]*)\\?=");
    /** An encoded word as email.header.decode_header finds it: its text may hold "?" (up to the first "?="). */
    private static final Pattern PYTHON_ENCODED_WORD = Pattern.compile("=\\?([^?]*)\\?([bBqQ])\\?(.*?)\\?=");
    /** Whitespace between two encoded words, which RFC 2047 (6.2) does not display (liberally: after any "?="). */
    static final Pattern BETWEEN_ENCODED_WORDS =
            Pattern.compile("(?<=\\?=)\\s+(?==\\?[^?]*\\?[bBqQ]\\?[^?]*\\?=)");
    /** Every charset name and alias of this JVM, lower case. */
    private static final Map<String, Charset> CHARSETS = PythonCodecs.JDK;


    private EncodedWords() {
    }

    /** Every encoded word decoded wherever it stands (Python's email decodes them inside addresses too). */
    static String decodeEncodedWords(String text) {
        Matcher m = ENCODED_WORD.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(decodeWord(m.group(1), m.group(2).charAt(0), m.group(3))));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * The text as email.header.decode_header reads it: whitespace between two encoded words dropped, and the bytes of
     * adjacent words of one charset label joined before decoding, so that a character or a UTF-7 shifted run cut
     * between two words is whole again; an encoded word's text may hold "?".
     */
    static String decodeAdjacentWordsTogether(String text) {
        Matcher m = PYTHON_ENCODED_WORD.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        String runCharset = null;
        int last = 0;
        while (m.find()) {
            String charset = m.group(1).toLowerCase(Locale.ROOT);
            boolean betweenWords = runCharset != null && allSpace(text, last, m.start());
            if (runCharset != null && !(betweenWords && charset.equals(runCharset))) {
                out.append(decodeBytes(runCharset, run.toByteArray()));
                run.reset();
            }
            if (!betweenWords) {
                out.append(text, last, m.start());
            }
            run.writeBytes(lenientBytes(m.group(2).charAt(0), m.group(3)));
            runCharset = charset;
            last = m.end();
        }
        if (runCharset != null) {
            out.append(decodeBytes(runCharset, run.toByteArray()));
        }
        return out.append(text, last, text.length()).toString();
    }

    /** Whether text[from, to) is empty or whitespace only (Python's str.isspace, nearly). */
    private static boolean allSpace(String text, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Character.isWhitespace(text.charAt(i)) && !Character.isSpaceChar(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * One encoded word, decoded leniently: what a strict decoder refuses (an unknown charset, a bad Q escape,
     * base64 without padding) another reader decodes anyway.
     */
    private static String decodeWord(String charset, char encoding, String encoded) {
        return decodeBytes(charset, lenientBytes(encoding, encoded));
    }

    /**
     * The bytes in the charset Python's email reads the label as, else the JDK's charset of that name, else
     * ISO-8859-1 (Python uses ASCII). Not MimeUtility.decodeWord: in jakarta.mail 2.x each call looks its stream
     * provider up on the class path.
     */
    private static String decodeBytes(String charset, byte[] bytes) {
        String name = withoutLanguage(charset);
        Optional<Function<byte[], String>> python = PythonCodecs.decoder(name);
        return python.isPresent() ? python.get().apply(bytes)
                : new String(bytes, CHARSETS.getOrDefault(name, StandardCharsets.ISO_8859_1));
    }

    /** A MIME charset name without its RFC 2231 language suffix, lower case. */
    private static String withoutLanguage(String mimeName) {
        int star = mimeName.indexOf('*');
        return (star >= 0 ? mimeName.substring(0, star) : mimeName).toLowerCase(Locale.ROOT);
    }

    /**
     * The text with every encoded word whose charset label is not a name this JVM knows relabelled ISO-8859-1.
     * For mime4j, which decodes display names while it parses and looks each charset name up: an unknown name
     * costs a search of the whole class path (hundreds of microseconds on James), every time. Only display
     * names decode differently; the addresses are read the same.
     */
    static String withKnownCharsets(String text) {
        if (!text.contains("=?")) {
            return text;
        }
        Matcher m = ENCODED_WORD.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            String word = CHARSETS.containsKey(m.group(1).toLowerCase(Locale.ROOT)) ? m.group()
                    : "=?iso-8859-1?" + m.group(2) + "?" + m.group(3) + "?=";
            m.appendReplacement(out, Matcher.quoteReplacement(word));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static byte[] lenientBytes(char encoding, String encoded) {
        if (encoding == 'b' || encoding == 'B') {
            return base64(encoded.replaceAll("[^A-Za-z0-9+/]", ""));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < encoded.length(); i++) {
            char c = encoded.charAt(i);
            if (c == '_') {
                out.write(' ');
            } else if (c == '=' && i + 2 < encoded.length() && hex(encoded.charAt(i + 1)) >= 0 && hex(encoded.charAt(i + 2)) >= 0) {
                out.write(hex(encoded.charAt(i + 1)) * 16 + hex(encoded.charAt(i + 2)));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toByteArray();
    }

    /** Base64 without padding; a lone last character encodes no byte and is dropped. */
    static byte[] base64(String b64) {
        return Base64.getDecoder().decode(b64.length() % 4 == 1 ? b64.substring(0, b64.length() - 1) : b64);
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }
}
