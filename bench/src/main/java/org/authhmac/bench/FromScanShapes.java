package org.authhmac.bench;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The costliest From fields found for the matcher's From readings within their bounds (8,192 characters, 256
 * delimiters, 32 encoded words, 16 quotes): long UTF-7 runs, many adjacent encoded words that the readings join,
 * long whitespace and look-ahead runs, Punycode and Python's unicode_escape. Each is read in full, not refused unread
 * as over a bound, so its cost is the readers' worst case. And one ordinary From field for comparison.
 */
public final class FromScanShapes {
    static final String BENIGN = "Alice Martin <alice@a.example>";

    private FromScanShapes() {
    }

    /** Shape name to From field value, the benign one first. */
    public static Map<String, String> all() {
        String run = "=?utf-7?q?+" + "AEAA".repeat(60) + "?=";
        StringBuilder adjacent = new StringBuilder();
        for (int i = 0; i < 32; i++) {
            adjacent.append(run).append(' ');
        }
        Map<String, String> shapes = new LinkedHashMap<>();
        shapes.put("benign", BENIGN);
        shapes.put("adjacent-utf7-runs", adjacent + "<x@evil.example>");
        shapes.put("adjacent-latin-words", (adjacent + "<x@evil.example>").replace("utf-7", "utf-8"));
        shapes.put("adjacent-words-no-space", (adjacent + "<x@evil.example>").replace("?= =?", "?=x=?"));
        shapes.put("one-long-utf7-word", "=?utf-7?b?" + "K0FFQUFF".repeat(1000) + "?= <x@evil.example>");
        shapes.put("spaces-between-words", "=?utf-8?q?a?=" + " ".repeat(8000) + "=?utf-8?q?b?=");
        shapes.put("utf7-plusses", "=?utf-7?q?" + "+".repeat(8100) + "?=");
        shapes.put("look-aheads", "?= =?x?q?".repeat(30) + "@".repeat(200) + "y".repeat(5000));
        shapes.put("punycode-words", ("=?punycode?q?-" + "a".repeat(240) + "?=").repeat(32));
        shapes.put("punycode-long-front", "=?punycode?q?" + "a".repeat(4000) + "-" + "ba".repeat(2000) + "?=");
        // base64, so that the backslashes do not count as delimiters and the field is decoded, not refused unread
        shapes.put("unicode-escape-names", "=?unicode_escape?b?"
                + Base64.getEncoder().encodeToString("\\N{".repeat(2000).getBytes(StandardCharsets.ISO_8859_1)) + "?=");
        return shapes;
    }
}
