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
        byte[] signature = latin1(signatureFieldWithEmptyB);
        int colon = signature == null ? -1 : indexOf(signature, (byte) ':');
        if (colon < 0) {
            return viaStrings(fields, pick(fields, signedHeaders), canon, signatureFieldWithEmptyB);
        }
        int nameEnd = colon;
        while (nameEnd > 0 && (signature[nameEnd - 1] == ' ' || signature[nameEnd - 1] == '\t')) {
            nameEnd--;
        }
        return build(fields, signedHeaders, canon, signature, colon, nameEnd);
    }

    /**
     * The same with the signature field (b= emptied) already as its raw bytes, its first colon at {@code colon} and
     * its name ending at {@code nameEnd} (WSP before the colon excluded), as {@link HeaderField} holds them.
     */
    static byte[] build(List<HeaderField> fields, List<String> signedHeaders, Canonicalization canon,
                        byte[] signature, int colon, int nameEnd) {
        // Picks instances with index cursors and canonicalizes straight from the bytes the message was read into,
        // into one byte array: no map of lists, no String per field (this runs once per signature on every
        // message; bench/, docs/PERFORMANCE.md).
        int[] picked = pick(fields, signedHeaders);
        int size = signature.length;
        for (int i : picked) {
            if (i >= 0) {
                size += fields.get(i).length() + 2;
            }
        }
        byte[] out = new byte[size];
        int n = 0;
        for (int i : picked) {
            if (i >= 0) {
                HeaderField f = fields.get(i);
                n = HeaderCanonicalizer.canonicalizeInto(canon, f.bytes(), f.start(), f.end(), f.colon(), f.nameEnd(), out, n);
                out[n++] = '\r';
                out[n++] = '\n';
            }
        }
        n = HeaderCanonicalizer.canonicalizeInto(canon, signature, 0, signature.length, colon, nameEnd, out, n);
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /**
     * For each name of h= (lower case), the index of the field it selects, or -1: bottom-up, the n-th mention of a
     * name selects the n-th instance counted from the bottom. Linear in the fields and in h=, whatever they hold: the
     * distinct names of h= are sorted once by (String.hashCode, name) and put in a table by hash; one pass over the
     * fields looks each up there and chains the instances of each name from the bottom up; then each mention takes
     * the next instance of its name. A field costs one probe of the table, usually one int compare: the table's slots
     * come from the hash through a multiplier drawn at random when the class loads, so that nobody can choose names
     * whose slots collide; names made to share one hash value sit in one slot, ordered by their text, and cost a
     * binary search, not a scan.
     */
    static int[] pick(List<HeaderField> fields, List<String> signedHeaders) {
        int hn = signedHeaders.size();
        int[] picked = new int[hn];
        if (hn == 0) {
            return picked;
        }
        // (hash, position in h=), sorted: mentions of one name become neighbours.
        long[] order = new long[hn];
        for (int k = 0; k < hn; k++) {
            order[k] = ((long) signedHeaders.get(k).hashCode() << 32) | k;
        }
        Arrays.sort(order);
        sortCollisionsByName(order, signedHeaders);
        int[] distinctOf = new int[hn];
        int[] hashes = new int[hn];
        String[] names = new String[hn];
        int distinct = 0;
        for (int o = 0; o < hn; o++) {
            int k = (int) order[o];
            String name = signedHeaders.get(k);
            int h = (int) (order[o] >> 32);
            if (distinct == 0 || hashes[distinct - 1] != h || !names[distinct - 1].equals(name)) {
                hashes[distinct] = h;
                names[distinct] = name;
                distinct++;
            }
            distinctOf[k] = distinct - 1;
        }
        // Open addressing over the distinct hash values, at most half full: slot -> first distinct name of that hash.
        int bits = Math.max(3, 33 - Integer.numberOfLeadingZeros(distinct));
        int mask = (1 << bits) - 1;
        int[] slots = new int[1 << bits];
        Arrays.fill(slots, -1);
        int[] runEnd = new int[distinct];
        for (int d = distinct - 1; d >= 0; d--) {
            runEnd[d] = d + 1 < distinct && hashes[d + 1] == hashes[d] ? runEnd[d + 1] : d + 1;
        }
        for (int d = 0; d < distinct; d++) {
            if (d == 0 || hashes[d] != hashes[d - 1]) {
                int at = (hashes[d] * SLOT_MULTIPLIER) >>> (32 - bits);
                while (slots[at] >= 0) {
                    at = (at + 1) & mask;
                }
                slots[at] = d;
            }
        }
        // Instances of each distinct name, chained from the bottom up: head[d] is the bottom-most, next[i] the one above i.
        int[] head = new int[distinct];
        Arrays.fill(head, -1);
        FieldNames fieldNames = FieldNames.of(fields);
        int fn = fieldNames.size();
        int[] next = new int[fn];
        for (int i = 0; i < fn; i++) {
            int d = find(fieldNames, i, slots, bits, hashes, runEnd, names);
            if (d >= 0) {
                next[i] = head[d];
                head[d] = i;
            }
        }
        for (int k = 0; k < hn; k++) {
            int d = distinctOf[k];
            int i = head[d];
            // -1: a mention beyond the last instance adds nothing; that is what makes oversigning work.
            picked[k] = i;
            if (i >= 0) {
                head[d] = next[i];
            }
        }
        return picked;
    }

    /**
     * Orders each run of equal hashes in {@code order} by name, then position. Such runs hold one name repeated (an
     * oversigned name), except when names were made to collide: only then is anything sorted here.
     */
    private static void sortCollisionsByName(long[] order, List<String> signedHeaders) {
        int run = 0;
        for (int o = 1; o <= order.length; o++) {
            if (o < order.length && (order[o] >> 32) == (order[run] >> 32)) {
                continue;
            }
            boolean oneName = true;
            String first = signedHeaders.get((int) order[run]);
            for (int r = run + 1; r < o && oneName; r++) {
                oneName = signedHeaders.get((int) order[r]).equals(first);
            }
            if (!oneName) {
                Long[] sub = new Long[o - run];
                for (int r = run; r < o; r++) {
                    sub[r - run] = order[r];
                }
                Arrays.sort(sub, (a, b) -> {
                    int c = signedHeaders.get((int) (long) a).compareTo(signedHeaders.get((int) (long) b));
                    return c != 0 ? c : Long.compare(a, b);
                });
                for (int r = run; r < o; r++) {
                    order[r] = sub[r - run];
                }
            }
            run = o;
        }
    }

    /** Odd, drawn once per JVM: slot = (hash * multiplier) >>> (32 - bits), multiplicative hashing. */
    private static final int SLOT_MULTIPLIER = new java.security.SecureRandom().nextInt() | 1;

    /** The distinct name the field carries, -1 when h= does not name it: one probe, then (hash, name) in the slot. */
    private static int find(FieldNames f, int field, int[] slots, int bits, int[] hashes, int[] runEnd, String[] names) {
        int h = f.lowerNameHash(field);
        int mask = (1 << bits) - 1;
        int at = (h * SLOT_MULTIPLIER) >>> (32 - bits);
        int d;
        while ((d = slots[at]) >= 0 && hashes[d] != h) {
            at = (at + 1) & mask;
        }
        if (d < 0) {
            return -1;
        }
        // The names of this hash are names[d, runEnd[d]), sorted: usually one.
        int lo = d;
        int hi = runEnd[d] - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = f.compareLowerName(field, names[mid]);
            if (c == 0) {
                return mid;
            }
            if (c < 0) {
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        return -1;
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
