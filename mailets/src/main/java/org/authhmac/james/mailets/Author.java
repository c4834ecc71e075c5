package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.internet.ParseException;
import java.io.UnsupportedEncodingException;
import java.text.Normalizer;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetException;
import org.authhmac.james.Parameters;
import org.authhmac.james.Utf8Reading;
import org.authhmac.protocol.AuthorDomain;
import org.authhmac.protocol.Recipients;

/**
 * The From field's single mailbox as the signer reads it, strictly, or why it cannot be read so: exactly one From
 * field, holding exactly one mailbox (no group, no source route, no encoded word in the address, a host name as
 * domain), whose domain must also be the protocol's {@code AuthorDomain} reading, which verifiers use for their
 * from-mismatch rule. {@link SigningPolicy} decides with it.
 *
 * @param localPart lower case (ASCII)
 * @param domain in normal form (lower case, A-labels)
 * @param namesAnotherAddress the field shows an {@code @} besides the mailbox's own address
 * @param problem why the field cannot be read, null when it can
 */
record Author(String localPart, String domain, boolean namesAnotherAddress, String problem) {
    /** Bounds before the From field is parsed (as the receiving side's): over them the From is unreadable. */
    static final int MAX_FROM_CHARS = 8192;
    static final int MAX_FROM_DELIMITERS = 256;
    static final int MAX_ENCODED_WORDS = 32;
    private static final Pattern FOLD = Pattern.compile("\r?\n(?=[ \t])");
    private static final Pattern ENCODED_WORD = Pattern.compile("=\\?[^?]*\\?[bBqQ]\\?[^?]*\\?=");

    static Author unreadable(String problem) {
        return new Author(null, null, false, problem);
    }

    boolean readable() {
        return problem == null;
    }

    String address() {
        return localPart + "@" + domain;
    }

    /** Reads the author of the message; never throws. */
    static Author read(Mail mail) {
        String[] fields;
        try {
            fields = mail.getMessage().getHeader("From");
        } catch (MessagingException | RuntimeException e) {
            return unreadable("the header cannot be read: " + e.getMessage());
        }
        if (fields == null || fields.length == 0) {
            return unreadable("no From field");
        }
        if (fields.length > 1) {
            return unreadable(fields.length + " From fields");
        }
        return read(fields[0]);
    }

    /** Reads one From field value (folded or not); never throws. */
    static Author read(String fieldValue) {
        if (fieldValue.length() > MAX_FROM_CHARS) {
            return unreadable("longer than " + MAX_FROM_CHARS + " characters");
        }
        String value = FOLD.matcher(fieldValue).replaceAll("");
        int delimiters = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                return unreadable("a control character");
            }
            if ("<(\"\\:;,@[".indexOf(c) >= 0) {
                delimiters++;
            }
        }
        if (delimiters > MAX_FROM_DELIMITERS) {
            return unreadable("more than " + MAX_FROM_DELIMITERS + " delimiters");
        }
        InternetAddress mailbox;
        try {
            InternetAddress[] list = InternetAddress.parseHeader(value, true);
            if (list.length != 1 || list[0].isGroup()) {
                return unreadable(list.length == 1 ? "a group" : list.length + " addresses");
            }
            mailbox = list[0];
        } catch (AddressException | RuntimeException e) {
            return unreadable("not an RFC 5322 mailbox");
        }
        String address = mailbox.getAddress();
        int at = address == null ? -1 : address.lastIndexOf('@');
        // refused, because readers disagree on them: a source route, and an encoded word in the address
        if (at <= 0 || address.startsWith("@") || address.contains("=?")) {
            return unreadable("no plain local-part@domain address");
        }
        String domain;
        try {
            domain = Parameters.domain("From", address.substring(at + 1));
        } catch (MailetException e) {
            return unreadable("the domain is not a host name");
        }
        if (!AuthorDomain.of(fieldValue).equals(Optional.of(domain))) {
            // the verifier would answer from-mismatch: tell the user now instead of holding the mail later
            return unreadable("the author domain as verifiers read it (PROTOCOL.md 9.2) is not " + domain);
        }
        String localPart = Recipients.lowerAscii(address.substring(0, at));
        Optional<Boolean> other = namesAnotherAddress(value, address);
        if (other.isEmpty()) {
            return unreadable("an encoded word in an unknown charset");
        }
        return new Author(localPart, domain, other.get(), null);
    }

    /**
     * Whether the field, with encoded words decoded (wherever they stand) and NFKC applied (full-width forms), holds
     * an {@code @} besides the mailbox's own address: a display name or comment that names somebody else
     * ({@code "ceo@a.example" <alice@a.example>}). A display name that repeats the address itself is common and
     * allowed. Empty when an encoded word cannot be decoded or there are too many of them.
     */
    private static Optional<Boolean> namesAnotherAddress(String value, String address) {
        StringBuilder text = new StringBuilder(value.length());
        Matcher word = ENCODED_WORD.matcher(value);
        int words = 0;
        try {
            while (word.find()) {
                if (++words > MAX_ENCODED_WORDS) {
                    return Optional.empty();
                }
                word.appendReplacement(text, Matcher.quoteReplacement(MimeUtility.decodeWord(word.group())));
            }
        } catch (ParseException | UnsupportedEncodingException | RuntimeException e) {
            return Optional.empty();
        }
        word.appendTail(text);
        Pattern own = Pattern.compile(Pattern.quote(Normalizer.normalize(address, Normalizer.Form.NFKC)),
                Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
        for (String form : new String[] {text.toString(), Utf8Reading.of(text.toString())}) {
            String rest = own.matcher(Normalizer.normalize(form, Normalizer.Form.NFKC)).replaceAll("");
            if (rest.indexOf('@') >= 0) {
                return Optional.of(true);
            }
        }
        return Optional.of(false);
    }
}
