package org.authhmac.protocol;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;
import java.util.Set;

/**
 * The header fields of one message grouped by name, in one pass over the fields, and everything the signer and the
 * verifier ask of them: how often each name occurs, the fields of one name (top-most first, or bottom-up for h=
 * selection), and the coverage rule (docs/PROTOCOL.md 5.3: every field outside the ignore list must be listed in h=
 * at least as often as it occurs).
 *
 * <p>Linear in the fields and in h=, whatever they hold, and without a String or an object per field: names are
 * compared on the message's bytes and numbered in the order they first occur, through an open-addressing table keyed
 * by {@link NameHash}, which is seeded per JVM so that names cannot be chosen to share a slot (a field costs one probe,
 * usually one int compare and one name compare). Each field is chained to the one above it of the same name, so that
 * h= selection, the signature fields and the From field are read from the chains, not from another pass.
 */
final class FieldCounts {
    /**
     * Fields that relays and receivers legitimately add after signing (trace fields, results, other signatures), in
     * lower case; the configured signature header name is ignored as well.
     */
    static final Set<String> IGNORED = Set.of("received", "return-path", "delivered-to", "authentication-results",
            "arc-seal", "arc-message-signature", "arc-authentication-results", "dkim-signature");

    private final List<HeaderField> fields;
    /** The names, and for each field the nearest field above it with the same name ({@link FieldNames#above}). */
    private final FieldNames names;
    /** Distinct names, numbered from 0 in the order they first occur. */
    private int distinct;
    /**
     * Per distinct name: its hash, its {@link HeaderField#nameKey} (0 for a name longer than eight octets), its top-most
     * and its bottom-most field, how many fields carry it.
     */
    private int[] hash = new int[8];
    private long[] keys = new long[8];
    private int[] top = new int[8];
    private int[] bottom = new int[8];
    private int[] count = new int[8];
    /** Open addressing over the distinct names, at most half full: a slot holds a distinct name + 1, or 0. */
    private int[] slots = new int[16];
    private int bits = 4;
    /** Per-call scratch for {@link #pick} and {@link #uncovered}: stamp[d] == epoch marks d as met in this call. */
    private int[] stamp;
    private int[] scratch;
    private int epoch;
    /** The ignored names present, for the signature header name they were looked up with. */
    private String ignoredFor;
    private int[] ignoredIds;

    /** Empty: {@link #add} each field, top-most first. */
    FieldCounts(List<HeaderField> fields, FieldNames names) {
        this.fields = fields;
        this.names = names;
    }

    /** The hash and the distinct name of the field added last: runs of one name cost no probe. */
    private int lastHash;
    private int last = -1;

    /**
     * Counts field {@code i} (the next one down, whose name has the hash {@code h} and the {@link HeaderField#nameKey}
     * {@code key}) and returns the nearest field above it with the same name, or -1, for the caller to keep as
     * {@link FieldNames#above}. Names of up to eight octets are compared by their keys, longer ones octet by octet.
     */
    int add(int i, int h, long key) {
        int d;
        if (last >= 0 && h == lastHash && key == keys[last] && (key != 0 || names.sameName(i, top[last]))) {
            d = last;
        } else {
            d = probe(i, h, key);
            lastHash = h;
            last = d;
        }
        int above = bottom[d];
        bottom[d] = i;
        count[d]++;
        return above;
    }

    /** The distinct name of field {@code i}, whose name has the hash {@code h}; numbered anew when it is the first. */
    private int probe(int i, int h, long key) {
        int mask = slots.length - 1;
        int at = h >>> (32 - bits);
        int d;
        while (true) {
            int s = slots[at];
            if (s == 0) {
                d = newName(h, key, i, at);
                break;
            }
            d = s - 1;
            if (hash[d] == h && key == keys[d] && (key != 0 || names.sameName(i, top[d]))) {
                break;
            }
            at = (at + 1) & mask;
        }
        return d;
    }

    /** The fields grouped by name: RawMessage's own list groups them as it reads them; any other list is read here. */
    static FieldCounts of(List<HeaderField> fields) {
        FieldNames names = FieldNames.of(fields);
        FieldCounts counts = names.counts();
        return counts != null ? counts : of(fields, names);
    }

    /** The same, reading the names through {@code names} (which must be those of {@code fields}). */
    static FieldCounts of(List<HeaderField> fields, FieldNames names) {
        FieldCounts counts = new FieldCounts(fields, names);
        int n = names.size();
        for (int i = 0; i < n; i++) {
            names.above(i, counts.add(i, names.lowerNameHash(i), names.nameKey(i)));
        }
        return counts;
    }

    private int newName(int h, long key, int field, int slot) {
        int d = distinct++;
        if (d == hash.length) {
            hash = Arrays.copyOf(hash, 2 * d);
            keys = Arrays.copyOf(keys, 2 * d);
            top = Arrays.copyOf(top, 2 * d);
            bottom = Arrays.copyOf(bottom, 2 * d);
            count = Arrays.copyOf(count, 2 * d);
        }
        hash[d] = h;
        keys[d] = key;
        top[d] = field;
        bottom[d] = -1;
        count[d] = 0;
        slots[slot] = d + 1;
        if (2 * distinct > slots.length) {
            bits++;
            slots = new int[1 << bits];
            int mask = slots.length - 1;
            for (int e = 0; e < distinct; e++) {
                int at = hash[e] >>> (32 - bits);
                while (slots[at] != 0) {
                    at = (at + 1) & mask;
                }
                slots[at] = e + 1;
            }
        }
        return d;
    }

    /** The number of the distinct name {@code lower} (lower case), or -1 when no field carries it. */
    int find(String lower) {
        long key = NameHash.key(lower);
        // A name of one chunk hashes to the multiply-shift of its coefficient, which is its key.
        int h = key != 0 ? NameHash.end(key) : NameHash.of(lower);
        int mask = slots.length - 1;
        int at = h >>> (32 - bits);
        int s;
        while ((s = slots[at]) != 0) {
            int d = s - 1;
            if (hash[d] == h && key == keys[d] && (key != 0 || names.nameIs(top[d], lower))) {
                return d;
            }
            at = (at + 1) & mask;
        }
        return -1;
    }

    /**
     * {@link #find} of every name of {@code lowerNames}, in order. The names of a parsed h=
     * ({@link SignedHeaderNames}) are looked up on the chars of the h= value, without a String per name.
     */
    int[] find(List<String> lowerNames) {
        if (lowerNames instanceof SignedHeaderNames h) {
            int[] ids = new int[h.size()];
            String v = h.value();
            for (int k = 0; k < ids.length; k++) {
                ids[k] = find(v, h.start(k), h.end(k));
            }
            return ids;
        }
        return findEach(lowerNames);
    }

    /** {@link #find(String)} of each name in turn: the plain definition of {@link #find(List)}. */
    int[] findEach(List<String> lowerNames) {
        int[] ids = new int[lowerNames.size()];
        for (int k = 0; k < ids.length; k++) {
            ids[k] = find(lowerNames.get(k));
        }
        return ids;
    }

    /**
     * {@link #find(String)} of {@code v.substring(from, to)} lower-cased, which must be a name of chars 33-126 (h=
     * holds only such): key and hash computed on the chars, a String made only for a name longer than eight chars
     * whose hash and key match a field's.
     */
    private int find(String v, int from, int to) {
        long acc = 0;
        long chunk = 0;
        int inChunk = 0;
        int chunks = 0;
        for (int i = from; i < to; i++) {
            int c = v.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            chunk |= (long) (c & 0x7F) << (8 * inChunk);
            if (++inChunk == NameHash.CHUNK || i == to - 1) {
                acc = chunks++ == 0 ? NameHash.coefficient(chunk) : NameHash.add(acc, NameHash.coefficient(chunk));
                chunk = 0;
                inChunk = 0;
            }
        }
        // A name of one chunk: its key is that chunk's coefficient (NameHash.key), and its hash the key's end.
        long key = to - from <= NameHash.CHUNK ? acc : 0;
        int h = NameHash.end(acc);
        int mask = slots.length - 1;
        int at = h >>> (32 - bits);
        int s;
        while ((s = slots[at]) != 0) {
            int d = s - 1;
            if (hash[d] == h && key == keys[d]
                    && (key != 0 || names.nameIs(top[d], v.substring(from, to).toLowerCase(java.util.Locale.ROOT)))) {
                return d;
            }
            at = (at + 1) & mask;
        }
        return -1;
    }

    static boolean ignored(String lowerName, String signatureHeaderLower) {
        return IGNORED.contains(lowerName) || lowerName.equals(signatureHeaderLower);
    }

    /** How many fields carry this (lower-case) name. */
    int count(String lowerName) {
        int d = find(lowerName);
        return d < 0 ? 0 : count[d];
    }

    /** The index of the top-most field of this (lower-case) name, or -1 when there is none. */
    int first(String lowerName) {
        int d = find(lowerName);
        return d < 0 ? -1 : top[d];
    }

    /** The indexes of the top-most {@code max} fields of this (lower-case) name, top-most first. */
    int[] topMost(String lowerName, int max) {
        int d = find(lowerName);
        if (d < 0) {
            return new int[0];
        }
        int c = count[d];
        int[] out = new int[Math.min(c, max)];
        int i = bottom[d];
        for (int skip = c - out.length; skip > 0; skip--) {
            i = names.above(i);
        }
        for (int k = out.length - 1; k >= 0; k--) {
            out[k] = i;
            i = names.above(i);
        }
        return out;
    }

    /** Every lower-cased name present, in the order of its first occurrence (each String made when asked for). */
    List<String> names() {
        return new Names();
    }

    private final class Names extends AbstractList<String> implements RandomAccess {
        @Override
        public String get(int d) {
            java.util.Objects.checkIndex(d, distinct);
            return fields.get(top[d]).lowerName();
        }

        @Override
        public int size() {
            return distinct;
        }
    }

    /**
     * For each name of h= (lower case), the index of the field it selects, or -1: bottom-up, the n-th mention of a
     * name selects the n-th instance counted from the bottom (docs/PROTOCOL.md 5.1).
     */
    int[] pick(List<String> signedHeaders) {
        return pick(find(signedHeaders));
    }

    /** The same for h= given as {@link #find(List)} numbered it. */
    int[] pick(int[] signedIds) {
        int[] picked = new int[signedIds.length];
        nextEpoch();
        for (int k = 0; k < signedIds.length; k++) {
            int d = signedIds[k];
            if (d < 0) {
                picked[k] = -1;
                continue;
            }
            int i = stamp[d] == epoch ? scratch[d] : bottom[d];
            stamp[d] = epoch;
            // -1: a mention beyond the last instance adds nothing; that is what makes oversigning work.
            picked[k] = i;
            scratch[d] = i >= 0 ? names.above(i) : -1;
        }
        return picked;
    }

    /**
     * A name outside the ignore list that occurs more often than {@code signedHeaders} lists it (the first such in the
     * order of first occurrence), or null when h= covers every such field.
     */
    String uncovered(List<String> signedHeaders, String signatureHeaderLower) {
        return uncovered(find(signedHeaders), signatureHeaderLower);
    }

    /**
     * The same for h= given as {@link #find(List)} numbered it. Linear in h=: only the names h= mentions, the ignored
     * ones and the first name neither mentions nor ignores are looked at.
     */
    String uncovered(int[] signedIds, String signatureHeaderLower) {
        int[] ignoredHere = ignoredIds(signatureHeaderLower);
        nextEpoch();
        for (int d : signedIds) {
            if (d >= 0) {
                scratch[d] = stamp[d] == epoch ? scratch[d] + 1 : 1;
                stamp[d] = epoch;
            }
        }
        int first = distinct;
        for (int d : signedIds) {
            if (d >= 0 && d < first && count[d] > scratch[d] && !contains(ignoredHere, d)) {
                first = d;
            }
        }
        // A name h= does not mention at all: every name before the first one is mentioned or ignored, so this loop
        // stops within (distinct names of h=) + (ignored names) + 1 steps.
        for (int d = 0; d < first; d++) {
            if (stamp[d] != epoch && !contains(ignoredHere, d)) {
                first = d;
                break;
            }
        }
        return first < distinct ? fields.get(top[first]).lowerName() : null;
    }

    private int[] ignoredIds(String signatureHeaderLower) {
        if (ignoredIds == null || !signatureHeaderLower.equals(ignoredFor)) {
            int[] ids = new int[IGNORED.size() + 1];
            int n = 0;
            for (String name : IGNORED) {
                int d = find(name);
                if (d >= 0) {
                    ids[n++] = d;
                }
            }
            int d = find(signatureHeaderLower);
            if (d >= 0) {
                ids[n++] = d;
            }
            ignoredIds = Arrays.copyOf(ids, n);
            ignoredFor = signatureHeaderLower;
        }
        return ignoredIds;
    }

    private static boolean contains(int[] ids, int d) {
        for (int id : ids) {
            if (id == d) {
                return true;
            }
        }
        return false;
    }

    private void nextEpoch() {
        if (stamp == null || stamp.length < distinct) {
            stamp = new int[Math.max(distinct, 1)];
            scratch = new int[stamp.length];
            epoch = 0;
        }
        epoch++;
    }
}
