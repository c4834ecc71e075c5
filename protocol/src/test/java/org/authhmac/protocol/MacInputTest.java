package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MacInputTest {
    private static List<HeaderField> fields(String headers) throws Exception {
        return RawMessage.read(new ByteArrayInputStream((headers + "\r\n").getBytes(StandardCharsets.ISO_8859_1)), 4096).fields();
    }

    private static String input(List<HeaderField> fields, List<String> h, Canonicalization c, String sig) {
        return new String(MacInput.build(fields, h, c, sig), StandardCharsets.ISO_8859_1);
    }

    @Test
    void picksRepeatedHeadersBottomUp() throws Exception {
        List<HeaderField> f = fields("Received: one\r\nReceived: two\r\nFrom: a@a.example\r\n");

        String in = input(f, List.of("received", "from", "received"), Canonicalization.RELAXED, "X-Auth-HMAC: b=");

        assertThat(in).isEqualTo("received:two\r\nfrom:a@a.example\r\nreceived:one\r\nx-auth-hmac:b=");
    }

    @Test
    void extraMentionsOfANameContributeNothing() throws Exception {
        List<HeaderField> f = fields("From: a@a.example\r\n");

        String in = input(f, List.of("from", "from", "cc"), Canonicalization.RELAXED, "X-Auth-HMAC: b=");

        assertThat(in).isEqualTo("from:a@a.example\r\nx-auth-hmac:b=");
    }

    @Test
    void simpleCanonicalizationKeepsFieldsAsTheyAre() throws Exception {
        List<HeaderField> f = fields("SUBJECT :  Hi\r\n\tthere \r\nFrom: a@a.example\r\n");

        String in = input(f, List.of("from", "subject"), Canonicalization.SIMPLE, "X-Auth-HMAC: v=1; b=");

        assertThat(in).isEqualTo("From: a@a.example\r\nSUBJECT :  Hi\r\n\tthere \r\nX-Auth-HMAC: v=1; b=");
    }

    @Test
    void emptiesOnlyTheValueOfBIncludingItsFoldingAndWhitespace() throws Exception {
        HeaderField sig = fields("X-Auth-HMAC: v=1; bh=AAAA; b= AbCd\r\n\tEfGh= ;x=keep").get(0);

        assertThat(Verifier.withEmptyB(sig)).isEqualTo("X-Auth-HMAC: v=1; bh=AAAA; b=;x=keep");
    }

    @Test
    void doesNotMistakeBhForB() throws Exception {
        HeaderField sig = fields("X-Auth-HMAC: b=zzzz; bh=AAAA").get(0);

        assertThat(Verifier.withEmptyB(sig)).isEqualTo("X-Auth-HMAC: b=; bh=AAAA");
    }
}
