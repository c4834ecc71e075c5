package org.authhmac.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MessagesTest {

    @ParameterizedTest
    @ValueSource(strings = {"1KB", "10KB", "100KB", "1MB"})
    void generatesTheSameMimeMessageOfTheRequestedSizeEveryTime(String size) {
        int target = Messages.bytes(size);

        byte[] message = Messages.mime(target);

        assertThat(message).isEqualTo(Messages.mime(target));
        assertThat(message.length).isBetween(target - 80, target);
        String text = new String(message, StandardCharsets.US_ASCII);
        assertThat(text).contains("\r\nContent-Type: multipart/mixed;", "Content-Transfer-Encoding: base64\r\n",
                "--" + Messages.BOUNDARY + "--\r\n");
        assertThat(text.replace("\r\n", "")).doesNotContain("\r", "\n");
        assertThat(Messages.bodyOffset(message)).isLessThan(message.length / 2 + 600);
    }
}
