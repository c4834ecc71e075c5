package org.authhmac.protocol.hostile;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * A message made on the fly: a header block, then a body of {@code bodyBytes} bytes cut from a repeating
 * pattern of text lines, so that a 50 MB message never exists as an array. Optionally one body byte is
 * changed, to play a message altered in transit. Counts what it hands out.
 */
final class GeneratedMessage extends InputStream {
    private static final byte[] PATTERN = pattern();

    private final byte[] header;
    private final long bodyBytes;
    private final long flipAt;
    private long pos;

    /** @param flipAt index into the body of a byte to change, or -1 */
    GeneratedMessage(String header, long bodyBytes, long flipAt) {
        this.header = header.getBytes(StandardCharsets.ISO_8859_1);
        this.bodyBytes = bodyBytes;
        this.flipAt = flipAt;
    }

    long delivered() {
        return pos;
    }

    @Override
    public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        long total = header.length + bodyBytes;
        if (pos >= total) {
            return -1;
        }
        int n = (int) Math.min(len, total - pos);
        for (int i = 0; i < n; i++, pos++) {
            byte v;
            if (pos < header.length) {
                v = header[(int) pos];
            } else {
                long bodyPos = pos - header.length;
                v = PATTERN[(int) (bodyPos % PATTERN.length)];
                if (bodyPos == flipAt) {
                    v = (byte) (v == 'x' ? 'y' : 'x');
                }
            }
            b[off + i] = v;
        }
        return n;
    }

    private static byte[] pattern() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            sb.append("line ").append(i).append(":  some\ttext with  runs of white space and a tail  \r\n");
        }
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
