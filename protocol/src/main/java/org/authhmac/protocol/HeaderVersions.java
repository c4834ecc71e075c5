package org.authhmac.protocol;

import java.util.List;
import java.util.Set;

/**
 * The header versions this implementation knows, and the choice among them: a verifier reads only the versions its
 * settings accept ({@link VerifierSettings#acceptedVersions()}); anything else in v= is unsupported-version.
 */
final class HeaderVersions {
    /** Every known version; a new one is one more entry here. */
    private static final List<HeaderFormat> KNOWN = List.of(new HeaderFormatV1());
    /** The version a signer writes. */
    static final HeaderFormat SIGNING = of(HeaderFormatV1.VERSION);
    /** The versions a verifier accepts unless told otherwise. */
    static final Set<Integer> DEFAULT_ACCEPTED = Set.of(HeaderFormatV1.VERSION);

    private HeaderVersions() {
    }

    /** @throws IllegalArgumentException no such version is known */
    static HeaderFormat of(int version) {
        for (HeaderFormat f : KNOWN) {
            if (f.version() == version) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown header version " + version);
    }

    /**
     * Reads v= and parses the tag list with that version's format.
     *
     * @throws SignatureFormatException unsupported-version when v= names no version in {@code accepted}, else as
     *                                  {@link HeaderFormat#parse}
     */
    static SignatureHeader parse(TagList tags, Set<Integer> accepted) throws SignatureFormatException {
        String v = TagValues.scalar(tags, "v");
        for (HeaderFormat f : KNOWN) {
            // Compared as text: "01" or "+1" is no version.
            if (accepted.contains(f.version()) && v.equals(Integer.toString(f.version()))) {
                return f.parse(tags);
            }
        }
        throw new SignatureFormatException(Reason.UNSUPPORTED_VERSION, "unsupported version v=" + TagList.printable(v));
    }
}
