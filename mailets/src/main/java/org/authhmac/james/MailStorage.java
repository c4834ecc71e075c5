package org.authhmac.james;

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
    private MailStorage() {
    }

    public static MailKey store(MailRepository repository, Mail mail) throws MessagingException {
        try {
            return repository.store(mail);
        } catch (MessagingException | RuntimeException first) {
            MimeMessage frozen;
            try {
                frozen = frozenCopy(mail.getMessage());
            } catch (MessagingException | RuntimeException e) {
                first.addSuppressed(e);
                throw first;
            }
            mail.setMessage(frozen);
            return repository.store(mail);
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

    private static final byte[] CRLF = {'\r', '\n'};
}
