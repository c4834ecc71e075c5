package org.authhmac.james.matchers;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The benchmarks' door to the matcher's package-private {@link PartnerClaim}: whether a mail with this one From field,
 * no envelope sender and one partner domain must be verified. In the matcher's package, in the bench jar only.
 */
public final class FromClaims {
    /** A From field longer than this is verified without being read at all. */
    public static final int MAX_FIELD_CHARS = PartnerClaim.MAX_FIELD_CHARS;

    private FromClaims() {
    }

    /** The decision's basis, so that a benchmark can check it and consume it. */
    public static String basis(String from, String partnerDomain) {
        return PartnerClaim.of(List.of(from), Optional.empty(), Set.of(partnerDomain)).basis().name();
    }
}
