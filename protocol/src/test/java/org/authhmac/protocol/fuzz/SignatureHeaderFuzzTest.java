package org.authhmac.protocol.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignatureFormatException;
import org.authhmac.protocol.SignatureHeader;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tag-list parser behind {@link SignatureHeader#parse}: on any header value it returns a header or throws
 * its documented checked exception with one of the three documented reasons. Anything else (an unchecked
 * exception, an error, a hang) is a finding.
 */
class SignatureHeaderFuzzTest {

    static Stream<Arguments> seeds() {
        return FuzzSeeds.of("signature-header");
    }

    @MethodSource("seeds")
    @FuzzTest
    void parsesAnyHeaderValueIntoAHeaderOrADocumentedError(byte[] data) throws Exception {
        // Header bytes reach the parser one char per byte (ISO-8859-1), as RawMessage hands them over.
        String value = new String(data, StandardCharsets.ISO_8859_1);

        SignatureHeader parsed;
        try {
            parsed = SignatureHeader.parse(value);
        } catch (SignatureFormatException e) {
            assertThat(e.reason()).isIn(Reason.MALFORMED, Reason.UNSUPPORTED_VERSION, Reason.UNSUPPORTED_ALGORITHM);
            assertThat(e.getMessage()).isNotBlank();
            return;
        }

        // What was accepted is a well-formed header: formatting and parsing it again gives the same value.
        assertThat(SignatureHeader.parse(parsed.format())).isEqualTo(parsed);
        assertThat(parsed.signedHeaders()).contains("from");
        assertThat(parsed.periodSeconds()).isBetween(SignatureHeader.MIN_PERIOD_SECONDS, SignatureHeader.MAX_PERIOD_SECONDS);
        assertThat(parsed.time()).isNotNegative();
    }
}
