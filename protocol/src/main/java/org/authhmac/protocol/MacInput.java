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
        return mac(mac, fields, picked, canon, signature, colon, nameEnd, null);
    }

    /**
     * The same, taking the relaxed form of a field from {@code shared} when an earlier signature of the same message
     * made it (null: none kept), and keeping those it makes there: several signatures whose h= pick the same large
     * fields canonicalize each field once (docs/PERFORMANCE.md, "Adversarial inputs").
     */
    static byte[] mac(Mac mac, List<HeaderField> fields, int[] picked, Canonicalization canon,
                      byte[] signature, int colon, int nameEnd, Canonicalized shared) {
        byte[] out = buffer(fields, picked, signature);
        int n = canon == Canonicalization.RELAXED && shared != null
                ? fillShared(out, fields, picked, signature, colon, nameEnd, shared)
                : fill(out, fields, picked, canon, signature, colon, nameEnd);
        mac.update(out, 0, n);
        return mac.doFinal();
    }

    /**
     * The relaxed forms of fields made for the signatures of one message, each kept in the buffer it was made in
     * (which nothing changes afterwards). The index by field is built when a second signature asks, so that a message
     * with one signature costs nothing more. Not thread-safe: one per verification.
     */
    static final class Canonicalized {
        private final int fieldCount;
        private final List<byte[]> buffers = new java.util.ArrayList<>();
        private final List<int[]> pickedBy = new java.util.ArrayList<>();
        private final List<int[]> startsBy = new java.util.ArrayList<>();
        private int indexed;
        /** Per field: the buffer holding its relaxed form + 1 (0: none yet), where it starts, where it ends. */
        private int[] buffer;
        private int[] start;
        private int[] end;

        Canonicalized(int fieldCount) {
            this.fieldCount = fieldCount;
        }

        /** Indexes what the signatures before the current one made; the first signature indexes nothing. */
        private void index() {
            if (buffers.isEmpty() || indexed == buffers.size()) {
                return;
            }
            if (buffer == null) {
                buffer = new int[fieldCount];
                start = new int[fieldCount];
                end = new int[fieldCount];
            }
            for (int b = indexed; b < buffers.size(); b++) {
                int[] picked = pickedBy.get(b);
                int[] starts = startsBy.get(b);
                for (int k = 0; k < picked.length; k++) {
                    int i = picked[k];
                    if (i >= 0 && buffer[i] == 0) {
                        buffer[i] = b + 1;
                        start[i] = starts[2 * k];
                        end[i] = starts[2 * k + 1];
                    }
                }
            }
            indexed = buffers.size();
        }

        private void made(byte[] out, int[] picked, int[] starts) {
            buffers.add(out);
            pickedBy.add(picked);
            startsBy.add(starts);
        }
    }

    /** {@link #fill} for relaxed canonicalization, copying the fields {@code shared} holds. */
    private static int fillShared(byte[] out, List<HeaderField> fields, int[] picked,
                                  byte[] signature, int colon, int nameEnd, Canonicalized shared) {
        shared.index();
        int[] starts = new int[2 * picked.length];
        int n = 0;
        for (int k = 0; k < picked.length; k++) {
            int i = picked[k];
            if (i >= 0) {
                int from = n;
                if (shared.buffer != null && shared.buffer[i] != 0) {
                    int len = shared.end[i] - shared.start[i];
                    System.arraycopy(shared.buffers.get(shared.buffer[i] - 1), shared.start[i], out, n, len);
                    n += len;
                } else {
                    HeaderField f = fields.get(i);
                    n = HeaderCanonicalizer.canonicalizeInto(Canonicalization.RELAXED, f.bytes(), f.start(), f.end(),
                            f.colon(), f.nameEnd(), out, n);
                }
                starts[2 * k] = from;
                starts[2 * k + 1] = n;
                out[n++] = '\r';
                out[n++] = '\n';
            }
        }
        shared.made(out, picked, starts);
        return HeaderCanonicalizer.canonicalizeInto(Canonicalization.RELAXED, signature, 0, signature.length, colon,
                nameEnd, out, n);
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
