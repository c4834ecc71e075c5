package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Test;

/**
 * Regression for the first fuzz finding: input that ends in a lone CR right after a header line (the empty
 * line that ends the header block, cut before its LF) made RawMessage index an empty line. The verifier's
 * fail-closed catch turned it into temperror, so such a message would have been retried for ever; the signer
 * threw StringIndexOutOfBoundsException. The lone CR now ends the header block, as the empty line would have.
 */
class TruncatedHeaderBlockTest {
    static final String HEADER = "From: Alice <alice@a.example>\r\nTo: Bob <bob@b.example>\r\nSubject: cut\r\n";

    @Test
    void theSignerSignsAMessageThatEndsInALoneCr() throws Exception {
        List<String> lines = FuzzFixtures.signer(Canonicalization.RELAXED, Canonicalization.RELAXED)
                .sign(stream(HEADER + "\r"), List.of(FuzzFixtures.request()), FuzzFixtures.keys());

        assertThat(lines).hasSize(1);
    }

    @Test
    void theVerifierGivesAVerdictNotATemperrorForAMessageThatEndsInALoneCr() throws Exception {
        String signature = FuzzFixtures.signer(Canonicalization.RELAXED, Canonicalization.RELAXED)
                .sign(stream(HEADER), List.of(FuzzFixtures.request()), FuzzFixtures.keys()).get(0);

        Verdict v = FuzzFixtures.verify((signature + "\r\n" + HEADER + "\r").getBytes(StandardCharsets.ISO_8859_1));

        assertThat(v.result()).as("%s", v).isEqualTo(AuthResult.PASS);
    }

    @Test
    void anUnsignedMessageThatEndsInALoneCrHasNoSignature() {
        Verdict v = FuzzFixtures.verify("From: a@a.example\r\n\r".getBytes(StandardCharsets.ISO_8859_1));

        assertThat(v.result()).isEqualTo(AuthResult.NONE);
    }

    private static ByteArrayInputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
    }
}
