package org.authhmac.james.matchers;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.james.mime4j.dom.address.AddressList;
import org.apache.james.mime4j.dom.address.Mailbox;
import org.apache.james.mime4j.field.address.DefaultAddressParser;
import org.apache.james.mime4j.field.address.LenientAddressParser;

/**
 * Every domain one From field value could be read as naming: the union of several readers, so that a form one
 * parser misreads (group syntax, comments inside the domain, encoded words, full-width dots) is still seen by
 * another. The readers: jakarta.mail strict and lenient (groups expanded), Apache mime4j strict and lenient (groups
 * flattened), and a scan for {@code @} followed by a domain over the text with encoded words decoded as Python's
 * email does ({@link PythonCodecs}; with and without the whitespace between adjacent ones, and adjacent words of one
 * charset decoded together), comments removed, quotes and quoted-pairs dropped, whitespace around
 * dots and {@code @} removed, NFKC and the IDNA dots mapped. Domains come out in the protocol's form: lower case,
 * A-labels, no trailing dot.
 *
 * <p>The caller bounds the input (size and number of delimiters, {@link PartnerClaim}) before calling: some of
 * these parsers take time quadratic in the number of unclosed brackets.
 */
final class FromReadings {
    /** Longer text after an {@code @} is no domain (RFC 1035: 255 octets) and is not normalised: doubt, so verify. */
    static final int MAX_DOMAIN_CHARS = 255;

    /**
     * What the readers found: every domain named, and whether the field is clear: a strict parser read it as
     * mailboxes with domains, and no reader met domain text longer than {@link #MAX_DOMAIN_CHARS}.
     */
    record Reading(Set<String> domains, boolean clear) {
    }

    private final Set<String> found = new LinkedHashSet<>();
    /** Raw domain text to its normal form: the scan meets the same text in several variants. */
    private final Map<String, Optional<String>> normalised = new HashMap<>();
    private boolean overlong;

    private FromReadings() {
    }

    /**
     * Reads a From field value as it stands in the message (folded) and unfolded, each also in its other 8-bit
     * reading (UTF-8 header bytes that jakarta.mail read one char per byte, and the reverse: mime4j's lenient
     * parser reads bytes, so a domain in UTF-8 reaches it cut and mangled, as James's IMAP ENVELOPE shows it).
     * Never throws.
     */
    static Reading read(String fieldValue) {
        FromReadings readings = new FromReadings();
        String unfolded = PartnerClaim.unfold(fieldValue).strip();
        Set<String> forms = withOtherEightBitReading(unfolded);
        boolean strictlyReadable = false;
        for (String form : forms) {
            strictlyReadable |= readings.jakarta(form, true);
            strictlyReadable |= readings.mime4j(form, true);
            readings.scan(form);
        }
        // The lenient parsers also read the folded field: mime4j's counts bytes, and reads folded text otherwise.
        forms.addAll(withOtherEightBitReading(fieldValue));
        for (String form : forms) {
            readings.jakarta(form, false);
            readings.mime4j(form, false);
        }
        return new Reading(readings.found, strictlyReadable && !readings.overlong);
    }

    private static Set<String> withOtherEightBitReading(String text) {
        Set<String> forms = new LinkedHashSet<>();
        forms.add(text);
        TextForms.otherEightBitReading(text).ifPresent(forms::add);
        return forms;
    }

    /**
     * jakarta.mail's reading, groups expanded ({@code Board:ceo@a.example;} is one "address" whose text ends in
     * "a.example;" until its group is opened). True when it read at least one mailbox and each has a domain.
     */
    private boolean jakarta(String value, boolean strict) {
        boolean read = jakarta(() -> InternetAddress.parseHeader(value, strict), strict);
        if (!strict) {
            jakarta(() -> InternetAddress.parse(value, false), false);
        }
        return read;
    }

    private interface AddressParse {
        InternetAddress[] parse() throws AddressException;
    }

    private boolean jakarta(AddressParse parse, boolean strict) {
        boolean complete = true;
        int mailboxes = 0;
        try {
            for (InternetAddress a : parse.parse()) {
                InternetAddress[] members = a.isGroup() ? a.getGroup(strict) : new InternetAddress[] {a};
                for (InternetAddress m : members == null ? new InternetAddress[0] : members) {
                    mailboxes++;
                    complete &= addressDomain(m.getAddress());
                }
            }
        } catch (AddressException | RuntimeException e) {
            return false;
        }
        return complete && mailboxes > 0;
    }

    /** mime4j's reading (DefaultAddressParser is strict, LenientAddressParser what James's mailbox uses). */
    private boolean mime4j(String value, boolean strict) {
        try {
            String text = EncodedWords.withKnownCharsets(value);
            AddressList list = strict ? DefaultAddressParser.DEFAULT.parseAddressList(text)
                    : LenientAddressParser.DEFAULT.parseAddressList(text);
            boolean complete = true;
            int mailboxes = 0;
            for (Mailbox m : list.flatten()) {
                mailboxes++;
                String domain = m.getDomain();
                if (domain == null || domain.isBlank()) {
                    complete = false;
                } else {
                    addParsed(domain);
                }
            }
            return complete && mailboxes > 0;
        } catch (org.apache.james.mime4j.field.address.ParseException | RuntimeException e) {
            return false;
        } catch (Error e) {
            return mime4jDecodingError(e);
        }
    }

    /**
     * mime4j's DecoderUtil wraps the IOException of a badly padded base64 encoded word ({@code =?utf-8?b?=QQA?=})
     * in a plain {@link Error} (0.8.9 and 0.8.13): that one is a parse failure; any other Error is rethrown.
     */
    static boolean mime4jDecodingError(Error e) {
        if (e.getClass() != Error.class) {
            throw e;
        }
        return false;
    }

    private boolean addressDomain(String address) {
        int at = address == null ? -1 : address.lastIndexOf('@');
        if (at < 0 || at == address.length() - 1) {
            return false;
        }
        addParsed(address.substring(at + 1));
        return true;
    }

    /** A domain a parser returned, as it is and with NFKC and the IDNA dots applied. */
    private void addParsed(String domain) {
        String d = domain.strip();
        add(d);
        add(TextForms.nfkc(d));
    }

    private void add(String rawDomain) {
        if (rawDomain.length() > MAX_DOMAIN_CHARS) {
            overlong = true;
            return;
        }
        normalised.computeIfAbsent(rawDomain, AtDomains::normalDomain).ifPresent(found::add);
    }

    /**
     * The raw scan: {@code @} followed by a domain, in every reading of the text a mail client might make. Each
     * variant is a superset reading (it can only add domains), so their union fails closed.
     */
    private void scan(String text) {
        for (String v : TextForms.scanned(text)) {
            for (boolean dropControls : new boolean[] {true, false}) {
                AtDomains.after(v, dropControls, false, this::add);
                AtDomains.after(v, dropControls, true, this::add);
            }
        }
    }

}
