package org.authhmac.protocol;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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

    private RawMessage(List<HeaderField> fields, InputStream body, byte[] bodyBytes, int bodyOff, int bodyLen) {
        this.fields = fields;
        this.body = body;
        this.bodyBytes = bodyBytes;
        this.bodyOff = bodyOff;
        this.bodyLen = bodyLen;
    }

    List<HeaderField> fields() {
        return fields;
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
        // line are handed back in front of the rest of the stream as the body. Lines are kept as offsets into
        // the array, and fields as ranges of it: no String per line or field (bench/, docs/PERFORMANCE.md).
        int scanned = base;
        int lineStart = base;
        // Per line: start, end of its content (one CR before the LF excluded), and whether the line ended in CRLF.
        int[] lines = new int[3 * 32];
        int lineCount = 0;
        // CRs seen in the current line: only one, just before its LF, may be there (a bare CR is malformed).
        int crs = 0;
        boolean ended = false;
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
                        lines = addLine(lines, lineCount++, lineStart, contentEnd, false);
                    }
                    break;
                }
                filled += n;
                continue;
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
            if (contentEnd == start) {
                ended = true;
                break;
            }
            lines = addLine(lines, lineCount++, start, contentEnd, crlf);
        }
        List<HeaderField> fields = new ArrayList<>();
        int first = -1;
        for (int k = 0; k < lineCount; k++) {
            byte b = buf[lines[3 * k]];
            if (b == ' ' || b == '\t') {
                if (first < 0) {
                    throw new MalformedMessageException("continuation line before the first header field");
                }
            } else {
                if (first >= 0) {
                    fields.add(field(buf, lines, first, k));
                }
                first = k;
            }
        }
        if (first >= 0) {
            fields.add(field(buf, lines, first, lineCount));
        }
        List<HeaderField> all = List.copyOf(fields);
        if (in == null) {
            return ended ? new RawMessage(all, null, buf, lineStart, filled - lineStart)
                    : new RawMessage(all, null, buf, filled, 0);
        }
        InputStream body;
        if (!ended) {
            body = InputStream.nullInputStream();
        } else if (lineStart < filled) {
            body = new SequenceInputStream(new ByteArrayInputStream(buf, lineStart, filled - lineStart), in);
        } else {
            body = in;
        }
        return new RawMessage(all, body, null, 0, 0);
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

    private static int[] addLine(int[] lines, int k, int start, int contentEnd, boolean crlf) {
        if (3 * k + 3 > lines.length) {
            lines = Arrays.copyOf(lines, lines.length * 2);
        }
        lines[3 * k] = start;
        lines[3 * k + 1] = contentEnd;
        lines[3 * k + 2] = crlf ? 1 : 0;
        return lines;
    }

    /**
     * The field made of lines [first, last): its lines joined by CRLF. When every line break inside it is a CRLF
     * already (the usual case) that is a range of {@code buf} as it is; a field folded with bare LFs is copied.
     */
    private static HeaderField field(byte[] buf, int[] lines, int first, int last) throws MalformedMessageException {
        int start = lines[3 * first];
        int end = lines[3 * (last - 1) + 1];
        boolean contiguous = true;
        for (int k = first; k < last - 1; k++) {
            if (lines[3 * k + 2] == 0) {
                contiguous = false;
                break;
            }
        }
        if (contiguous) {
            return HeaderField.parse(buf, start, end);
        }
        int size = 0;
        for (int k = first; k < last; k++) {
            size += lines[3 * k + 1] - lines[3 * k] + 2;
        }
        byte[] copy = new byte[size - 2];
        int n = 0;
        for (int k = first; k < last; k++) {
            if (k > first) {
                copy[n++] = '\r';
                copy[n++] = '\n';
            }
            int len = lines[3 * k + 1] - lines[3 * k];
            System.arraycopy(buf, lines[3 * k], copy, n, len);
            n += len;
        }
        return HeaderField.parse(copy, 0, copy.length);
    }

    static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }
}
