package org.authhmac.protocol;

import java.util.Arrays;
import java.util.List;

/**
 * Builds the bytes the MAC covers (RFC 6376 §3.7 with the X-Auth-HMAC header in the DKIM-Signature role):
 * each header named in h=, picked bottom-up, canonicalized and followed by CRLF, then the signature header
 * itself with its b= value emptied, canonicalized, without a trailing CRLF.
 */
final class MacInput {
    private MacInput() {
    }

    static byte[] build(List<HeaderField> fields, List<String> signedHeaders, Canonicalization canon,
                        String signatureFieldWithEmptyB) {
        // Picks instances with index cursors and canonicalizes straight from the bytes the message was read into,
        // into one byte array: no map of lists, no String per field (this runs once per signature on every
        // message; bench/, docs/PERFORMANCE.md).
        int hn = signedHeaders.size();
        int fn = fields.size();
        int[] picked = new int[hn];
        int size = signatureFieldWithEmptyB.length();
        for (int k = 0; k < hn; k++) {
            String name = signedHeaders.get(k);
            int from = fn - 1;
            for (int j = k - 1; j >= 0; j--) {
                if (signedHeaders.get(j).equals(name)) {
                    // Bottom-up: the n-th mention of a name selects the n-th instance counted from the bottom,
                    // so the search goes on above the instance the previous mention took.
                    from = picked[j] - 1;
                    break;
                }
            }
            int i = from;
            // No String.hashCode here: a verifier's names are fresh Strings, and hashing them cost more than the
            // length-first compare of nameIs.
            while (i >= 0 && !fields.get(i).nameIs(name)) {
                i--;
            }
            // -1: a mention beyond the last instance adds nothing; that is what makes oversigning work.
            picked[k] = i;
            if (i >= 0) {
                size += fields.get(i).length() + 2;
            }
        }
        byte[] out = new byte[size];
        int n = 0;
        for (int k = 0; k < hn; k++) {
            if (picked[k] >= 0) {
                HeaderField f = fields.get(picked[k]);
                n = HeaderCanonicalizer.canonicalizeInto(canon, f.bytes(), f.start(), f.end(), f.colon(), f.nameEnd(), out, n);
                out[n++] = '\r';
                out[n++] = '\n';
            }
        }
        byte[] signature = latin1(signatureFieldWithEmptyB);
        int colon = signature == null ? -1 : indexOf(signature, (byte) ':');
        if (colon < 0) {
            return viaStrings(fields, picked, canon, signatureFieldWithEmptyB);
        }
        int nameEnd = colon;
        while (nameEnd > 0 && (signature[nameEnd - 1] == ' ' || signature[nameEnd - 1] == '\t')) {
            nameEnd--;
        }
        n = HeaderCanonicalizer.canonicalizeInto(canon, signature, 0, signature.length, colon, nameEnd, out, n);
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /** The field as ISO-8859-1 bytes, or null when it holds a char above U+00FF (only a signer's own String can). */
    private static byte[] latin1(String field) {
        for (int i = 0; i < field.length(); i++) {
            if (field.charAt(i) > 0xFF) {
                return null;
            }
        }
        return field.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private static int indexOf(byte[] b, byte value) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The reference path through Strings, for a signature field the byte path declines (a char above U+00FF, which
     * only a signer's own String can hold, or no colon).
     */
    private static byte[] viaStrings(List<HeaderField> fields, int[] picked, Canonicalization canon,
                                     String signatureFieldWithEmptyB) {
        StringBuilder sb = new StringBuilder(1024);
        for (int i : picked) {
            if (i >= 0) {
                sb.append(HeaderCanonicalizer.canonicalize(canon, fields.get(i).raw())).append("\r\n");
            }
        }
        sb.append(HeaderCanonicalizer.canonicalize(canon, signatureFieldWithEmptyB));
        return RawMessage.bytes(sb.toString());
    }
}
