package org.authhmac.james.matchers;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.util.Optional;
import org.apache.james.mime4j.dom.address.Address;
import org.apache.james.mime4j.dom.address.AddressList;
import org.apache.james.mime4j.dom.address.Mailbox;
import org.apache.james.mime4j.field.address.DefaultAddressParser;
import org.apache.james.mime4j.field.address.ParseException;
import org.authhmac.james.Parameters;

/**
 * The author domain of a From field value read strictly: exactly one mailbox (no group, no list, no source route,
 * no encoded word in the address), read alike by two strict parsers (jakarta.mail and Apache mime4j), whose domain is a host name (no
 * domain-literal), in lower case and A-labels. Anything else has no author domain, and then no signature passes (fail closed).
 *
 * <p>The cross-check of {@code org.authhmac.protocol.AuthorDomain}, the reading the protocol defines: a pass also
 * needs the parsers mail clients are built on to read the same domain, so that no From field shows one author to
 * the verifier and another to the reader ({@link PartnerClaim}).
 */
final class StrictAuthorDomain {
    private StrictAuthorDomain() {
    }

    /** The author domain of one From field value (folded or not), or empty. */
    static Optional<String> of(String fieldValue) {
        if (fieldValue == null || fieldValue.length() > PartnerClaim.MAX_FIELD_CHARS) {
            return Optional.empty();
        }
        String value = PartnerClaim.unfold(fieldValue);
        if (hasControl(value)) {
            return Optional.empty();
        }
        Optional<String> jakarta = jakarta(value);
        Optional<String> mime4j = mime4j(withAsciiPlaceholders(value));
        if (jakarta.isEmpty() || mime4j.isEmpty()
                || !withAsciiPlaceholders(jakarta.get()).equalsIgnoreCase(mime4j.get())) {
            return Optional.empty();
        }
        try {
            return Optional.of(Parameters.domain("From", jakarta.get()));
        } catch (org.apache.mailet.MailetException notAHostName) {
            return Optional.empty();
        }
    }

    private static Optional<String> jakarta(String value) {
        try {
            InternetAddress[] list = InternetAddress.parseHeader(value, true);
            if (list.length != 1 || list[0].isGroup()) {
                return Optional.empty();
            }
            String address = list[0].getAddress();
            int at = address == null ? -1 : address.lastIndexOf('@');
            // refused, because readers disagree on them: an obsolete source route (<@relay:ceo@a.example>), and an
            // encoded word in the address, which RFC 2047 forbids there and Python's email decodes anyway
            return at > 0 && !address.startsWith("@") && !address.contains("=?")
                    ? domainPart(address.substring(at + 1)) : Optional.empty();
        } catch (AddressException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> mime4j(String value) {
        try {
            AddressList list = DefaultAddressParser.DEFAULT.parseAddressList(EncodedWords.withKnownCharsets(value));
            if (list.size() != 1) {
                return Optional.empty();
            }
            Address only = list.get(0);
            return only instanceof Mailbox m && m.getDomain() != null && (m.getRoute() == null || m.getRoute().isEmpty())
                    ? domainPart(m.getDomain()) : Optional.empty();
        } catch (ParseException | RuntimeException e) {
            return Optional.empty();
        } catch (Error e) {
            FromReadings.mime4jDecodingError(e);
            return Optional.empty();
        }
    }

    private static Optional<String> domainPart(String domain) {
        String d = domain.trim();
        return d.isEmpty() || d.startsWith("[") ? Optional.empty() : Optional.of(d);
    }

    /**
     * Every non-ASCII char as {@code x}: such chars are never structural, and mime4j's strict parser refuses them
     * anywhere in 0.8.9 (James 3.8.1) but not in 0.8.13 (James 3.9). mime4j then checks the structure alike on
     * both lines, and the domain it reads is compared with jakarta.mail's in the same form.
     */
    private static String withAsciiPlaceholders(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c < 0x80 ? c : 'x');
        }
        return b.toString();
    }

    private static boolean hasControl(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                return true;
            }
        }
        return false;
    }
}
