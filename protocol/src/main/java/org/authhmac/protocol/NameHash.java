package org.authhmac.protocol;

import java.security.SecureRandom;

/**
 * A hash of a lower-cased header field name that nobody outside this JVM can make collide: the name's octets, seven
 * at a time, are the coefficients of a polynomial evaluated modulo the prime 2^61 - 1 at a point drawn at random when
 * the class loads (with the length as leading coefficient), and that value is brought to 32 bits by multiply-shift with
 * a random odd multiplier. Two distinct names of up to L octets get the same value with probability at most about
 * (L / 7 + 1) / 2^61 + 2^-31, whatever they are, so the tables keyed by it ({@link FieldCounts}) stay linear on names chosen to
 * collide (String.hashCode gives 2^k distinct names of length 2k one value). The high bits are the best ones: take a
 * table slot from the top ({@code hash >>> (32 - bits)}).
 *
 * <p>{@link #begin}, {@link #add} and {@link #end} let a caller that already loops over the octets (the field scan)
 * hash them as it goes; {@link #of(String)} hashes a name held in a String (one char per octet) to the same value.
 */
final class NameHash {
    private static final long P = (1L << 61) - 1;
    private static final long R;
    private static final long MULTIPLIER;

    static {
        SecureRandom random = new SecureRandom();
        // A point in [2^32, P): never a small one.
        R = (1L << 32) + Math.floorMod(random.nextLong(), P - (1L << 32));
        MULTIPLIER = random.nextLong() | 1;
    }

    private NameHash() {
    }

    /** (a * b) mod P for a, b in [0, P). */
    private static long mulMod(long a, long b) {
        long lo = a * b;
        long hi = Math.multiplyHigh(a, b);
        long r = (lo & P) + ((lo >>> 61) | (hi << 3));
        return r >= P ? r - P : r;
    }

    /** The accumulator for a name of {@code length} octets (the leading coefficient). */
    static long begin(int length) {
        return length + 1L;
    }

    /** The accumulator after one more coefficient {@code chunk} (up to seven octets, below 2^56). */
    static long add(long acc, long chunk) {
        long r = mulMod(acc, R) + chunk;
        return r >= P ? r - P : r;
    }

    /** The hash from the accumulator after the last coefficient. */
    static int end(long acc) {
        return (int) ((acc * MULTIPLIER) >>> 32);
    }

    /** The hash of a lower-cased name given as a String of one char per octet. */
    static int of(String lower) {
        int len = lower.length();
        long acc = begin(len);
        long chunk = 0;
        int inChunk = 0;
        for (int i = 0; i < len; i++) {
            chunk = chunk << 8 | (lower.charAt(i) & 0xFF);
            if (++inChunk == 7) {
                acc = add(acc, chunk);
                chunk = 0;
                inChunk = 0;
            }
        }
        if (inChunk > 0) {
            acc = add(acc, chunk);
        }
        return end(acc);
    }
}
