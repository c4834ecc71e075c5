package org.authhmac.protocol;

import java.util.AbstractList;
import java.util.Locale;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * The names of h= as {@link #parse} read them: the h= value and the bounds of each name in it (checked: chars
 * 33-126, no ':'). Not a String per name: the verifier looks the names up on those chars
 * ({@link FieldCounts#find(java.util.List)}), and a String is made only when one is asked for. Immutable;
 * {@link #get} gives the name lower-cased, a new String each time.
 */
final class SignedHeaderNames extends AbstractList<String> implements RandomAccess {
    private final String value;
    private final int[] bounds;

    private SignedHeaderNames(String value, int[] bounds) {
        this.value = value;
        this.bounds = bounds;
    }

    /**
     * h=: names separated by ':', FWS allowed around each ':' only. The names are counted before any is looked at, so
     * that an over-long list costs one scan.
     */
    static SignedHeaderNames parse(String v) throws SignatureFormatException {
        int colons = 0;
        for (int i = v.indexOf(':'); i >= 0; i = v.indexOf(':', i + 1)) {
            if (++colons >= SignatureHeader.MAX_SIGNED_HEADERS) {
                throw TagValues.malformed("h= names more than " + SignatureHeader.MAX_SIGNED_HEADERS + " header fields");
            }
        }
        int[] bounds = new int[2 * (colons + 1)];
        int k = 0;
        boolean from = false;
        int start = 0;
        while (true) {
            int colon = v.indexOf(':', start);
            int end = colon < 0 ? v.length() : colon;
            int nameStart = start;
            int nameEnd = end;
            // TagList has checked that every line break in the value is folding (CRLF WSP).
            while (nameStart < nameEnd && TagValues.isFws(v.charAt(nameStart))) {
                nameStart++;
            }
            while (nameEnd > nameStart && TagValues.isFws(v.charAt(nameEnd - 1))) {
                nameEnd--;
            }
            if (nameEnd == nameStart) {
                throw TagValues.malformed("h= has an empty header name");
            }
            for (int i = nameStart; i < nameEnd; i++) {
                char ch = v.charAt(i);
                if (ch < 33 || ch > 126) {
                    // FWS included: it may stand around a ':' but not inside a name ("fr om").
                    throw TagValues.malformed("h= has a bad header name");
                }
            }
            from |= nameEnd - nameStart == 4 && (v.charAt(nameStart) | 0x20) == 'f' && (v.charAt(nameStart + 1) | 0x20) == 'r'
                    && (v.charAt(nameStart + 2) | 0x20) == 'o' && (v.charAt(nameStart + 3) | 0x20) == 'm';
            bounds[k++] = nameStart;
            bounds[k++] = nameEnd;
            if (colon < 0) {
                break;
            }
            start = colon + 1;
        }
        if (!from) {
            throw TagValues.malformed("h= does not include from");
        }
        return new SignedHeaderNames(v, bounds);
    }

    @Override
    public String get(int k) {
        Objects.checkIndex(k, size());
        return value.substring(bounds[2 * k], bounds[2 * k + 1]).toLowerCase(Locale.ROOT);
    }

    @Override
    public int size() {
        return bounds.length / 2;
    }

    /** The h= value the names are read from (case as written). */
    String value() {
        return value;
    }

    /** Where the k-th name starts in {@link #value()}. */
    int start(int k) {
        return bounds[2 * k];
    }

    /** Where the k-th name ends in {@link #value()}. */
    int end(int k) {
        return bounds[2 * k + 1];
    }
}
