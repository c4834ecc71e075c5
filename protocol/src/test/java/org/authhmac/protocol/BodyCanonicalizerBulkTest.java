package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The body canonicalizer's bulk path (eight bytes per test, runs copied whole) gives what feeding it one byte at a
 * time gives (the state machine, byte by byte), on bodies dense in the bytes its tests treat specially: SP and HTAB,
 * CR and LF in every order (bare CRs included), and the bytes its SWAR tests may flag by mistake ('!', FF, VT).
 */
class BodyCanonicalizerBulkTest {
    @Test
    void canonicalizesControlByteRunsAsTheByteByByteStateMachineDoes() throws Exception {
        byte[] alphabet = " \t\r\n\r\r\n!\u000b\u000ca.\u00e9\u0000".getBytes(StandardCharsets.ISO_8859_1);
        Random random = new Random(23);
        for (int round = 0; round < 3_000; round++) {
            // given
            byte[] body = new byte[random.nextInt(300)];
            for (int i = 0; i < body.length; i++) {
                body[i] = random.nextInt(3) == 0 ? (byte) ('a' + random.nextInt(26)) : alphabet[random.nextInt(alphabet.length)];
            }
            for (Canonicalization c : Canonicalization.values()) {
                // when
                byte[] bulk = BodyHash.of(c, new ByteArrayInputStream(body));
                BodyCanonicalizer byteByByte = new BodyCanonicalizer(c);
                for (byte b : body) {
                    byteByByte.update(new byte[] {b}, 0, 1);
                }

                // then
                assertThat(bulk).as("%s %s", c.token(), new String(body, StandardCharsets.ISO_8859_1)
                        .replace("\r", "<CR>").replace("\n", "<LF>")).isEqualTo(byteByByte.finish());
            }
        }
    }
}
