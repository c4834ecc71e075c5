package org.authhmac.protocol;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How often each field name occurs in a header block, counted in one pass, and the coverage rule built on it
 * (docs/PROTOCOL.md 5.3): every field outside the ignore list must be listed in h= at least as often as it occurs.
 * A HashMap keyed by the lower-cased name keeps both linear: its bins turn into trees when names collide, so
 * names chosen for equal hash codes cannot make it quadratic.
 */
final class FieldCounts {
    /**
     * Fields that relays and receivers legitimately add after signing (trace fields, results, other signatures), in
     * lower case; the configured signature header name is ignored as well.
     */
    static final Set<String> IGNORED = Set.of("received", "return-path", "delivered-to", "authentication-results",
            "arc-seal", "arc-message-signature", "arc-authentication-results", "dkim-signature");

    private final Map<String, Integer> index;
    /** Lower-cased names in the order they first occur, and how often each occurs. */
    private final List<String> names;
    private final int[] counts;

    private FieldCounts(Map<String, Integer> index, List<String> names, int[] counts) {
        this.index = index;
        this.names = names;
        this.counts = counts;
    }

    static FieldCounts of(List<HeaderField> fields) {
        Map<String, Integer> index = new HashMap<>();
        List<String> names = new ArrayList<>();
        int[] counts = new int[fields.size()];
        for (HeaderField f : fields) {
            String name = f.lowerName();
            Integer i = index.putIfAbsent(name, names.size());
            if (i == null) {
                i = names.size();
                names.add(name);
            }
            counts[i]++;
        }
        return new FieldCounts(index, names, counts);
    }

    static boolean ignored(String lowerName, String signatureHeaderLower) {
        return IGNORED.contains(lowerName) || lowerName.equals(signatureHeaderLower);
    }

    /** How many fields carry this (lower-case) name. */
    int count(String lowerName) {
        Integer i = index.get(lowerName);
        return i == null ? 0 : counts[i];
    }

    /** Every lower-cased name present, in the order of its first occurrence. */
    List<String> names() {
        return names;
    }

    /**
     * A name outside the ignore list that occurs more often than {@code signedHeaders} lists it, or null when h=
     * covers every such field. Linear in the number of names plus the length of h=.
     */
    String uncovered(List<String> signedHeaders, String signatureHeaderLower) {
        int[] left = Arrays.copyOf(counts, names.size());
        for (String h : signedHeaders) {
            Integer i = index.get(h);
            if (i != null) {
                left[i]--;
            }
        }
        for (int i = 0; i < left.length; i++) {
            if (left[i] > 0 && !ignored(names.get(i), signatureHeaderLower)) {
                return names.get(i);
            }
        }
        return null;
    }
}
