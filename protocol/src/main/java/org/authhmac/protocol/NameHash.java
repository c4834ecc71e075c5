package org.authhmac.protocol;

import java.security.SecureRandom;

/**
 * A hash of a lower-cased header field name that nobody outside this JVM can make collide. The name's octets, eight
 * at a time ({@link #coefficient}: field names are ASCII), are the coefficients of a polynomial evaluated modulo the
 * prime 2^61 - 1 at a point drawn at random when the class loads, and that value is brought to 32 bits by
 * multiply-shift with a random odd multiplier. For names of octets 1-127 (field names are 33-126) distinct names give
 * distinct polynomials, so two distinct names of up to L octets get the same value with probability at most about
 * (L / 8 + 1) / 2^61 + 2^-31, whatever they are: the tables keyed by it ({@link FieldCounts}) stay linear on names
 * chosen to collide (String.hashCode gives 2^k distinct names of length 2k one value). The high bits are the best
 * ones: take a table slot from the top ({@code hash >>> (32 - bits)}). A name of up to 8 octets costs no modular
 * multiplication, one of up to 16 octets one.
 *
 * <p>A caller that already loops over the octets (the field scan) hashes them as it goes: the first chunk's
 * coefficient is the accumulator, each further one is {@link #add}ed, then {@link #end} gives the hash.
 * {@link #of(String)} hashes a name held in a String (one char per octet) to the same value.
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

    /** Octets per chunk. */
    static final int CHUNK = 8;

    /**
     * The coefficient for the chunk of up to eight octets held in {@code w}, first octet lowest, each below 0x80: below
     * 2^61, by moving the two bits above 2^61 into the empty top bits of the first two octets. Distinct chunks of name
     * octets (1-127) give distinct coefficients, a full one and a shorter one included: a full chunk's last octet sets
     * one of those two bits, a shorter chunk never does, and shorter chunks of different lengths differ in their top
     * octet.
     */
    static long coefficient(long w) {
        return (w & P) | (w >>> 54 & 0x80) | (w >>> 47 & 0x8000);
    }

    /** The accumulator after one more chunk's {@link #coefficient}, from the one before it. */
    static long add(long acc, long chunk) {
        long r = mulMod(acc, R) + chunk;
        return r >= P ? r - P : r;
    }

    /** The hash from the accumulator after the last chunk. */
    static int end(long acc) {
        return (int) ((acc * MULTIPLIER) >>> 32);
    }

    /**
     * {@link HeaderField#nameKey} of a name given as a String: of a lower-case name of 1-8 chars 33-126; 0 for anything
     * else (no field's name of up to eight octets has key 0, so such a String matches none of them, as it would not by
     * comparing the names).
     */
    static long key(String lower) {
        int len = lower.length();
        if (len == 0 || len > CHUNK) {
            return 0;
        }
        long w = 0;
        for (int i = 0; i < len; i++) {
            char c = lower.charAt(i);
            if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z')) {
                return 0;
            }
            w |= (long) c << (8 * i);
        }
        return coefficient(w);
    }

    /** The hash of a lower-cased name given as a String of one char per octet. */
    static int of(String lower) {
        int len = lower.length();
        long acc = 0;
        long chunk = 0;
        int inChunk = 0;
        int chunks = 0;
        for (int i = 0; i < len; i++) {
            chunk |= (long) (lower.charAt(i) & 0x7F) << (8 * inChunk);
            if (++inChunk == CHUNK || i == len - 1) {
                acc = chunks++ == 0 ? coefficient(chunk) : add(acc, coefficient(chunk));
                chunk = 0;
                inChunk = 0;
            }
        }
        return end(acc);
    }
}
