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

    private static boolean isWsp(char c) {
        return c == ' ' || c == '\t';
    }
}
