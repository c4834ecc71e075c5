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
     * Writes the canonical form of {@code rawField} as ISO-8859-1 bytes into {@code out} from {@code pos}; returns
     * the new end, or -1 when the field holds a char above U+00FF or no colon (then the caller takes the String
     * path, whose result is the reference, and ignores what was written). {@code out} needs room for {@code rawField.length()} bytes: neither
     * algorithm makes a field longer. Byte for byte the same as {@code canonicalize(c, rawField)} encoded, without
     * building a String per field.
     */
    static int canonicalizeInto(Canonicalization c, String rawField, byte[] out, int pos) {
        int len = rawField.length();
        int colon = rawField.indexOf(':');
        if (colon < 0) {
            return -1;
        }
        int n = pos;
        if (c == Canonicalization.SIMPLE) {
            for (int i = 0; i < len; i++) {
                char ch = rawField.charAt(i);
                if (ch > 0xFF) {
                    return -1;
                }
                out[n++] = (byte) ch;
            }
            return n;
        }
        int nameEnd = colon;
        while (nameEnd > 0 && isWsp(rawField.charAt(nameEnd - 1))) {
            nameEnd--;
        }
        for (int i = 0; i < nameEnd; i++) {
            char ch = rawField.charAt(i);
            if (ch > 0xFF) {
                return -1;
            }
            // Character.toLowerCase maps every Latin-1 char as String.toLowerCase(Locale.ROOT) does.
            out[n++] = (byte) Character.toLowerCase(ch);
        }
        out[n++] = ':';
        int start = n;
        boolean pendingWsp = false;
        for (int i = colon + 1; i < len; i++) {
            char ch = rawField.charAt(i);
            if (ch > 0xFF) {
                return -1;
            }
            if (ch == '\r' && i + 1 < len && rawField.charAt(i + 1) == '\n') {
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
            out[n++] = (byte) ch;
        }
        return n;
    }

    /**
     * The same for a field held as bytes, {@code src[from, to)} in raw form with its first colon at {@code colon}
     * and its name ending at {@code nameEnd} (WSP before the colon excluded). Bytes are chars up to U+00FF, so
     * there is no fallback; returns the new end. {@code out} needs room for {@code to - from} bytes.
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
