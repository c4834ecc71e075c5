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
    private final InputStream body;

    private RawMessage(List<HeaderField> fields, InputStream body) {
        this.fields = fields;
        this.body = body;
    }

    List<HeaderField> fields() {
        return fields;
    }

    /** The rest of the stream after the empty line that ends the header block (empty when there is none). */
    InputStream body() {
        return body;
    }

    static RawMessage read(InputStream in, int maxHeaderBytes) throws IOException {
        // The header block is read in chunks into one array and split there: a read() call per byte costs a lock
        // in BufferedInputStream, which made header parsing dominate small messages. Bytes read past the empty
        // line are handed back in front of the rest of the stream as the body.
        byte[] buf = new byte[Math.min(4 * 1024, maxHeaderBytes + 1)];
        int filled = 0;
        int scanned = 0;
        int lineStart = 0;
        List<String> lines = new ArrayList<>();
        boolean ended = false;
        while (true) {
            if (scanned == filled) {
                if (filled > maxHeaderBytes) {
                    throw new MalformedMessageException("header block larger than " + maxHeaderBytes + " bytes");
                }
                if (filled == buf.length) {
                    buf = Arrays.copyOf(buf, (int) Math.min((long) buf.length * 2, (long) maxHeaderBytes + 1));
                }
                int n = in.read(buf, filled, buf.length - filled);
                if (n < 0) {
                    // A last line of just CR is an empty line cut before its LF: the header block ends there.
                    String last = line(buf, lineStart, filled);
                    if (!last.isEmpty()) {
                        lines.add(last);
                    }
                    break;
                }
                filled += n;
                continue;
            }
            int lf = scanned;
            while (lf < filled && buf[lf] != '\n') {
                lf++;
            }
            if (lf == filled) {
                scanned = filled;
                continue;
            }
            if (lf >= maxHeaderBytes) {
                throw new MalformedMessageException("header block larger than " + maxHeaderBytes + " bytes");
            }
            String l = line(buf, lineStart, lf);
            scanned = lf + 1;
            lineStart = scanned;
            if (l.isEmpty()) {
                ended = true;
                break;
            }
            lines.add(l);
        }
        List<HeaderField> fields = new ArrayList<>();
        StringBuilder current = null;
        for (String l : lines) {
            char first = l.charAt(0);
            if (first == ' ' || first == '\t') {
                if (current == null) {
                    throw new MalformedMessageException("continuation line before the first header field");
                }
                current.append("\r\n").append(l);
            } else {
                if (current != null) {
                    fields.add(HeaderField.parse(current.toString()));
                }
                current = new StringBuilder(l);
            }
        }
        if (current != null) {
            fields.add(HeaderField.parse(current.toString()));
        }
        InputStream body;
        if (!ended) {
            body = InputStream.nullInputStream();
        } else if (lineStart < filled) {
            body = new SequenceInputStream(new ByteArrayInputStream(buf, lineStart, filled - lineStart), in);
        } else {
            body = in;
        }
        return new RawMessage(List.copyOf(fields), body);
    }

    /** buf[start, end) without one trailing CR, one char per byte. */
    private static String line(byte[] buf, int start, int end) {
        if (end > start && buf[end - 1] == '\r') {
            end--;
        }
        return new String(buf, start, end - start, StandardCharsets.ISO_8859_1);
    }

    static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }
}
