package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CanonicalizationTest {

    /** The worked example of RFC 6376 §3.4.5. */
    private static final String RFC_HEADERS = "A: X\r\nB : Y\t\r\n\tZ  \r\n";
    private static final String RFC_BODY = " C \r\nD \t E\r\n\r\n\r\n";

    @Nested
    class Header {
        @Test
        void relaxedMatchesTheRfc6376Example() throws Exception {
            RawMessage msg = RawMessage.read(new ByteArrayInputStream((RFC_HEADERS + "\r\n" + RFC_BODY).getBytes(StandardCharsets.US_ASCII)), 4096);

            assertThat(msg.fields()).extracting(f -> HeaderCanonicalizer.relaxed(f.raw()))
                    .containsExactly("a:X", "b:Y Z");
        }

        @Test
        void simpleKeepsTheFieldByteForByte() throws Exception {
            RawMessage msg = RawMessage.read(new ByteArrayInputStream((RFC_HEADERS + "\r\n").getBytes(StandardCharsets.US_ASCII)), 4096);

            assertThat(msg.fields()).extracting(f -> HeaderCanonicalizer.canonicalize(Canonicalization.SIMPLE, f.raw()))
                    .containsExactly("A: X", "B : Y\t\r\n\tZ  ");
        }

        @Test
        void readsBareLfHeaderLinesAsCrlf() throws Exception {
            RawMessage msg = RawMessage.read(new ByteArrayInputStream("Subject: one\n two\nTo: x\n\nbody\n".getBytes(StandardCharsets.US_ASCII)), 4096);

            assertThat(msg.fields()).extracting(HeaderField::raw).containsExactly("Subject: one\r\n two", "To: x");
        }

        @Test
        void keepsEightBitHeaderBytesUnchanged() throws Exception {
            byte[] utf8 = "Subject:  Caf\u00e9   cr\u00e8me \r\n\r\n".getBytes(StandardCharsets.UTF_8);
            RawMessage msg = RawMessage.read(new ByteArrayInputStream(utf8), 4096);

            String canon = HeaderCanonicalizer.relaxed(msg.fields().get(0).raw());

            assertThat(canon.getBytes(StandardCharsets.ISO_8859_1))
                    .isEqualTo("subject:Caf\u00e9 cr\u00e8me".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Nested
    class Body {
        @Test
        void relaxedMatchesTheRfc6376Example() throws Exception {
            assertThat(hash(Canonicalization.RELAXED, RFC_BODY)).isEqualTo(sha256(" C\r\nD E\r\n"));
        }

        @Test
        void simpleMatchesTheRfc6376Example() throws Exception {
            assertThat(hash(Canonicalization.SIMPLE, RFC_BODY)).isEqualTo(sha256(" C \r\nD \t E\r\n"));
        }

        @ParameterizedTest(name = "{0}: [{1}] canonicalizes to [{2}]")
        @CsvSource(delimiter = '|', value = {
                "SIMPLE  | ''                 | \\r\\n",
                "RELAXED | ''                 | ''",
                "SIMPLE  | \\r\\n\\r\\n       | \\r\\n",
                "RELAXED | '  \\r\\n\\t\\r\\n' | ''",
                "SIMPLE  | abc                | abc\\r\\n",
                "RELAXED | 'abc  '            | 'abc \\r\\n'",
                "RELAXED | 'abc  \\r\\n'        | abc\\r\\n",
                "RELAXED | 'x\\r\\n\\r\\n\\t'    | 'x\\r\\n\\r\\n \\r\\n'",
                "SIMPLE  | a\\nb\\n\\n          | a\\r\\nb\\r\\n",
                "RELAXED | a\\nb \\n \\n       | a\\r\\nb\\r\\n",
                "SIMPLE  | a\\r\\n\\r\\nb        | a\\r\\n\\r\\nb\\r\\n",
                "RELAXED | '\\t a\\t\\tb \\r\\n' | ' a b\\r\\n'",
                "SIMPLE  | a\\rb\\r\\n          | a\\rb\\r\\n",
                "RELAXED | 'a\\r \\r\\n'         | a\\r\\r\\n",
                "SIMPLE  | 'a\\r'              | a\\r\\r\\n",
        })
        void canonicalizesEdgeCasesAsRfc6376Says(Canonicalization c, String body, String canonical) throws Exception {
            assertThat(hash(c, unescape(body))).isEqualTo(sha256(unescape(canonical)));
        }

        /**
         * RFC 6376 §3.4.3/§3.4.4: a bare CR is content, so a line that starts with one is not empty and the empty
         * lines before it stay; a body that ends in it gets its CRLF. The expected forms are dkimpy's. Fed one byte at
         * a time, so the CR is still pending when the next byte (or the end) arrives.
         */
        @ParameterizedTest(name = "{0}: [{1}] canonicalizes to [{2}]")
        @CsvSource(delimiter = '|', value = {
                "SIMPLE  | a\\r\\n\\r\\n\\r     | a\\r\\n\\r\\n\\r\\r\\n",
                "RELAXED | a\\r\\n\\r\\n\\r     | a\\r\\n\\r\\n\\r\\r\\n",
                "SIMPLE  | a\\r\\n\\r\\n\\rb\\r\\n | a\\r\\n\\r\\n\\rb\\r\\n",
                "RELAXED | a\\r\\n\\r\\n\\rb\\r\\n | a\\r\\n\\r\\n\\rb\\r\\n",
                "RELAXED | 'a\\r\\n\\r\\n \\rb'  | 'a\\r\\n\\r\\n \\rb\\r\\n'",
                "SIMPLE  | \\r\\n\\r           | \\r\\n\\r\\r\\n",
        })
        void keepsTheEmptyLinesBeforeALineThatStartsWithABareCr(Canonicalization c, String body, String canonical)
                throws Exception {
            // given
            byte[] bytes = unescape(body).getBytes(StandardCharsets.ISO_8859_1);
            BodyCanonicalizer byteByByte = new BodyCanonicalizer(c);
            // when
            for (byte b : bytes) {
                byteByByte.update(new byte[] {b}, 0, 1);
            }
            // then
            assertThat(byteByByte.finish()).isEqualTo(sha256(unescape(canonical)));
            assertThat(hash(c, unescape(body))).isEqualTo(sha256(unescape(canonical)));
        }

        @Test
        void givesTheSameHashWhateverTheChunkBoundaries() throws Exception {
            Random random = new Random(42);
            byte[] body = new byte[50_000];
            byte[] alphabet = " \t\r\na.\u00e9".getBytes(StandardCharsets.ISO_8859_1);
            for (int i = 0; i < body.length; i++) {
                body[i] = alphabet[random.nextInt(alphabet.length)];
            }
            for (Canonicalization c : Canonicalization.values()) {
                byte[] whole = BodyHash.of(c, new ByteArrayInputStream(body));
                BodyCanonicalizer byteByByte = new BodyCanonicalizer(c);
                for (byte b : body) {
                    byteByByte.update(new byte[] {b}, 0, 1);
                }
                assertThat(byteByByte.finish()).as(c.token()).isEqualTo(whole);
            }
        }

        @Test
        void treatsLfOnlyAndCrlfBodiesAlike() throws Exception {
            String crlf = "line one \r\nline\ttwo\r\n\r\n";
            for (Canonicalization c : Canonicalization.values()) {
                assertThat(hash(c, crlf.replace("\r\n", "\n"))).as(c.token()).isEqualTo(hash(c, crlf));
            }
        }
    }

    static byte[] hash(Canonicalization c, String body) throws Exception {
        return BodyHash.of(c, new ByteArrayInputStream(body.getBytes(StandardCharsets.ISO_8859_1)));
    }

    static byte[] sha256(String s) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static String unescape(String s) {
        return s.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t");
    }
}
