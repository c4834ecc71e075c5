package org.authhmac.james.mailets;

import java.util.regex.Pattern;

/**
 * Text that came with a mail (addresses, Subject, Message-ID, error messages) made safe to write where a person
 * reads it: a log line or a notice. Every control, format (bidi embeddings, overrides, isolates and marks, zero-width
 * characters), line separator, paragraph separator and lone surrogate is replaced, so a value cannot start a fake log
 * line or reorder what a reader sees; a notice also defangs links and addresses, so a client shows them as text.
 */
public final class UntrustedText {
    /** Longest value written, in code points; the rest is cut and counted. */
    public static final int MAX_LENGTH = 200;
    /** No word boundary before a scheme: linkifiers find {@code https://} after {@code _} or a letter too. */
    private static final Pattern SCHEME_HTTP = Pattern.compile("(?i)(h)tt(ps?)(?=\\s*[:\\[])");
    private static final Pattern SCHEME_OTHER = Pattern.compile("(?i)(ftp|ftps|file|mailto|javascript|data|tel|sms|callto):");
    private static final Pattern DOT_IN_NAME = Pattern.compile("(?<=[\\p{L}\\p{N}_-])[.\u3002\uFF0E\uFF61\uFE52](?=[\\p{L}\\p{N}_-])");
    private static final Pattern AT = Pattern.compile("[@\uFF20\uFE6B]");

    private UntrustedText() {
    }

    /** For a log line: unsafe characters and every space become '_'; null is "-". */
    public static String forLog(String value) {
        return clean(value, '_', true);
    }

    /**
     * For the text of a notice: unsafe characters become '_', runs of spaces stay, and what a mail client would turn
     * into a link or an address is defanged ({@code hxxps://evil[.]example}, {@code ceo[@]a[.]example}).
     */
    public static String forNotice(String value) {
        return defang(clean(value, '_', false));
    }

    static String defang(String s) {
        String out = SCHEME_HTTP.matcher(s).replaceAll("$1xx$2");
        out = SCHEME_OTHER.matcher(out).replaceAll("$1[:]");
        out = DOT_IN_NAME.matcher(out).replaceAll("[.]");
        return AT.matcher(out).replaceAll("[@]");
    }

    /** Whether a code point must not reach a reader as it is. */
    public static boolean unsafe(int cp) {
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE || type == Character.UNASSIGNED
                || type == Character.PRIVATE_USE
                // bidi controls are FORMAT in current Unicode; listed so that an older table cannot let one through
                || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F
                || cp == 0x061C;
    }

    private static String clean(String value, char replacement, boolean spacesToo) {
        if (value == null) {
            return "-";
        }
        StringBuilder b = new StringBuilder(Math.min(value.length(), MAX_LENGTH + 16));
        int count = 0;
        int i = 0;
        while (i < value.length()) {
            int cp = value.codePointAt(i);
            i += Character.charCount(cp);
            if (count == MAX_LENGTH) {
                int rest = value.codePointCount(i - Character.charCount(cp), value.length());
                b.append("...(+").append(rest).append(')');
                break;
            }
            count++;
            if (!spacesToo && (cp == '\t' || cp == '\r' || cp == '\n' || Character.isSpaceChar(cp))) {
                b.append(' ');
            } else if (unsafe(cp) || (spacesToo && Character.isSpaceChar(cp))) {
                b.append(replacement);
            } else {
                b.appendCodePoint(cp);
            }
        }
        return b.toString();
    }
}
