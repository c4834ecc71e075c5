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
        int colon = rawField.indexOf(':');
        String name = rawField.substring(0, colon);
        int nameEnd = name.length();
        while (nameEnd > 0 && isWsp(name.charAt(nameEnd - 1))) {
            nameEnd--;
        }
        StringBuilder sb = new StringBuilder(rawField.length());
        sb.append(name.substring(0, nameEnd).toLowerCase(Locale.ROOT)).append(':');
        int start = sb.length();
        boolean pendingWsp = false;
        for (int i = colon + 1; i < rawField.length(); i++) {
            char ch = rawField.charAt(i);
            if (ch == '\r' && i + 1 < rawField.length() && rawField.charAt(i + 1) == '\n') {
                // Unfold: the CRLF of a continuation line disappears; the WSP after it is handled below.
                i++;
                continue;
            }
            if (isWsp(ch)) {
                pendingWsp = true;
                continue;
            }
            if (pendingWsp && sb.length() > start) {
                sb.append(' ');
            }
            pendingWsp = false;
            sb.append(ch);
        }
        return sb.toString();
    }

    private static boolean isWsp(char c) {
        return c == ' ' || c == '\t';
    }
}
