package org.authhmac.protocol;

import java.util.List;

/**
 * The names of a message's header fields by index, for the loops that look at every field (counting, h= selection,
 * finding the signature fields): read straight from {@link RawMessage}'s arrays, without a {@link HeaderField} object
 * per field and look, so that a header block of a quarter of a million tiny fields costs no more per byte than a
 * benign message (docs/PERFORMANCE.md, "Adversarial inputs").
 */
interface FieldNames {
    int size();

    /** String.hashCode of the i-th field's lower-cased name. */
    int lowerNameHash(int i);

    /** {@link HeaderField#nameIs} of the i-th field. */
    boolean nameIs(int i, String lower);

    /** {@link HeaderField#compareLowerName} of the i-th field. */
    int compareLowerName(int i, String lower);

    /** The names of {@code fields}: RawMessage's own list is already a FieldNames; any other list is read through. */
    static FieldNames of(List<HeaderField> fields) {
        if (fields instanceof FieldNames names) {
            return names;
        }
        return new FieldNames() {
            @Override
            public int size() {
                return fields.size();
            }

            @Override
            public int lowerNameHash(int i) {
                return fields.get(i).lowerNameHash();
            }

            @Override
            public boolean nameIs(int i, String lower) {
                return fields.get(i).nameIs(lower);
            }

            @Override
            public int compareLowerName(int i, String lower) {
                return fields.get(i).compareLowerName(lower);
            }
        };
    }

    /** How many fields carry each of {@code lowerNames}, in one pass; a name test is usually one int compare. */
    static int[] count(List<HeaderField> fields, String[] lowerNames) {
        FieldNames names = of(fields);
        int[] hashes = new int[lowerNames.length];
        for (int k = 0; k < lowerNames.length; k++) {
            hashes[k] = lowerNames[k].hashCode();
        }
        int[] counts = new int[lowerNames.length];
        int n = names.size();
        for (int i = 0; i < n; i++) {
            int h = names.lowerNameHash(i);
            for (int k = 0; k < hashes.length; k++) {
                if (hashes[k] == h && names.nameIs(i, lowerNames[k])) {
                    counts[k]++;
                }
            }
        }
        return counts;
    }
}
