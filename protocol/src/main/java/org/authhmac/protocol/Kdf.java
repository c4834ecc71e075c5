package org.authhmac.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The period-key derivation: NIST SP 800-108 KDF in counter mode with HMAC-SHA256, one block.
 * It is a single HMAC keyed by the primary over {@link #fixedInput(KdfContext)}, so a TPM can
 * compute it with TPM2_HMAC without the primary leaving the TPM. See docs/PROTOCOL.md, "Key derivation".
 */
public final class Kdf {
    /** Output length in bits, L. */
    public static final int OUTPUT_BITS = 256;
    public static final int MAX_KEY_ID_BYTES = 64;
    public static final int MAX_DOMAIN_BYTES = 255;

    private Kdf() {
    }

    /**
     * [i]_32 || Label || 0x00 || Context || [L]_32 with i = 1, L = 256, the Label of the context's header version,
     * and Context = u8 len(kid) || kid || u8 len(domain) || domain || u32 periodSeconds || u64 period (all big-endian,
     * UTF-8/ASCII).
     */
    public static byte[] fixedInput(KdfContext ctx) {
        byte[] kid = ctx.keyId().getBytes(StandardCharsets.UTF_8);
        byte[] domain = ctx.domain().getBytes(StandardCharsets.UTF_8);
        if (kid.length == 0 || kid.length > MAX_KEY_ID_BYTES) {
            throw new IllegalArgumentException("key id must be 1.." + MAX_KEY_ID_BYTES + " bytes");
        }
        if (domain.length == 0 || domain.length > MAX_DOMAIN_BYTES) {
            throw new IllegalArgumentException("domain must be 1.." + MAX_DOMAIN_BYTES + " bytes");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(96);
        out.writeBytes(ByteBuffer.allocate(4).putInt(1).array());
        out.writeBytes(HeaderVersions.of(ctx.version()).kdfLabel().getBytes(StandardCharsets.US_ASCII));
        out.write(0x00);
        out.write(kid.length);
        out.writeBytes(kid);
        out.write(domain.length);
        out.writeBytes(domain);
        out.writeBytes(ByteBuffer.allocate(4).putInt(ctx.periodSeconds()).array());
        out.writeBytes(ByteBuffer.allocate(8).putLong(ctx.period()).array());
        out.writeBytes(ByteBuffer.allocate(4).putInt(OUTPUT_BITS).array());
        return out.toByteArray();
    }

    /** Software derivation, for vaults that hold the primary in memory (PKCS#12) and for verifiers in mail clients. */
    public static byte[] derive(byte[] primary, KdfContext ctx) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(primary, "HmacSHA256"));
            return mac.doFinal(fixedInput(ctx));
        } catch (InvalidKeyException e) {
            throw new IllegalArgumentException("unusable primary key", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }
}
