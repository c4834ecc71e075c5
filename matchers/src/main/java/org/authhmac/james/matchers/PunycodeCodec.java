package org.authhmac.james.matchers;

import java.nio.charset.StandardCharsets;

/** Python's punycode codec, applied to a whole encoded word's text. */
final class PunycodeCodec {

    private PunycodeCodec() {
    }

    /**
     * Python's punycode codec (RFC 3492 decoding of a whole text, not of a label): the ASCII before the last
     * {@code -}, with the code points the rest encodes inserted, so that {@code ceoa.example-k050e} is
     * {@code ceo\uFF20a.example}. Python refuses a bad encoding; here decoding stops there and keeps what it has.
     */
    static String decode(byte[] bytes) {
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
}
