package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class KdfTest {
    private static final byte[] PRIMARY = Fixtures.PRIMARY;
    private static final KdfContext CTX = new KdfContext("k1", "a.example", 900, 1_959_752L);

    @Test
    void laysOutTheFixedInputAsSp800108CounterMode() {
        String expected = "00000001"
                + hex("X-Auth-HMAC v1 period key") + "00"
                + "02" + hex("k1")
                + "09" + hex("a.example")
                + "00000384"
                + "00000000001de748"
                + "00000100";

        assertThat(HexFormat.of().formatHex(Kdf.fixedInput(CTX))).isEqualTo(expected);
    }

    @Test
    void derivesWithOneHmacKeyedByThePrimary() throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(PRIMARY, "HmacSHA256"));

        assertThat(Kdf.derive(PRIMARY, CTX)).isEqualTo(mac.doFinal(Kdf.fixedInput(CTX)));
    }

    @Test
    void givesDifferentKeysForEachPeriodDomainKeyIdAndPeriodLength() {
        byte[] base = Kdf.derive(PRIMARY, CTX);

        assertThat(Kdf.derive(PRIMARY, new KdfContext("k1", "a.example", 900, 1_959_753L))).isNotEqualTo(base);
        assertThat(Kdf.derive(PRIMARY, new KdfContext("k1", "b.example", 900, 1_959_752L))).isNotEqualTo(base);
        assertThat(Kdf.derive(PRIMARY, new KdfContext("k2", "a.example", 900, 1_959_752L))).isNotEqualTo(base);
        assertThat(Kdf.derive(PRIMARY, new KdfContext("k1", "a.example", 1800, 1_959_752L))).isNotEqualTo(base);
    }

    @Test
    void treatsTheDomainCaseInsensitively() {
        assertThat(Kdf.derive(PRIMARY, new KdfContext("k1", "A.Example", 900, 1_959_752L))).isEqualTo(Kdf.derive(PRIMARY, CTX));
    }

    @Test
    void refusesContextsThatDoNotFitTheLengthPrefixes() {
        assertThatThrownBy(() -> Kdf.fixedInput(new KdfContext("", "a.example", 900, 1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Kdf.fixedInput(new KdfContext("k".repeat(65), "a.example", 900, 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void staticPeriodKeysDeriveTheSameKeyAndRefuseUnknownIds() throws Exception {
        StaticPeriodKeys keys = StaticPeriodKeys.of("k1", PRIMARY);

        assertThat(keys.periodKey(CTX).exportBytesForTestVectors()).isEqualTo(Kdf.derive(PRIMARY, CTX));
        assertThatThrownBy(() -> keys.periodKey(new KdfContext("k9", "a.example", 900, 1)))
                .isInstanceOf(UnknownKeyException.class);
        assertThat(keys.toString()).doesNotContain(HexFormat.of().formatHex(PRIMARY).substring(0, 16));
    }

    private static String hex(String s) {
        return HexFormat.of().formatHex(s.getBytes(StandardCharsets.US_ASCII));
    }
}
