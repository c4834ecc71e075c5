package org.authhmac.protocol;

import java.nio.charset.StandardCharsets;

/**
 * One header field exactly as it appears in the message: {@link #raw()} is the whole field (name, colon, value,
 * folding line breaks as CRLF) without its final CRLF. Kept as a range of the bytes {@link RawMessage} read, so
 * that signing and verifying canonicalize straight from them; Strings (one char per byte, ISO-8859-1, so 8-bit
 * header content passes through unchanged) are made only when asked for. Names are matched against h= and the
 * configured signature header name case-insensitively, through {@link #nameIs}.
 */
final class HeaderField {
    private final byte[] bytes;
    private final int start;
    private final int end;
    private final int colon;
    private final int nameEnd;
    /** {@link NameHash} of the lower-cased name, so that a name test usually costs one int compare. */
    private final int lowerNameHash;
    private String raw;
    private String lowerName;

    private HeaderField(byte[] bytes, int start, int end, int colon, int nameEnd, int lowerNameHash) {
        this.bytes = bytes;
        this.start = start;
        this.end = end;
        this.colon = colon;
        this.nameEnd = nameEnd;
        this.lowerNameHash = lowerNameHash;
    }

    /**
     * The field in {@code bytes[start, end)}, which must already be in raw form (line breaks CRLF). The array is
     * shared, not copied: nothing may change it afterwards.
     */
    static HeaderField parse(byte[] bytes, int start, int end) throws MalformedMessageException {
        int[] scanned = new int[3];
        scan(bytes, start, end, scanned, 0);
        return new HeaderField(bytes, start, end, scanned[0], scanned[1], scanned[2]);
    }

    /** A field {@link #scan} has checked, from what it found. */
    static HeaderField of(byte[] bytes, int start, int end, int colon, int nameEnd, int lowerNameHash) {
        return new HeaderField(bytes, start, end, colon, nameEnd, lowerNameHash);
    }

    /**
     * Checks the field in {@code bytes[start, end)} (raw form) and writes the index of its first colon, the end of its
     * name and the {@link NameHash} of its lower-cased name to {@code out[at]}, {@code out[at + 1]}, {@code out[at + 2]}.
     */
    static void scan(byte[] bytes, int start, int end, int[] out, int at) throws MalformedMessageException {
        int colon = start;
        while (colon < end && bytes[colon] != ':') {
            colon++;
        }
        if (colon == end || colon == start) {
            throw new MalformedMessageException("header line without a field name and colon");
        }
        int nameEnd = colon;
        while (nameEnd > start && (bytes[nameEnd - 1] == ' ' || bytes[nameEnd - 1] == '\t')) {
            nameEnd--;
        }
        if (nameEnd == start) {
            throw new MalformedMessageException("header field with an empty name");
        }
        long acc = NameHash.begin(nameEnd - start);
        long chunk = 0;
        int inChunk = 0;
        for (int i = start; i < nameEnd; i++) {
            int c = bytes[i] & 0xFF;
            if (c < 33 || c > 126) {
                throw new MalformedMessageException("header field name with a character outside %d33-126");
            }
            chunk = chunk << 8 | lower(c);
            if (++inChunk == 7) {
                acc = NameHash.add(acc, chunk);
                chunk = 0;
                inChunk = 0;
            }
        }
        if (inChunk > 0) {
            acc = NameHash.add(acc, chunk);
        }
        out[at] = colon;
        out[at + 1] = nameEnd;
        out[at + 2] = NameHash.end(acc);
    }

    /** The same from a String holding one char per byte. */
    static HeaderField parse(String raw) throws MalformedMessageException {
        byte[] b = RawMessage.bytes(raw);
        return parse(b, 0, b.length);
    }

    private static int lower(int c) {
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    }

    /** {@link NameHash} of {@link #lowerName()}, without making it. */
    int lowerNameHash() {
        return lowerNameHash;
    }

    /** Whether the name, lower-cased, equals {@code lower} (which the caller has lower-cased). */
    boolean nameIs(String lower) {
        return nameIs(bytes, start, nameEnd, lower);
    }

    /** The same for a name held in {@code bytes[start, nameEnd)}. */
    static boolean nameIs(byte[] bytes, int start, int nameEnd, String lower) {
        int len = nameEnd - start;
        if (lower.length() != len) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (lower(bytes[start + i] & 0xFF) != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Whether the names in {@code a[aStart, aEnd)} and {@code b[bStart, bEnd)} are equal ignoring ASCII case. */
    static boolean sameName(byte[] a, int aStart, int aEnd, byte[] b, int bStart, int bEnd) {
        int len = aEnd - aStart;
        if (bEnd - bStart != len) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            byte x = a[aStart + i];
            byte y = b[bStart + i];
            if (x != y && lower(x & 0xFF) != lower(y & 0xFF)) {
                return false;
            }
        }
        return true;
    }

    String name() {
        return new String(bytes, start, nameEnd - start, StandardCharsets.ISO_8859_1);
    }

    /** The name lower-cased (field names are ASCII), for matching against h= and the signature header name. */
    String lowerName() {
        String l = lowerName;
        if (l == null) {
            byte[] b = new byte[nameEnd - start];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) lower(bytes[start + i] & 0xFF);
            }
            l = new String(b, StandardCharsets.ISO_8859_1);
            lowerName = l;
        }
        return l;
    }

    String raw() {
        String r = raw;
        if (r == null) {
            r = new String(bytes, start, end - start, StandardCharsets.ISO_8859_1);
            raw = r;
        }
        return r;
    }

    /** Everything after the first colon, unchanged. */
    String value() {
        return new String(bytes, colon + 1, end - colon - 1, StandardCharsets.ISO_8859_1);
    }

    /** The array holding the raw field; see {@link #start()} and {@link #end()}. */
    byte[] bytes() {
        return bytes;
    }

    int start() {
        return start;
    }

    int end() {
        return end;
    }

    /** Index in {@link #bytes()} of the first colon. */
    int colon() {
        return colon;
    }

    /** Index in {@link #bytes()} just after the name (WSP before the colon excluded). */
    int nameEnd() {
        return nameEnd;
    }

    int length() {
        return end - start;
    }

    @Override
    public String toString() {
        return "HeaderField[" + raw() + "]";
    }
}
