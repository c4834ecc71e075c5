package org.authhmac.protocol;

import java.util.List;

/**
 * The names of a message's header fields by index, for the one pass that looks at every field ({@link FieldCounts}):
 * read straight from {@link RawMessage}'s arrays, without a {@link HeaderField} object per field and look, so that a
 * header block of a quarter of a million tiny fields costs no more per byte than a benign message
 * (docs/PERFORMANCE.md, "Adversarial inputs").
 */
interface FieldNames {
    int size();

    /** {@link NameHash} of the i-th field's lower-cased name. */
    int lowerNameHash(int i);

    /** {@link HeaderField#nameIs} of the i-th field. */
    boolean nameIs(int i, String lower);

    /** Whether the i-th and the j-th field have the same name, ignoring ASCII case. */
    boolean sameName(int i, int j);

    /** {@link HeaderField#nameKey} of the i-th field's name. */
    long nameKey(int i);

    /** The nearest field above the i-th with the same name, or -1, as {@link FieldCounts} found it. */
    int above(int i);

    /** Keeps what {@link #above(int)} answers for the i-th field. */
    void above(int i, int field);

    /** The fields grouped by name, when that was done as they were read; else null. */
    default FieldCounts counts() {
        return null;
    }

    /** The names of {@code fields}: RawMessage's own list is already a FieldNames; any other list is read through. */
    static FieldNames of(List<HeaderField> fields) {
        if (fields instanceof FieldNames names) {
            return names;
        }
        return new FieldNames() {
            private final int[] above = new int[fields.size()];

            @Override
            public int above(int i) {
                return above[i];
            }

            @Override
            public void above(int i, int field) {
                above[i] = field;
            }

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
            public long nameKey(int i) {
                HeaderField f = fields.get(i);
                return HeaderField.nameKey(f.bytes(), f.start(), f.nameEnd());
            }

            @Override
            public boolean sameName(int i, int j) {
                HeaderField a = fields.get(i);
                HeaderField b = fields.get(j);
                return HeaderField.sameName(a.bytes(), a.start(), a.nameEnd(), b.bytes(), b.start(), b.nameEnd());
            }
        };
    }
}
