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
    /** {@link NameHash} of the lower-cased name, computed when first asked for ({@link #lowerNameHash}). */
    private int lowerNameHash;
    private boolean hashed;
    private String raw;
    private String lowerName;

    private HeaderField(byte[] bytes, int start, int end, int colon, int nameEnd) {
        this.bytes = bytes;
        this.start = start;
        this.end = end;
        this.colon = colon;
        this.nameEnd = nameEnd;
    }

    /**
     * The field in {@code bytes[start, end)}, which must already be in raw form (line breaks CRLF). The array is
     * shared, not copied: nothing may change it afterwards.
     */
    static HeaderField parse(byte[] bytes, int start, int end) throws MalformedMessageException {
        int[] scanned = new int[3];
        scan(bytes, start, end, scanned, 0);
        HeaderField f = new HeaderField(bytes, start, end, scanned[0], scanned[1]);
        f.lowerNameHash = scanned[2];
        f.hashed = true;
        return f;
    }

    /** A field {@link #scan} has checked, from what it found. */
    static HeaderField of(byte[] bytes, int start, int end, int colon, int nameEnd) {
        return new HeaderField(bytes, start, end, colon, nameEnd);
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
        long acc = 0;
        long chunk = 0;
        int inChunk = 0;
        int chunks = 0;
        for (int i = start; i < nameEnd; i++) {
            int c = bytes[i] & 0xFF;
            if (c < 33 || c > 126) {
                throw new MalformedMessageException("header field name with a character outside %d33-126");
            }
            chunk |= (long) lower(c) << (8 * inChunk);
            if (++inChunk == NameHash.CHUNK) {
                acc = chunks++ == 0 ? NameHash.coefficient(chunk) : NameHash.add(acc, NameHash.coefficient(chunk));
                chunk = 0;
                inChunk = 0;
            }
        }
        if (inChunk > 0) {
            acc = chunks++ == 0 ? NameHash.coefficient(chunk) : NameHash.add(acc, NameHash.coefficient(chunk));
        }
        out[at] = colon;
        out[at + 1] = nameEnd;
        out[at + 2] = NameHash.end(acc);
    }

    /**
     * The name of a field whose first line starts at {@code bytes[start]}, read up to its colon, for {@link RawMessage}
     * to skip those octets when it looks for the line's end: when the line holds a name of octets 33-126 but ':',
     * optionally WSP, then a colon, all before {@code limit}, writes the colon's index, the end of the name and the
     * name's {@link NameHash} to {@code out[0..2]} (what {@link #scan} would find for the field) and its
     * {@link #nameKey} to {@code out[3..4]} (low, high half), and returns true.
     * Anything else returns false, and {@link #scan} then reads the whole field and says what is wrong with it.
     */
    static boolean scanName(byte[] bytes, int start, int limit, int[] out) {
        long acc = 0;
        int chunks = 0;
        int i = start;
        // Eight octets at a time while they are there: find the first that ends the name (':', or outside 33-126),
        // lower-case and hash those before it. Only the lowest flag of each test below is exact (a borrow or carry
        // can flag octets above it), and the lowest one is all that is used.
        while (i + 8 <= limit) {
            long w = (long) LONGS.get(bytes, i);
            long colon = w ^ (':' * ONES);
            long stop = ((w - 33 * ONES) & ~w | (w + ONES) | w | (colon - ONES) & ~colon) & HIGHS;
            if (stop == 0) {
                long chunk = NameHash.coefficient(lower8(w));
                acc = chunks++ == 0 ? chunk : NameHash.add(acc, chunk);
                i += 8;
                continue;
            }
            int k = Long.numberOfTrailingZeros(stop) >>> 3;
            if (k > 0) {
                long chunk = NameHash.coefficient(lower8(w & ((1L << (8 * k)) - 1)));
                acc = chunks++ == 0 ? chunk : NameHash.add(acc, chunk);
            }
            if (k > 0 || i > start) {
                int at = i + k;
                if (bytes[at] == ':') {
                    // The usual end: the colon right after the name.
                    out[0] = at;
                    out[1] = at;
                    named(acc, chunks, out);
                    return true;
                }
                return nameEnds(bytes, at, limit, acc, chunks, out);
            }
            return false;
        }
        long chunk = 0;
        int inChunk = 0;
        for (; i < limit; i++) {
            int c = bytes[i];
            if (c == ':' || c < 33 || c > 126) {
                break;
            }
            chunk |= (long) lower(c) << (8 * inChunk);
            inChunk++;
        }
        if (inChunk > 0) {
            acc = chunks++ == 0 ? NameHash.coefficient(chunk) : NameHash.add(acc, NameHash.coefficient(chunk));
        }
        return i > start && nameEnds(bytes, i, limit, acc, chunks, out);
    }

    /** {@link #scanName} after the name, which ends at {@code nameEnd}: optional WSP, then the colon. */
    private static boolean nameEnds(byte[] bytes, int nameEnd, int limit, long acc, int chunks, int[] out) {
        int i = nameEnd;
        while (i < limit && (bytes[i] == ' ' || bytes[i] == '\t')) {
            i++;
        }
        if (i == limit || bytes[i] != ':') {
            return false;
        }
        out[0] = i;
        out[1] = nameEnd;
        named(acc, chunks, out);
        return true;
    }

    /** The hash and the key of a name read in {@code chunks} chunks into {@code acc}, to {@code out[2..4]}. */
    private static void named(long acc, int chunks, int[] out) {
        out[2] = NameHash.end(acc);
        // One chunk: the accumulator is the chunk's coefficient, the name's key.
        long key = chunks == 1 ? acc : 0;
        out[3] = (int) key;
        out[4] = (int) (key >>> 32);
    }

    /**
     * A name of at most eight octets in {@code bytes[start, nameEnd)} (checked: 33-126) as one number, equal for two
     * names exactly when they are equal ignoring ASCII case ({@link NameHash#coefficient} of the lower-cased octets);
     * 0 for a longer name. Comparing two of them replaces comparing the names.
     */
    static long nameKey(byte[] bytes, int start, int nameEnd) {
        int len = nameEnd - start;
        if (len > NameHash.CHUNK) {
            return 0;
        }
        long w = 0;
        for (int i = 0; i < len; i++) {
            w |= (long) lower(bytes[start + i] & 0xFF) << (8 * i);
        }
        return NameHash.coefficient(w);
    }

    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /** ASCII upper case to lower case in each octet of {@code w}, whose octets are all below 0x80. */
    private static long lower8(long w) {
        long atLeastA = w + (0x80 - 'A') * ONES;
        long aboveZ = w + (0x80 - 'Z' - 1) * ONES;
        return w | (atLeastA & ~aboveZ & HIGHS) >>> 2;
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
        if (!hashed) {
            lowerNameHash = nameHash(bytes, start, nameEnd);
            hashed = true;
        }
        return lowerNameHash;
    }

    /** {@link NameHash} of the name in {@code bytes[start, nameEnd)} (checked: octets 33-126), lower-cased. */
    static int nameHash(byte[] bytes, int start, int nameEnd) {
        long acc = 0;
        long chunk = 0;
        int inChunk = 0;
        int chunks = 0;
        for (int i = start; i < nameEnd; i++) {
            chunk |= (long) lower(bytes[i] & 0xFF) << (8 * inChunk);
            if (++inChunk == NameHash.CHUNK || i == nameEnd - 1) {
                acc = chunks++ == 0 ? NameHash.coefficient(chunk) : NameHash.add(acc, NameHash.coefficient(chunk));
                chunk = 0;
                inChunk = 0;
            }
        }
        return NameHash.end(acc);
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
        int i = 0;
        // The usual case, eight octets at a time: the same name written the same way.
        while (i + 8 <= len && (long) LONGS.get(a, aStart + i) == (long) LONGS.get(b, bStart + i)) {
            i += 8;
        }
        for (; i < len; i++) {
            byte x = a[aStart + i];
            byte y = b[bStart + i];
            if (x != y && lower(x & 0xFF) != lower(y & 0xFF)) {
                return false;
            }
        }
        return true;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

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
