package org.authhmac.protocol;

/**
 * The replay id of an envelope recipient (docs/PROTOCOL.md 11): the mailbox that receives, not the address as
 * typed. Lower case, a quoted local part unquoted when it is a dot-atom, sub-address detail removed, the domain
 * in its r= form. {@code bob@b.example}, {@code BOB@b.example}, {@code "bob"@b.example} and
 * {@code bob+x@b.example} are all {@code bob@b.example}.
 */
final class ReplayIds {
    private static final String SEPARATOR_CHARS = "!#$%&'*+-/=?^_`{|}~";
    private static final int MAX_SEPARATOR_CHARS = 8;

    private ReplayIds() {
    }

    /** "" (no sub-addressing) or 1..8 characters of RFC 5322 atext other than letters and digits. */
    static boolean isSeparator(String separator) {
        if (separator.length() > MAX_SEPARATOR_CHARS) {
            return false;
        }
        for (int i = 0; i < separator.length(); i++) {
            if (SEPARATOR_CHARS.indexOf(separator.charAt(i)) < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * @param recipient a domain (a domain-level check: the id is the domain), or local@domain, optionally in one pair
     *                  of angle brackets; its domain must be one {@link Recipients#domain} accepts
     * @param separator the sub-address separator, "" for none
     * @throws IllegalArgumentException the domain is not a domain name
     */
    static String of(String recipient, String separator) {
        String r = recipient.trim();
        if (r.length() >= 2 && r.charAt(0) == '<' && r.charAt(r.length() - 1) == '>') {
            r = r.substring(1, r.length() - 1).trim();
        }
        int at = r.lastIndexOf('@');
        if (at < 0) {
            return Recipients.domain(r);
        }
        String domain = Recipients.domain(r.substring(at + 1));
        String local = Recipients.lowerAscii(unquoted(r.substring(0, at)));
        if (!separator.isEmpty()) {
            int detail = local.indexOf(separator);
            if (detail >= 0) {
                local = local.substring(0, detail);
            }
        }
        String mailbox = local + "@" + domain;
        return SignatureHeader.isRecipient(mailbox) ? mailbox : quoted(local) + "@" + domain;
    }

    /** The content of a quoted-string local part with its quoted-pairs resolved; anything else as it is. */
    private static String unquoted(String local) {
        if (local.length() < 2 || local.charAt(0) != '"' || local.charAt(local.length() - 1) != '"') {
            return local;
        }
        StringBuilder out = new StringBuilder(local.length());
        for (int i = 1; i < local.length() - 1; i++) {
            char c = local.charAt(i);
            if (c == '\\' && i + 1 < local.length() - 1) {
                c = local.charAt(++i);
            }
            out.append(c);
        }
        return out.toString();
    }

    /** One canonical quoted form, so that differently escaped spellings of one local part give one id. */
    private static String quoted(String content) {
        StringBuilder out = new StringBuilder(content.length() + 2).append('"');
        for (int i = 0; i < content.length(); i++) {
            char c = content.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.append('"').toString();
    }
}
