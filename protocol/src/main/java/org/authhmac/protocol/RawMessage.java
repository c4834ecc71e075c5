package org.authhmac.protocol;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
        InputStream src = in instanceof BufferedInputStream ? in : new BufferedInputStream(in, 16 * 1024);
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder(128);
        long consumed = 0;
        boolean ended = false;
        while (true) {
            int c = src.read();
            if (c < 0) {
                if (!line.isEmpty()) {
                    lines.add(stripCr(line));
                }
                break;
            }
            if (++consumed > maxHeaderBytes) {
                throw new MalformedMessageException("header block larger than " + maxHeaderBytes + " bytes");
            }
            if (c == '\n') {
                String l = stripCr(line);
                line.setLength(0);
                if (l.isEmpty()) {
                    ended = true;
                    break;
                }
                lines.add(l);
            } else {
                line.append((char) c);
            }
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
        return new RawMessage(List.copyOf(fields), ended ? src : InputStream.nullInputStream());
    }

    private static String stripCr(StringBuilder line) {
        int len = line.length();
        if (len > 0 && line.charAt(len - 1) == '\r') {
            len--;
        }
        return line.substring(0, len);
    }

    static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }
}
