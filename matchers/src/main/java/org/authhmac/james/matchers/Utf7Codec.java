package org.authhmac.james.matchers;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Python's utf_7 codec, which the JDK lacks. */
final class Utf7Codec {
    /** A UTF-7 shifted run: "+", base64 of UTF-16, ended by "-" (absorbed) or any character outside base64. */
    private static final Pattern UTF_7_RUN = Pattern.compile("\\+([A-Za-z0-9+/]*)-?");

    private Utf7Codec() {
    }

    /** RFC 2152 UTF-7: ASCII, and shifted runs of base64 UTF-16; "+-" is "+". */
    static String decode(byte[] bytes) {
        Matcher m = UTF_7_RUN.matcher(new String(bytes, StandardCharsets.ISO_8859_1));
        StringBuilder out = new StringBuilder(bytes.length);
        while (m.find()) {
            String run = m.group(1).isEmpty() ? "+" : new String(EncodedWords.base64(m.group(1)), StandardCharsets.UTF_16BE);
            m.appendReplacement(out, Matcher.quoteReplacement(run));
        }
        m.appendTail(out);
        return out.toString();
    }
}
