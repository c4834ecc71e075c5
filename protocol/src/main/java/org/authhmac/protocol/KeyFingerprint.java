package org.authhmac.protocol;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A public fingerprint of a primary, which nodes and partners compare to see that they hold the same primary
 * without showing it: the first 128 bits of HMAC-SHA256(primary, {@link #input()}), computed wherever the primary
 * lives (a TPM computes it with TPM2_HMAC). See docs/PROTOCOL.md, appendix "Key fingerprint".
 *
 * @param hex 32 lower-case hex digits
 */
public record KeyFingerprint(String hex) {
    /** Length of a fingerprint in bytes (128 bits). */
    public static final int BYTES = 16;
    /** The text before the 0x00 separator of the input. */
    public static final String LABEL = "X-Auth-HMAC key fingerprint";
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{" + 2 * BYTES + "}");
    /** Counter 0 (no KDF input starts with it), the label, a separator. */
    private static final byte[] INPUT = input0();

    public KeyFingerprint {
        Objects.requireNonNull(hex, "hex");
        if (!HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("a key fingerprint is " + 2 * BYTES + " lower-case hex digits");
        }
    }

    private static byte[] input0() {
        byte[] label = LABEL.getBytes(StandardCharsets.US_ASCII);
        byte[] in = new byte[4 + label.length + 1];
        System.arraycopy(label, 0, in, 4, label.length);
        return in;
    }

    /** The bytes the primary's HMAC is computed over: {@code 00000000 || "X-Auth-HMAC key fingerprint" || 00}. */
    public static byte[] input() {
        return INPUT.clone();
    }

    /** The fingerprint of a primary whose HMAC-SHA256 over {@link #input()} a backend computed (32 bytes). */
    public static KeyFingerprint fromHmac(byte[] hmacOverInput) {
        if (hmacOverInput == null || hmacOverInput.length != Kdf.OUTPUT_BITS / 8) {
            throw new IllegalArgumentException("expected a " + Kdf.OUTPUT_BITS / 8 + "-byte HMAC-SHA256");
        }
        return new KeyFingerprint(HexFormat.of().formatHex(hmacOverInput, 0, BYTES));
    }

    /** Software computation, for holders of the primary in memory (a mail client, the test vectors). */
    public static KeyFingerprint of(byte[] primary) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(primary, "HmacSHA256"));
            byte[] out = mac.doFinal(INPUT);
            try {
                return fromHmac(out);
            } finally {
                Arrays.fill(out, (byte) 0);
            }
        } catch (InvalidKeyException e) {
            throw new IllegalArgumentException("unusable primary key", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    /** As people compare it: eight groups of four hex digits joined by '-'. */
    public String grouped() {
        StringBuilder b = new StringBuilder(2 * BYTES + BYTES / 2 - 1);
        for (int i = 0; i < hex.length(); i += 4) {
            if (i > 0) {
                b.append('-');
            }
            b.append(hex, i, i + 4);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return grouped();
    }
}
