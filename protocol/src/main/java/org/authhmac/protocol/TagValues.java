package org.authhmac.protocol;

import java.util.Base64;

/** Reading the values of a signature header's tags, as every header version does (docs/PROTOCOL.md, "Header"). */
final class TagValues {
    /** b= and bh=: base64 of 32 bytes with its padding. */
    private static final int DIGEST_BASE64_CHARS = 44;
    /** The base64 characters whose two low bits are zero: the only ones that may stand before the '=' of 32 bytes. */
    private static final String DIGEST_LAST_CHARS = "AEIMQUYcgkosw048";

    private TagValues() {
    }

    static String required(TagList tags, String name) throws SignatureFormatException {
        TagList.Tag t = tags.get(name);
        if (t == null) {
            throw malformed("missing tag " + name + "=");
        }
        if (t.value().isEmpty()) {
            throw malformed("empty tag " + name + "=");
        }
        return t.value();
    }

    /** A required value that may not contain whitespace (FWS is allowed inside h, bh, b and unknown tags only). */
    static String scalar(TagList tags, String name) throws SignatureFormatException {
        String v = required(tags, name);
        for (int i = 0; i < v.length(); i++) {
            if (isFws(v.charAt(i))) {
                throw malformed("whitespace inside tag " + name + "=");
            }
        }
        return v;
    }

    static long number(String v, int maxDigits, String tag) throws SignatureFormatException {
        if (v.isEmpty() || v.length() > maxDigits) {
            throw malformed(tag + "= must be 1.." + maxDigits + " digits");
        }
        for (int i = 0; i < v.length(); i++) {
            if (v.charAt(i) < '0' || v.charAt(i) > '9') {
                throw malformed(tag + "= must be digits only");
            }
        }
        return Long.parseLong(v);
    }

    /**
     * bh= and b=: after FWS removal exactly the 44 characters of base64 with padding that encode 32 bytes. Unpadded or
     * otherwise non-canonical forms (non-zero bits after the last byte) are refused, so that no two texts stand
     * for one digest.
     */
    static String base64Digest(String v, String tag) throws SignatureFormatException {
        String compact = TagList.stripFws(v);
        if (compact.length() != DIGEST_BASE64_CHARS || compact.charAt(DIGEST_BASE64_CHARS - 1) != '='
                || compact.charAt(DIGEST_BASE64_CHARS - 2) == '=') {
            throw malformed(tag + "= must be 44 base64 characters with padding (32 bytes)");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(compact);
        } catch (IllegalArgumentException e) {
            throw malformed(tag + "= is not base64");
        }
        // 32 bytes take 43 characters and 2 bits of the last one, which must be zero.
        if (decoded.length != 32 || DIGEST_LAST_CHARS.indexOf(compact.charAt(DIGEST_BASE64_CHARS - 2)) < 0) {
            throw malformed(tag + "= is not the canonical base64 of 32 bytes");
        }
        return compact;
    }

    static boolean isFws(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    static SignatureFormatException malformed(String msg) {
        return new SignatureFormatException(Reason.MALFORMED, msg);
    }
}
