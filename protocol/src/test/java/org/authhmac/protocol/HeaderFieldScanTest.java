package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * HeaderField.scanName (eight octets at a time, what RawMessage reads a field's name with while it looks for the
 * line's end) finds what HeaderField.scan, the octet-by-octet reading of the whole field, finds: the same colon, end of
 * name and name hash, and declines every line scan refuses.
 */
class HeaderFieldScanTest {
    private static final String ALPHABET = "aAzZ-_xX09~!:: \t\t\r\n\u0080\u00ff\u0000\u001f\u007f[@`{";

    private static int[] scan(byte[] bytes, int start, int end) {
        int[] out = new int[3];
        try {
            HeaderField.scan(bytes, start, end, out, 0);
            return out;
        } catch (MalformedMessageException e) {
            return null;
        }
    }

    @Test
    void readsANameAsTheWholeFieldScanDoes() {
        Random random = new Random(17);
        for (int round = 0; round < 200_000; round++) {
            // given: a first line of name-like octets, often with a colon, at a random offset in junk
            StringBuilder line = new StringBuilder();
            int length = random.nextInt(random.nextBoolean() ? 12 : 40);
            for (int i = 0; i < length; i++) {
                if (random.nextInt(4) == 0) {
                    line.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                } else {
                    line.append((char) (33 + random.nextInt(94)));
                }
            }
            String text = line.toString();
            int lineEnd = text.indexOf('\n') >= 0 ? text.indexOf('\n') : text.length();
            int pad = random.nextInt(9);
            byte[] bytes = ("#".repeat(pad) + text + "\r\n" + "#".repeat(random.nextInt(9))).getBytes(StandardCharsets.ISO_8859_1);
            int start = pad;
            int limit = random.nextInt(4) == 0 ? start + random.nextInt(text.length() + 3) : bytes.length;
            int[] out = new int[5];

            // when
            boolean named = HeaderField.scanName(bytes, start, limit, out);

            // then: the field as RawMessage would end it (at its first line end, if no continuation follows)
            int firstLineEnd = start + (text.indexOf("\r\n") >= 0 ? Math.min(text.indexOf("\r\n"), lineEnd) : lineEnd);
            int[] expected = scan(bytes, start, firstLineEnd);
            if (named) {
                assertThat(expected).as("'%s' up to %d", text, limit - start).isNotNull();
                assertThat(java.util.Arrays.copyOf(out, 3)).as("'%s'", text).containsExactly(expected);
                long key = out[3] & 0xFFFFFFFFL | (long) out[4] << 32;
                assertThat(key).as("'%s'", text).isEqualTo(HeaderField.nameKey(bytes, start, out[1]));
                assertThat(out[0]).isLessThan(limit);
            } else if (limit == bytes.length) {
                assertThat(expected).as("'%s' is declined although it scans", text).isNull();
            }
        }
    }
}
