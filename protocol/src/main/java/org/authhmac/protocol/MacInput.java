package org.authhmac.protocol;

import java.util.Arrays;
import java.util.List;
import javax.crypto.Mac;

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
        return build(fields, pick(fields, signedHeaders), canon, signatureFieldWithEmptyB);
    }

    /** The same with the fields h= selects already picked ({@link FieldCounts#pick}). */
    static byte[] build(List<HeaderField> fields, int[] picked, Canonicalization canon, String signatureFieldWithEmptyB) {
        byte[] signature = latin1(signatureFieldWithEmptyB);
        int colon = signature == null ? -1 : indexOf(signature, (byte) ':');
        if (colon < 0) {
            return viaStrings(fields, picked, canon, signatureFieldWithEmptyB);
        }
        int nameEnd = colon;
        while (nameEnd > 0 && (signature[nameEnd - 1] == ' ' || signature[nameEnd - 1] == '\t')) {
            nameEnd--;
        }
        return build(fields, picked, canon, signature, colon, nameEnd);
    }

    /**
     * The same with the signature field (b= emptied) already as its raw bytes, its first colon at {@code colon} and
     * its name ending at {@code nameEnd} (WSP before the colon excluded), as {@link HeaderField} holds them.
     */
    static byte[] build(List<HeaderField> fields, int[] picked, Canonicalization canon,
                        byte[] signature, int colon, int nameEnd) {
        byte[] out = buffer(fields, picked, signature);
        int n = fill(out, fields, picked, canon, signature, colon, nameEnd);
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /**
     * The MAC of what {@link #build(List, int[], Canonicalization, byte[], int, int)} builds, from {@code mac} (fresh
     * from its key): the input is fed from the buffer it was built in, never copied to its final length.
     */
    static byte[] mac(Mac mac, List<HeaderField> fields, int[] picked, Canonicalization canon,
                      byte[] signature, int colon, int nameEnd) {
        byte[] out = buffer(fields, picked, signature);
        mac.update(out, 0, fill(out, fields, picked, canon, signature, colon, nameEnd));
        return mac.doFinal();
    }

    /** An array that holds the input before canonicalization, which only ever shortens it. */
    private static byte[] buffer(List<HeaderField> fields, int[] picked, byte[] signature) {
        // Canonicalizes straight from the bytes the message was read into, into one byte array: no String per field
        // (this runs once per signature on every message; bench/, docs/PERFORMANCE.md).
        int size = signature.length;
        for (int i : picked) {
            if (i >= 0) {
                size += fields.get(i).length() + 2;
            }
        }
        return new byte[size];
    }

    /** Canonicalizes the input into {@code out}; returns its length. */
    private static int fill(byte[] out, List<HeaderField> fields, int[] picked, Canonicalization canon,
                            byte[] signature, int colon, int nameEnd) {
        int n = 0;
        for (int i : picked) {
            if (i >= 0) {
                HeaderField f = fields.get(i);
                n = HeaderCanonicalizer.canonicalizeInto(canon, f.bytes(), f.start(), f.end(), f.colon(), f.nameEnd(), out, n);
                out[n++] = '\r';
                out[n++] = '\n';
            }
        }
        return HeaderCanonicalizer.canonicalizeInto(canon, signature, 0, signature.length, colon, nameEnd, out, n);
    }

    /**
     * For each name of h= (lower case), the index of the field it selects, or -1: bottom-up, the n-th mention of a
     * name selects the n-th instance counted from the bottom. Linear in the fields and in h=, whatever they hold
     * ({@link FieldCounts}).
     */
    static int[] pick(List<HeaderField> fields, List<String> signedHeaders) {
        return FieldCounts.of(fields).pick(signedHeaders);
    }

    /** The field as ISO-8859-1 bytes, or null when it holds a char above U+00FF (only a signer's own String can). */
    private static byte[] latin1(String field) {
        // Our own signature fields are ASCII: UTF-8 encoding of an ASCII String is a vectorised copy, and its length
        // tells whether every char was ASCII, without a charAt loop.
        byte[] ascii = field.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (ascii.length == field.length()) {
            return ascii;
        }
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
