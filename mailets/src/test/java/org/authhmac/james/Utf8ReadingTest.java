package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Utf8ReadingTest {
    @Test
    void latin1CharsOfUtf8BytesReadAsTheirUtf8Text() {
        String raw = new String("ceo\uFF20a.example".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);

        assertThat(Utf8Reading.of(raw)).isEqualTo("ceo\uFF20a.example");
    }

    @Test
    void textThatIsNoByteReadingComesBackAsItIs() {
        assertThat(Utf8Reading.of("caf\u00e9 \u0100")).isEqualTo("caf\u00e9 \u0100");
    }

    @Test
    void bytesThatAreNotUtf8ComeBackAsTheyAre() {
        assertThat(Utf8Reading.of("caf\u00e9")).isEqualTo("caf\u00e9");
    }
}
