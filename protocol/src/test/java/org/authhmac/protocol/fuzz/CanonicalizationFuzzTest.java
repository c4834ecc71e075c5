package org.authhmac.protocol.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.BodyHash;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.MalformedMessageException;
import org.authhmac.protocol.Verdict;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Header and body canonicalization on arbitrary bytes, with three oracles that need no second implementation:
 * the body hash does not depend on how the stream is cut into reads; relaxed header canonicalization is
 * idempotent; and whatever the signer agrees to sign, the verifier passes, under relaxed and under simple.
 */
class CanonicalizationFuzzTest {

    static Stream<Arguments> seeds() {
        return FuzzSeeds.of("canonicalization");
    }

    @MethodSource("seeds")
    @FuzzTest
    void canonicalizesAnyBytesConsistently(byte[] data) throws Exception {
        for (Canonicalization c : Canonicalization.values()) {
            byte[] whole = BodyHash.of(c, new ByteArrayInputStream(data));
            byte[] cut = BodyHash.of(c, new ChoppyStream(data, Arrays.hashCode(data)));
            assertThat(cut).as("%s body hash read in random pieces", c).isEqualTo(whole);
        }

        String field = "Subject:" + asFoldedValue(data);
        String once = FuzzFixtures.relaxedHeader(field);
        assertThat(FuzzFixtures.relaxedHeader(once)).as("relaxed header canonicalization is idempotent").isEqualTo(once);

        for (Canonicalization c : Canonicalization.values()) {
            byte[] signed;
            try {
                signed = FuzzFixtures.signed(FuzzFixtures.signer(c, c), data);
            } catch (MalformedMessageException e) {
                continue; // not signable (no From, a line without colon, ...): documented, nothing to verify
            }
            Verdict v = FuzzFixtures.verify(signed);
            assertThat(v.result()).as("%s/%s: what the signer signs verifies; got %s", c, c, v).isEqualTo(AuthResult.PASS);
        }
    }

    /**
     * A header value as RawMessage would hand it over: one char per byte, and every line break a fold
     * (CRLF followed by WSP), since an LF that is not followed by WSP would start a new field.
     */
    private static String asFoldedValue(byte[] data) {
        String s = new String(data, StandardCharsets.ISO_8859_1);
        return s.replace("\n", "\r\n ");
    }

    /** Returns the bytes in reads of pseudo-random length (1..64), the same for the same seed. */
    private static final class ChoppyStream extends InputStream {
        private final byte[] data;
        private final SplittableRandom random;
        private int pos;

        ChoppyStream(byte[] data, long seed) {
            this.data = data;
            this.random = new SplittableRandom(seed);
        }

        @Override
        public int read() {
            return pos < data.length ? data[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= data.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, 1 + random.nextInt(64)), data.length - pos);
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
