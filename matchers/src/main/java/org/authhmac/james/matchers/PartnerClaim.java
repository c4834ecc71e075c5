package org.authhmac.james.matchers;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.authhmac.james.Parameters;
import org.authhmac.james.Utf8Reading;
import org.authhmac.protocol.AuthorDomain;

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
    /**
     * A From field with more double quotes than this is verified without being parsed: mime4j's lenient parser takes
     * tens of milliseconds on an 8 KB field of a few hundred quotes. A display name needs two, a few more with
     * quoted pairs.
     */
    static final int MAX_QUOTES = 16;

    enum Basis {
        /** Some reading of the From field names a partner domain. */
        FROM_NAMES_PARTNER,
        /** No From field. */
        NO_FROM,
        /** More than one From field (the verifier answers duplicate-header). */
        SEVERAL_FROM,
        /** A From field without content. */
        EMPTY_FROM,
        /** Over {@link #MAX_FIELD_CHARS}, {@link #MAX_DELIMITERS}, {@link #MAX_ENCODED_WORDS} or {@link #MAX_QUOTES}: not parsed. */
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
        if (author.isPresent() && namesAnotherAddress(fromFields.get(0))) {
            // One mailbox in the author domain, but a display name or comment shows another address
            // ("ceo@b.example" <mallory@a.example>), which the reader may take for the author. The reference signer
            // refuses such a field (SigningPolicy: it names another address): no pass vouches for it here either.
            author = Optional.empty();
        }
        return new PartnerClaim(verify, basis, Collections.unmodifiableSet(claimed), author);
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
        if (raw.length() > MAX_FIELD_CHARS || delimiters(raw) > MAX_DELIMITERS || encodedWordStarts(raw) > MAX_ENCODED_WORDS
                || raw.chars().filter(c -> c == '"').count() > MAX_QUOTES) {
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

    /**
     * Whether the field shows an {@code @} besides its mailbox's own address, in any reading: encoded words decoded
     * (each alone, and as email.header.decode_header joins adjacent ones), NFKC (full-width and small {@code @}),
     * invisible characters removed, and the other 8-bit reading. The same rule as the signer's; a display name that
     * repeats the address itself is allowed.
     */
    static boolean namesAnotherAddress(String raw) {
        String address;
        try {
            jakarta.mail.internet.InternetAddress[] list = jakarta.mail.internet.InternetAddress.parseHeader(unfold(raw), true);
            address = list.length == 1 ? list[0].getAddress() : null;
        } catch (jakarta.mail.internet.AddressException | RuntimeException e) {
            address = null;
        }
        if (address == null) {
            return true;
        }
        java.util.regex.Pattern own = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(
                java.text.Normalizer.normalize(address, java.text.Normalizer.Form.NFKC)),
                java.util.regex.Pattern.CASE_INSENSITIVE | java.util.regex.Pattern.UNICODE_CASE);
        String text = unfold(raw);
        for (String form : new String[] {text, Utf8Reading.of(text)}) {
            for (String decoded : List.of(EncodedWords.decodeEncodedWords(form), EncodedWords.decodeAdjacentWordsTogether(form))) {
                String shown = TextForms.withoutIgnorables(java.text.Normalizer.normalize(decoded, java.text.Normalizer.Form.NFKC));
                if (own.matcher(shown).replaceAll("").indexOf('@') >= 0) {
                    return true;
                }
            }
        }
        return false;
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
