package org.authhmac.protocol;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * An enum constant written on the wire or in configuration as a token (a reason, a result, a canonicalization): the
 * constant's name in lower case with '-' for '_', so that a constant's name is part of the wire contract. Also the
 * one lookup of a constant by its token that every such enum uses.
 */
public interface WireToken {

    /** The token as it is written: {@code NO_SIGNATURE} is "no-signature". */
    default String token() {
        return ((Enum<?>) this).name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The constant of {@code values} whose token is {@code token}, compared exactly or ignoring case; null when none
     * is.
     */
    static <E extends Enum<E> & WireToken> E find(E[] values, String token, boolean ignoreCase) {
        for (E e : values) {
            if (ignoreCase ? e.token().equalsIgnoreCase(token) : e.token().equals(token)) {
                return e;
            }
        }
        return null;
    }

    /**
     * The same, for a token that must name one.
     *
     * @throws IllegalArgumentException with {@code problem}'s text (each enum says what it expected) when none does
     */
    static <E extends Enum<E> & WireToken> E of(E[] values, String token, boolean ignoreCase, Supplier<String> problem) {
        E e = find(values, token, ignoreCase);
        if (e == null) {
            throw new IllegalArgumentException(problem.get());
        }
        return e;
    }
}
