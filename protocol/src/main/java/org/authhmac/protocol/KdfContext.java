package org.authhmac.protocol;

import java.util.Locale;
import java.util.Objects;

/**
 * What a period key is derived for: the header version (it names the KDF label), key id, signing domain, period
 * length and period index. The domain is held in lower case so that "A.example" and "a.example" derive the same key.
 */
public record KdfContext(int version, String keyId, String domain, int periodSeconds, long period) {
    public KdfContext {
        HeaderVersions.of(version);
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(domain, "domain");
        domain = domain.toLowerCase(Locale.ROOT);
        if (periodSeconds <= 0) {
            throw new IllegalArgumentException("periodSeconds must be positive: " + periodSeconds);
        }
        if (period < 0) {
            throw new IllegalArgumentException("period must not be negative: " + period);
        }
    }

    /** The context of a signature of the version signers write. */
    public KdfContext(String keyId, String domain, int periodSeconds, long period) {
        this(HeaderVersions.SIGNING.version(), keyId, domain, periodSeconds, period);
    }

    /** The period index of a Unix time: floor(unixSeconds / periodSeconds), as in RFC 6238. */
    public static long periodOf(long unixSeconds, int periodSeconds) {
        return Math.floorDiv(unixSeconds, periodSeconds);
    }
}
