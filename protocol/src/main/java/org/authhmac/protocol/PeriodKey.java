package org.authhmac.protocol;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A derived period key K_p. Opaque: it never prints its bytes, and the only thing it does is make a MAC.
 * Instances are immutable and safe to share between threads.
 */
public final class PeriodKey {
    private final KdfContext context;
    private final SecretKeySpec key;
    /**
     * Initialised once and never updated: {@link #newMac()} clones it, which costs a fraction of
     * Mac.getInstance + init (provider lookup, key schedule) per signature. Cloning only reads it, so threads
     * may share it.
     */
    private final Mac prototype;

    private PeriodKey(KdfContext context, byte[] keyBytes) {
        this.context = context;
        this.key = new SecretKeySpec(keyBytes, "HmacSHA256");
        this.prototype = freshMac(key);
    }

    /** Wraps derived key bytes; the array is copied, so the caller should wipe its own copy. */
    public static PeriodKey of(KdfContext context, byte[] keyBytes) {
        if (keyBytes.length != Kdf.OUTPUT_BITS / 8) {
            throw new IllegalArgumentException("a period key is " + Kdf.OUTPUT_BITS / 8 + " bytes");
        }
        return new PeriodKey(context, Arrays.copyOf(keyBytes, keyBytes.length));
    }

    public KdfContext context() {
        return context;
    }

    /** A fresh, initialised HMAC-SHA256 under this key. */
    public Mac newMac() {
        try {
            return (Mac) prototype.clone();
        } catch (CloneNotSupportedException e) {
            // A provider whose HMAC cannot be cloned: initialise a new one each time.
            return freshMac(key);
        }
    }

    private static Mac freshMac(SecretKeySpec key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    /** Raw key bytes. Only for test vectors and key-export tooling; mail paths never need this. */
    public byte[] exportBytesForTestVectors() {
        return key.getEncoded();
    }

    @Override
    public String toString() {
        return "PeriodKey[" + context.keyId() + "/" + context.domain() + "/p=" + context.period() + ", bytes hidden]";
    }
}
