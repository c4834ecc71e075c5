package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.Properties;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.mailet.Mail;

/**
 * Stores a mail in a repository even when JavaMail cannot re-serialize its message. A mail whose header fields were
 * edited is written by JavaMail through {@code saveChanges()}, which parses the MIME structure again: a multipart
 * whose boundary never occurs then throws ("Missing start boundary") and nothing could ever store or deliver it.
 * Such a mail is stored as its header fields and its raw body, unparsed: the bytes that arrived, with our header
 * edits.
 */
public final class MailStorage {
    /** Where the original Content-Transfer-Encoding goes when the stored copy must not be decoded. */
    public static final String ORIGINAL_ENCODING = "X-Auth-HMAC-Original-Content-Transfer-Encoding";

    private MailStorage() {
    }

    /**
     * How a mail was stored: {@code as-is}; {@code unparsed} (header lines and raw body, see {@link #frozenCopy});
     * {@code undecoded}: the same, with a top-level Content-Transfer-Encoding the repository could not decode moved
     * to {@value #ORIGINAL_ENCODING} and replaced by {@code binary} (James's file repository decodes and re-encodes
     * the top-level body, so base64 that does not decode could never be stored). The body bytes are the ones that
     * arrived in every form.
     */
    public record Stored(MailKey key, String form) {
    }

    public static Stored store(MailRepository repository, Mail mail) throws MessagingException {
        try {
            return new Stored(storeOnce(repository, mail), "as-is");
        } catch (MessagingException | RuntimeException first) {
            try {
                mail.setMessage(frozenCopy(mail.getMessage()));
                return new Stored(storeOnce(repository, mail), "unparsed");
            } catch (MessagingException | RuntimeException second) {
                first.addSuppressed(second);
            }
            try {
                mail.setMessage(undecoded(mail.getMessage()));
                return new Stored(storeOnce(repository, mail), "undecoded");
            } catch (MessagingException | RuntimeException third) {
                first.addSuppressed(third);
                throw first;
            }
        }
    }

    /** The repository's store, with a stack overflow in JavaMail's recursive MIME walk (deep nesting) as a MessagingException. */
    private static MailKey storeOnce(MailRepository repository, Mail mail) throws MessagingException {
        try {
            return repository.store(mail);
        } catch (StackOverflowError e) {
            throw new MessagingException("the message's MIME structure cannot be written back: StackOverflowError");
        }
    }

    /**
     * The message as its current header lines and its raw body, without parsing the body: a copy JavaMail writes
     * back byte for byte (it is "saved" and unmodified), whatever its MIME structure.
     */
    public static MimeMessage frozenCopy(MimeMessage message) throws MessagingException {
        ByteArrayOutputStream headers = new ByteArrayOutputStream();
        Enumeration<String> lines = message.getAllHeaderLines();
        while (lines.hasMoreElements()) {
            headers.writeBytes(lines.nextElement().getBytes(StandardCharsets.ISO_8859_1));
            headers.writeBytes(CRLF);
        }
        headers.writeBytes(CRLF);
        InputStream body = message.getRawInputStream();
        return new MimeMessage(Session.getInstance(new Properties()),
                new SequenceInputStream(new ByteArrayInputStream(headers.toByteArray()), body));
    }

    /** {@link #frozenCopy} with the top-level Content-Transfer-Encoding kept aside and {@code binary} in its place. */
    static MimeMessage undecoded(MimeMessage message) throws MessagingException {
        MimeMessage copy = frozenCopy(message);
        String[] encoding = copy.getHeader("Content-Transfer-Encoding");
        if (encoding != null) {
            copy.removeHeader("Content-Transfer-Encoding");
            for (String e : encoding) {
                copy.addHeader(ORIGINAL_ENCODING, e);
            }
        }
        copy.addHeader("Content-Transfer-Encoding", "binary");
        return frozenCopy(copy);
    }

    private static final byte[] CRLF = {'\r', '\n'};
}
