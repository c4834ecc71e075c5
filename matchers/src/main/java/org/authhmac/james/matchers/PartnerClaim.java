package org.authhmac.james.matchers;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.authhmac.protocol.AuthorDomain;
import org.authhmac.james.Parameters;

/**
 * Whether a mail must be verified, and which partner it claims to come from. Fails closed: a mail is left alone
 * only when it has exactly one From field, small enough to read, that the strict parsers read as mailboxes with
 * domains, that no reader takes for a partner address, and its envelope sender is not a partner either.
 *
 * <p>{@code authorDomain} is the From domain read strictly (one mailbox, parsers agreeing): the only domain a
 * passing signature may be made for, and what Authentication-Results reports as {@code header.from}.
 *
 * @param mustVerify      the mail goes to the verifier
 * @param basis           why (or why not)
 * @param claimedPartners the partner domains some reading of the From field, or the envelope sender, names
 * @param authorDomain    the strictly read From domain, when the mail is verified and it has one
 */
record PartnerClaim(boolean mustVerify, Basis basis, Set<String> claimedPartners, Optional<String> authorDomain) {
    /** A From field (raw, with its folding) longer than this is verified without being parsed. */
    static final int MAX_FIELD_CHARS = 8192;
    /**
     * A From field with more delimiters than this ({@code < ( " \ : ; , @ [} and {@code =?}) is verified without
     * being parsed: jakarta.mail's lenient parser takes time quadratic in the number of unclosed brackets. A real
     * From field has a handful.
     */
    static final int MAX_DELIMITERS = 256;
    /**
     * A From field with more encoded-word starts ({@code =?}) than this is verified without being parsed: mime4j
     * searches for the end of each one to the end of the field. A long display name needs a few.
     */
    static final int MAX_ENCODED_WORDS = 32;

    enum Basis {
        /** Some reading of the From field names a partner domain. */
        FROM_NAMES_PARTNER,
        /** No From field. */
        NO_FROM,
        /** More than one From field (the verifier answers duplicate-header). */
        SEVERAL_FROM,
        /** A From field without content. */
        EMPTY_FROM,
        /** Over {@link #MAX_FIELD_CHARS}, {@link #MAX_DELIMITERS} or {@link #MAX_ENCODED_WORDS}: not parsed. */
        FROM_OVER_BOUND,
        /** No strict parser reads the field as mailboxes that all have a domain, or a reader met an overlong domain. */
        FROM_UNREADABLE,
        /** The From field names no partner, the envelope sender's domain is one. */
        ENVELOPE_SENDER,
        /** Nothing claims a partner: the mail is left alone. */
        NOT_CLAIMED
    }

    /**
     * @param fromFields           the raw values of every From field of the message, top to bottom
     * @param envelopeSenderDomain the envelope sender's domain, empty for the null sender
     * @param partnerDomains       the partner domains, lower case, A-labels
     */
    static PartnerClaim of(List<String> fromFields, Optional<String> envelopeSenderDomain, Set<String> partnerDomains) {
        Set<String> claimed = new LinkedHashSet<>();
        Basis basis = fromField(fromFields, partnerDomains, claimed);
        Optional<String> sender = envelopeSenderDomain.flatMap(Parameters::normalDomain).filter(partnerDomains::contains);
        sender.ifPresent(claimed::add);
        if (basis == Basis.NOT_CLAIMED && sender.isPresent()) {
            basis = Basis.ENVELOPE_SENDER;
        }
        boolean verify = basis != Basis.NOT_CLAIMED;
        boolean readable = fromFields.size() == 1 && basis != Basis.FROM_OVER_BOUND;
        Optional<String> author = verify && readable ? agreedAuthor(fromFields.get(0)) : Optional.empty();
        return new PartnerClaim(verify, basis, Set.copyOf(claimed), author);
    }

    /**
     * The protocol's author domain (PROTOCOL.md 9.2, what the verifier aligns d= with), kept only when jakarta.mail's
     * and mime4j's strict parsers, which mail clients are built on, read the same one: a From that parsers read
     * differently names no author, so no signature passes for it.
     */
    private static Optional<String> agreedAuthor(String fromField) {
        Optional<String> protocol = AuthorDomain.of(fromField);
        return protocol.isPresent() && protocol.equals(StrictAuthorDomain.of(fromField)) ? protocol : Optional.empty();
    }

    private static Basis fromField(List<String> fromFields, Set<String> partnerDomains, Set<String> claimed) {
        if (fromFields.isEmpty()) {
            return Basis.NO_FROM;
        }
        if (fromFields.size() > 1) {
            return Basis.SEVERAL_FROM;
        }
        String raw = fromFields.get(0);
        if (raw.length() > MAX_FIELD_CHARS || delimiters(raw) > MAX_DELIMITERS || encodedWordStarts(raw) > MAX_ENCODED_WORDS) {
            return Basis.FROM_OVER_BOUND;
        }
        if (unfold(raw).isBlank()) {
            return Basis.EMPTY_FROM;
        }
        FromReadings.Reading reading = FromReadings.read(raw);
        reading.domains().stream().filter(partnerDomains::contains).forEach(claimed::add);
        if (!claimed.isEmpty()) {
            return Basis.FROM_NAMES_PARTNER;
        }
        return reading.clear() ? Basis.NOT_CLAIMED : Basis.FROM_UNREADABLE;
    }

    static int encodedWordStarts(String raw) {
        int n = 0;
        for (int i = raw.indexOf("=?"); i >= 0; i = raw.indexOf("=?", i + 2)) {
            n++;
        }
        return n;
    }

    static int delimiters(String raw) {
        int n = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if ("<(\"\\:;,@[".indexOf(c) >= 0 || (c == '=' && i + 1 < raw.length() && raw.charAt(i + 1) == '?')) {
                n++;
            }
        }
        return n;
    }

    /** A header field value unfolded: the line breaks of its folding removed (RFC 5322 2.2.3). */
    static String unfold(String value) {
        return value.replace("\r", "").replace("\n", "");
    }
}
