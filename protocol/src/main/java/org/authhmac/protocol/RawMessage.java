package org.authhmac.protocol;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * Reads an RFC 5322 message in two parts: the header block, held in memory up to a bound, then the body,
 * left unread in {@link #body()} so that callers stream it into a hash. Line ends in the header block are
 * read as CRLF whether they were CRLF or bare LF.
 */
final class RawMessage {
    private final List<HeaderField> fields;
    /** The body still to read, when the message came as a stream; null when it came as an array. */
    private final InputStream body;
    /** The body as a range of the caller's array, when the message came as one. */
    private final byte[] bodyBytes;
    private final int bodyOff;
    private final int bodyLen;
    /** Octets of the header block as read, up to and including the line end of the empty line that ends it. */
    private final int headerOctets;

    private RawMessage(List<HeaderField> fields, int headerOctets, InputStream body, byte[] bodyBytes, int bodyOff, int bodyLen) {
        this.fields = fields;
        this.headerOctets = headerOctets;
        this.body = body;
        this.bodyBytes = bodyBytes;
        this.bodyOff = bodyOff;
        this.bodyLen = bodyLen;
    }

    List<HeaderField> fields() {
        return fields;
    }

    /** The size of the header block in octets, the quantity a verifier bounds (docs/PROTOCOL.md 2). */
    int headerOctets() {
        return headerOctets;
    }

    /** The rest of the stream after the empty line that ends the header block (empty when there is none). */
    InputStream body() {
        return body != null ? body : new ByteArrayInputStream(bodyBytes, bodyOff, bodyLen);
    }

    /**
     * Feeds the body to every canonicalizer given: straight from the caller's array when the message came as one (no
     * copy), else read from the stream through one buffer.
     */
    void feedBody(java.util.Collection<BodyCanonicalizer> canonicalizers) throws IOException {
        if (body == null) {
            for (BodyCanonicalizer c : canonicalizers) {
                c.update(bodyBytes, bodyOff, bodyLen);
            }
        } else {
            BodyHash.feed(body, canonicalizers);
        }
    }

    /** The body hash under one canonicalization: {@link #feedBody} for a single canonicalizer. */
    byte[] bodyHash(Canonicalization canonicalization) throws IOException {
        BodyCanonicalizer c = new BodyCanonicalizer(canonicalization);
        feedBody(List.of(c));
        return c.finish();
    }

    /**
     * The same as {@link #read(InputStream, int)} for a message held in {@code message[off, off + len)}: the fields
     * and the body are ranges of that array, nothing is copied, so the array must not change while the result is in
     * use.
     */
    static RawMessage read(byte[] message, int off, int len, int maxHeaderBytes) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, message.length);
        return read(null, message, off, off + len, maxHeaderBytes);
    }

    static RawMessage read(InputStream in, int maxHeaderBytes) throws IOException {
        return read(in, new byte[Math.min(4 * 1024, maxHeaderBytes + 1)], 0, 0, maxHeaderBytes);
    }

    /**
     * The header block of the bytes in {@code buf[base, filled)} followed by those {@code in} yields; with a null
     * {@code in} the message is exactly {@code buf[base, filled)} and {@code buf} is neither grown nor copied.
     */
    private static RawMessage read(InputStream in, byte[] buf, int base, int filled, int maxHeaderBytes)
            throws IOException {
        // The header block is read in chunks into one array and split there: a read() call per byte costs a lock
        // in BufferedInputStream, which made header parsing dominate small messages. Bytes read past the empty
        // line are handed back in front of the rest of the stream as the body. Fields are kept as offsets into the
        // array, in int arrays, and made into HeaderField objects only when asked for: a header block of 250,000 tiny
        // fields then costs a few arrays, not 250,000 objects kept alive across garbage collections (bench/,
        // docs/PERFORMANCE.md, "Adversarial inputs").
        int scanned = base;
        int lineStart = base;
        Fields fields = new Fields();
        // The field being read: its first byte, the end of its last line's content, whether every line break inside
        // it so far is a CRLF, and whether the line before ended in CRLF.
        int fieldStart = -1;
        int fieldEnd = -1;
        boolean contiguous = true;
        boolean previousCrlf = false;
        // CRs seen in the current line: only one, just before its LF, may be there (a bare CR is malformed).
        int crs = 0;
        boolean ended = false;
        // The name of a line that starts a field is read once, before its line end is looked for (HeaderField.scanName):
        // the octets of the name are then looked at once, not again when the field is added. lineNamed holds whether
        // that worked for the current line, fieldNamed for the field being read; the colon, the end of the name and
        // its hash are in lineName and fieldName.
        boolean lineTried = false;
        boolean lineNamed = false;
        boolean fieldNamed = false;
        int[] lineName = new int[5];
        int[] fieldName = new int[5];
        while (true) {
            if (scanned == filled) {
                if (filled - base > maxHeaderBytes) {
                    throw new MalformedMessageException("header block larger than " + maxHeaderBytes + " bytes");
                }
                if (in != null && filled == buf.length) {
                    buf = Arrays.copyOf(buf, (int) Math.min((long) buf.length * 2, (long) maxHeaderBytes + 1));
                }
                int n = in == null ? -1 : in.read(buf, filled, buf.length - filled);
                if (n < 0) {
                    // A last line of just CR is an empty line cut before its LF: the header block ends there.
                    int contentEnd = filled > lineStart && buf[filled - 1] == '\r' ? filled - 1 : filled;
                    checkCrs(crs, contentEnd < filled);
                    if (contentEnd > lineStart) {
                        if (isWsp(buf[lineStart])) {
                            if (fieldStart < 0) {
                                throw new MalformedMessageException("continuation line before the first header field");
                            }
                            contiguous &= previousCrlf;
                        } else {
                            if (fieldStart >= 0) {
                                fields.add(buf, fieldStart, fieldEnd, contiguous, fieldNamed ? fieldName : null);
                            }
                            fieldStart = lineStart;
                            contiguous = true;
                            fieldNamed = lineNamed && lineName[0] < contentEnd;
                            if (fieldNamed) {
                                System.arraycopy(lineName, 0, fieldName, 0, lineName.length);
                            }
                        }
                        fieldEnd = contentEnd;
                    }
                    break;
                }
                filled += n;
                continue;
            }
            if (!lineTried) {
                // Tried once per line: retrying after each read of a stream would cost a long name once per read.
                lineTried = true;
                // A continuation line (WSP first) names nothing: not tried, so that deep folding costs no name scan.
                lineNamed = !isWsp(buf[lineStart]) && HeaderField.scanName(buf, lineStart, filled, lineName);
                if (lineNamed) {
                    // The name and the WSP before its colon hold no CR and no LF.
                    scanned = lineName[0] + 1;
                }
            }
            int lf = scanned;
            while (lf < filled) {
                byte b = buf[lf];
                if (b == '\n') {
                    break;
                }
                if (b == '\r') {
                    crs++;
                }
                lf++;
            }
            if (lf == filled) {
                scanned = filled;
                continue;
            }
            if (lf - base >= maxHeaderBytes) {
                throw new MalformedMessageException("header block larger than " + maxHeaderBytes + " bytes");
            }
            boolean crlf = lf > lineStart && buf[lf - 1] == '\r';
            checkCrs(crs, crlf);
            crs = 0;
            int contentEnd = crlf ? lf - 1 : lf;
            int start = lineStart;
            scanned = lf + 1;
            lineStart = scanned;
            lineTried = false;
            if (contentEnd == start) {
                ended = true;
                break;
            }
            if (isWsp(buf[start])) {
                if (fieldStart < 0) {
                    throw new MalformedMessageException("continuation line before the first header field");
                }
                contiguous &= previousCrlf;
            } else {
                if (fieldStart >= 0) {
                    fields.add(buf, fieldStart, fieldEnd, contiguous, fieldNamed ? fieldName : null);
                }
                fieldStart = start;
                contiguous = true;
                fieldNamed = lineNamed;
                if (fieldNamed) {
                    int[] swap = fieldName;
                    fieldName = lineName;
                    lineName = swap;
                }
            }
            fieldEnd = contentEnd;
            previousCrlf = crlf;
        }
        if (fieldStart >= 0) {
            fields.add(buf, fieldStart, fieldEnd, contiguous, fieldNamed ? fieldName : null);
        }
        List<HeaderField> all = fields.over(buf);
        int headerOctets = (ended ? lineStart : filled) - base;
        if (in == null) {
            return ended ? new RawMessage(all, headerOctets, null, buf, lineStart, filled - lineStart)
                    : new RawMessage(all, headerOctets, null, buf, filled, 0);
        }
        InputStream body;
        if (!ended) {
            body = InputStream.nullInputStream();
        } else if (lineStart < filled) {
            body = new SequenceInputStream(new ByteArrayInputStream(buf, lineStart, filled - lineStart), in);
        } else {
            body = in;
        }
        return new RawMessage(all, headerOctets, body, null, 0, 0);
    }

    /**
     * A CR in the header block must end a line (before its LF, or as the last byte of a message cut short). Any other
     * CR is malformed: mail readers split a field at a bare CR (jakarta.mail and Python's email parser do), so a field
     * hidden behind one would be shown to the reader while the verifier saw it as part of another field's value.
     */
    private static void checkCrs(int crs, boolean endsInCr) throws MalformedMessageException {
        if (crs > (endsInCr ? 1 : 0)) {
            throw new MalformedMessageException("bare CR (not followed by LF) in the header block");
        }
    }

    private static boolean isWsp(byte b) {
        return b == ' ' || b == '\t';
    }

    /**
     * The fields of a header block as int arrays (start, end, colon, end of name, the nearest field above with the
     * same name), in pages of {@link #PAGE} fields so that a header block of a quarter of
     * a million fields is never copied to grow, read as a list of {@link HeaderField}s made on each {@code get}. Each
     * field is checked and grouped with the others of its name ({@link FieldCounts}) as it is added: one pass.
     */
    private static final class Fields extends AbstractList<HeaderField> implements RandomAccess, FieldNames {
        private static final int INTS = 5;
        /** Pages of 128 fields: a header block of a thousand fields copies a few KiB as its first page grows, no more. */
        private static final int PAGE_BITS = 7;
        private static final int PAGE = 1 << PAGE_BITS;
        /** The first page grows from 32 fields (most messages have fewer); every later one is made full. */
        private int[][] pages = {new int[INTS * 32]};
        private int size;
        /** The copies of fields folded with bare LFs (their offsets are into the copy), or null while there is none. */
        private byte[][] copies;
        private byte[] buf;
        private final FieldCounts counts = new FieldCounts(this, this);

        /**
         * Adds the field in {@code src[start, end)}; {@code named}, when not null, holds its colon, the end of its name,
         * its name's hash and key as {@link HeaderField#scanName} found them on its first line (else the field is
         * scanned here, which also says why it is malformed).
         */
        void add(byte[] src, int start, int end, boolean contiguous, int[] named) throws MalformedMessageException {
            byte[] bytes = src;
            if (!contiguous) {
                bytes = withCrlf(src, start, end);
                start = 0;
                end = bytes.length;
                named = null;
                if (copies == null) {
                    copies = new byte[Math.max(32, size + 1)][];
                }
            }
            int p = size >>> PAGE_BITS;
            int at = INTS * (size & (PAGE - 1));
            if (p == pages.length) {
                pages = Arrays.copyOf(pages, 2 * p);
            }
            int[] page = pages[p];
            if (page == null) {
                page = new int[INTS * PAGE];
                pages[p] = page;
            } else if (at + INTS > page.length) {
                page = Arrays.copyOf(page, Math.min(2 * page.length, INTS * PAGE));
                pages[p] = page;
            }
            page[at] = start;
            page[at + 1] = end;
            int hash;
            long key;
            if (named != null) {
                page[at + 2] = named[0];
                page[at + 3] = named[1];
                hash = named[2];
                key = named[3] & 0xFFFFFFFFL | (long) named[4] << 32;
            } else {
                // Writes the colon, the end of the name and the name's hash; the hash's slot then takes the chain.
                HeaderField.scan(bytes, start, end, page, at + 2);
                hash = page[at + 4];
                key = HeaderField.nameKey(bytes, start, page[at + 3]);
            }
            if (copies != null) {
                if (size >= copies.length) {
                    copies = Arrays.copyOf(copies, Math.max(copies.length * 2, size + 1));
                }
                copies[size] = contiguous ? null : bytes;
            }
            // A stream's buffer may have grown since the field before: names compared are at the same offsets in it.
            buf = src;
            size++;
            // The hash is not kept: FieldCounts has it, and a HeaderField made by get() hashes its name if asked.
            page[at + 4] = counts.add(size - 1, hash, key);
        }

        @Override
        public FieldCounts counts() {
            return counts;
        }

        @Override
        public int above(int i) {
            Objects.checkIndex(i, size);
            return page(i)[at(i) + 4];
        }

        @Override
        public void above(int i, int field) {
            Objects.checkIndex(i, size);
            page(i)[at(i) + 4] = field;
        }

        /** The list over the final array the fields are ranges of (a stream's buffer may have grown meanwhile). */
        List<HeaderField> over(byte[] finalBuf) {
            buf = finalBuf;
            return this;
        }

        private int[] page(int i) {
            return pages[i >>> PAGE_BITS];
        }

        private static int at(int i) {
            return INTS * (i & (PAGE - 1));
        }

        @Override
        public HeaderField get(int i) {
            Objects.checkIndex(i, size);
            int[] page = page(i);
            int at = at(i);
            return HeaderField.of(bytesOf(i), page[at], page[at + 1], page[at + 2], page[at + 3]);
        }

        @Override
        public int size() {
            return size;
        }

        private byte[] bytesOf(int i) {
            return copies != null && copies[i] != null ? copies[i] : buf;
        }

        @Override
        public int lowerNameHash(int i) {
            Objects.checkIndex(i, size);
            int[] page = page(i);
            int at = at(i);
            return HeaderField.nameHash(bytesOf(i), page[at], page[at + 3]);
        }

        @Override
        public boolean nameIs(int i, String lower) {
            Objects.checkIndex(i, size);
            int[] page = page(i);
            int at = at(i);
            return HeaderField.nameIs(bytesOf(i), page[at], page[at + 3], lower);
        }

        @Override
        public long nameKey(int i) {
            Objects.checkIndex(i, size);
            int[] page = page(i);
            int at = at(i);
            return HeaderField.nameKey(bytesOf(i), page[at], page[at + 3]);
        }

        @Override
        public boolean sameName(int i, int j) {
            Objects.checkIndex(i, size);
            Objects.checkIndex(j, size);
            int[] a = page(i);
            int[] b = page(j);
            int ai = at(i);
            int bj = at(j);
            return HeaderField.sameName(bytesOf(i), a[ai], a[ai + 3], bytesOf(j), b[bj], b[bj + 3]);
        }
    }

    /** The field in {@code src[start, end)}, whose line breaks are CRLF or bare LF, with every break a CRLF. */
    private static byte[] withCrlf(byte[] src, int start, int end) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(end - start + 64);
        int lineStart = start;
        for (int i = start; i < end; i++) {
            if (src[i] == '\n') {
                int contentEnd = i > lineStart && src[i - 1] == '\r' ? i - 1 : i;
                out.write(src, lineStart, contentEnd - lineStart);
                out.write('\r');
                out.write('\n');
                lineStart = i + 1;
            }
        }
        out.write(src, lineStart, end - lineStart);
        return out.toByteArray();
    }

    static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }
}
