package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class KeyFingerprintTest {

    @Test
    void inputIsCounterZeroTheLabelAndASeparator() {
        String expected = "00000000" + HexFormat.of().formatHex("X-Auth-HMAC key fingerprint".getBytes(StandardCharsets.US_ASCII)) + "00";

        assertThat(HexFormat.of().formatHex(KeyFingerprint.input())).isEqualTo(expected);
    }

    @Test
    void inputCanBeNoKdfInputBecauseEveryKdfInputStartsWithCounterOne() {
        byte[] kdf = Kdf.fixedInput(new KdfContext("k1", "a.example", 900, 1));

        assertThat(Arrays.copyOf(kdf, 4)).containsExactly(0, 0, 0, 1);
        assertThat(Arrays.copyOf(KeyFingerprint.input(), 4)).containsExactly(0, 0, 0, 0);
    }

    @Test
    void isTheFirst128BitsOfTheHmacOfThePrimaryOverTheInput() throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Fixtures.PRIMARY, "HmacSHA256"));
        byte[] full = mac.doFinal(KeyFingerprint.input());

        KeyFingerprint fp = KeyFingerprint.of(Fixtures.PRIMARY);

        assertThat(fp.hex()).isEqualTo(HexFormat.of().formatHex(full, 0, 16));
        assertThat(KeyFingerprint.fromHmac(full)).isEqualTo(fp);
    }

    @Test
    void differsForDifferentPrimariesAndFromEveryPeriodKeyPrefix() {
        byte[] other = Fixtures.PRIMARY.clone();
        other[0] ^= 1;

        assertThat(KeyFingerprint.of(other)).isNotEqualTo(KeyFingerprint.of(Fixtures.PRIMARY));
        assertThat(KeyFingerprint.of(Fixtures.PRIMARY).hex())
                .isNotEqualTo(HexFormat.of().formatHex(Kdf.derive(Fixtures.PRIMARY, new KdfContext("k1", "a.example", 900, 1)), 0, 16));
    }

    @Test
    void isShownAsEightGroupsOfFourHexDigits() {
        KeyFingerprint fp = new KeyFingerprint("a05d1c77e58d71798242063bc74c601e");

        assertThat(fp.grouped()).isEqualTo("a05d-1c77-e58d-7179-8242-063b-c74c-601e");
        assertThat(fp).hasToString("a05d-1c77-e58d-7179-8242-063b-c74c-601e");
    }

    @Test
    void refusesAnythingButA32ByteHmacOr32HexDigits() {
        assertThatThrownBy(() -> KeyFingerprint.fromHmac(new byte[16])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KeyFingerprint("A05D1C77E58D71798242063BC74C601E")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KeyFingerprint("a05d")).isInstanceOf(IllegalArgumentException.class);
    }
}
