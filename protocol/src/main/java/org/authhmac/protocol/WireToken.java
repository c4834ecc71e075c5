package org.authhmac.protocol;

/**
 * An enum constant written on the wire or in configuration as a token (a reason, a result, a canonicalization); the
 * one lookup of a constant by its token that every such enum uses.
 */
public interface WireToken {

    /** The token as it is written. */
    String token();

    /**
     * The constant of {@code values} whose token is {@code token}, compared exactly or ignoring case; null when none
     * is, so that each enum says in its own words what it expected.
     */
    static <E extends Enum<E> & WireToken> E find(E[] values, String token, boolean ignoreCase) {
        for (E e : values) {
            if (ignoreCase ? e.token().equalsIgnoreCase(token) : e.token().equals(token)) {
                return e;
            }
        }
        return null;
    }
}
