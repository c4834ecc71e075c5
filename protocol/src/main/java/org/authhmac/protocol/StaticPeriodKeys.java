package org.authhmac.protocol;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Period keys derived in software from primaries held in memory: for mail clients that keep their own
 * secret, for tests and for the test vectors. Server deployments use a key vault instead.
 */
public final class StaticPeriodKeys implements PeriodKeys {
    private final Map<String, byte[]> primaries;

    private StaticPeriodKeys(Map<String, byte[]> primaries) {
        this.primaries = primaries;
    }

    /** Key id -> primary secret (at least 16 bytes; 32 recommended); the arrays are copied. */
    public static StaticPeriodKeys of(Map<String, byte[]> primaries) {
        Map<String, byte[]> copy = new HashMap<>();
        primaries.forEach((id, key) -> {
            if (!SignatureHeader.isKeyId(id)) {
                throw new IllegalArgumentException("key id must be 1..64 characters of [A-Za-z0-9._-]: " + TagList.printable(id));
            }
            if (Objects.requireNonNull(key, "primary").length < 16) {
                throw new IllegalArgumentException("primary for key id " + id + " must be at least 16 bytes");
            }
            copy.put(id, Arrays.copyOf(key, key.length));
        });
        return new StaticPeriodKeys(copy);
    }

    public static StaticPeriodKeys of(String keyId, byte[] primary) {
        return of(Map.of(keyId, primary));
    }

    @Override
    public PeriodKey periodKey(KdfContext context) throws UnknownKeyException {
        byte[] primary = primaries.get(context.keyId());
        if (primary == null) {
            throw new UnknownKeyException("no primary for key id " + context.keyId());
        }
        byte[] k = Kdf.derive(primary, context);
        try {
            return PeriodKey.of(context, k);
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "StaticPeriodKeys" + primaries.keySet() + " (secrets hidden)";
    }
}
