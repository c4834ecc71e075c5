package org.authhmac.protocol;

import java.util.Locale;

/** Header canonicalization, RFC 6376 §3.4.1 (simple) and §3.4.2 (relaxed), on one field without its final CRLF. */
final class HeaderCanonicalizer {
    private HeaderCanonicalizer() {
    }

    static String canonicalize(Canonicalization c, String rawField) {
        return c == Canonicalization.SIMPLE ? rawField : relaxed(rawField);
    }

    static String relaxed(String rawField) {
        // On char arrays rather than charAt/StringBuilder.append per char: this runs for every signed header of
        // every message, and the per-call overhead was a fifth of signing a 1 KB message (JFR, bench/).
        char[] in = rawField.toCharArray();
        int colon = rawField.indexOf(':');
        int nameEnd = colon;
        while (nameEnd > 0 && isWsp(in[nameEnd - 1])) {
            nameEnd--;
        }
        String name = rawField.substring(0, nameEnd).toLowerCase(Locale.ROOT);
        char[] out = new char[name.length() + 1 + in.length - colon];
        name.getChars(0, name.length(), out, 0);
        int n = name.length();
        out[n++] = ':';
        int start = n;
        boolean pendingWsp = false;
        for (int i = colon + 1; i < in.length; i++) {
            char ch = in[i];
            if (ch == '\r' && i + 1 < in.length && in[i + 1] == '\n') {
                // Unfold: the CRLF of a continuation line disappears; the WSP after it is handled below.
                i++;
                continue;
            }
            if (isWsp(ch)) {
                pendingWsp = true;
                continue;
            }
            if (pendingWsp && n > start) {
                out[n++] = ' ';
            }
            pendingWsp = false;
            out[n++] = ch;
        }
        return new String(out, 0, n);
    }

    /**
     * Writes the canonical form of a field held as bytes, {@code src[from, to)} in raw form with its first colon at
     * {@code colon} and its name ending at {@code nameEnd} (WSP before the colon excluded), into {@code out} from
     * {@code pos}; returns the new end. Byte for byte {@code canonicalize(c, raw)} encoded as ISO-8859-1, without
     * building a String per field. {@code out} needs room for {@code to - from} bytes: neither algorithm makes a
     * field longer.
     */
    static int canonicalizeInto(Canonicalization c, byte[] src, int from, int to, int colon, int nameEnd,
                                byte[] out, int pos) {
        if (c == Canonicalization.SIMPLE) {
            System.arraycopy(src, from, out, pos, to - from);
            return pos + to - from;
        }
        int n = pos;
        for (int i = from; i < nameEnd; i++) {
            byte b = src[i];
            // Field names are ASCII 33..126 (HeaderField checks), where String.toLowerCase(Locale.ROOT) is this.
            out[n++] = b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
        }
        out[n++] = ':';
        int start = n;
        boolean pendingWsp = false;
        for (int i = colon + 1; i < to; i++) {
            byte b = src[i];
            if (b == '\r' && i + 1 < to && src[i + 1] == '\n') {
                i++;
                continue;
            }
            if (b == ' ' || b == '\t') {
                pendingWsp = true;
                continue;
            }
            if (pendingWsp && n > start) {
                out[n++] = ' ';
            }
            pendingWsp = false;
            out[n++] = b;
        }
        return n;
    }

    private static boolean isWsp(char c) {
        return c == ' ' || c == '\t';
    }
}
