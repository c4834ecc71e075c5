package org.authhmac.protocol;

import java.util.Locale;

/**
 * The c= value: the header and the body canonicalization (RFC 6376 §3.5). The one reading of "header/body" for
 * the signature header, the signer and the mailets' configuration.
 */
public enum CanonicalizationPolicy {
    SIMPLE_SIMPLE(Canonicalization.SIMPLE, Canonicalization.SIMPLE),
    SIMPLE_RELAXED(Canonicalization.SIMPLE, Canonicalization.RELAXED),
    RELAXED_SIMPLE(Canonicalization.RELAXED, Canonicalization.SIMPLE),
    RELAXED_RELAXED(Canonicalization.RELAXED, Canonicalization.RELAXED);

    private final Canonicalization header;
    private final Canonicalization body;
    private final String tag;

    CanonicalizationPolicy(Canonicalization header, Canonicalization body) {
        this.header = header;
        this.body = body;
        this.tag = header.token() + "/" + body.token();
    }

    public Canonicalization header() {
        return header;
    }

    public Canonicalization body() {
        return body;
    }

    /** The c= value, lower case, always in its full "header/body" form. */
    public String tag() {
        return tag;
    }

    public static CanonicalizationPolicy of(Canonicalization header, Canonicalization body) {
        return values()[2 * header.ordinal() + body.ordinal()];
    }

    /**
     * A c= value: each part simple or relaxed, case-insensitive. As in DKIM, a lone algorithm names the header
     * canonicalization and the body one is simple.
     *
     * @throws IllegalArgumentException anything else
     */
    public static CanonicalizationPolicy fromTag(String value) {
        if (value.equals(RELAXED_RELAXED.tag)) {
            // What every signer of ours writes, asked for several times per verification: no lower-casing or splitting.
            return RELAXED_RELAXED;
        }
        String lower = value.toLowerCase(Locale.ROOT);
        int slash = lower.indexOf('/');
        Canonicalization header = part(slash < 0 ? lower : lower.substring(0, slash), value);
        Canonicalization body = slash < 0 ? Canonicalization.SIMPLE : part(lower.substring(slash + 1), value);
        return of(header, body);
    }

    private static Canonicalization part(String token, String value) {
        Canonicalization c = WireToken.find(Canonicalization.values(), token, false);
        if (c == null) {
            throw new IllegalArgumentException("c= must be simple or relaxed, optionally /simple or /relaxed, found '"
                    + TagList.printable(value) + "'");
        }
        return c;
    }
}
