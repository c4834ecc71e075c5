package org.authhmac.james.testing;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * A parsed message that behaves as James's MimeMessageWrapper does once a header was edited: writing it runs
 * {@code saveChanges()}, which parses the MIME structure again. A plain parsed MimeMessage skips that (it counts
 * as saved), so without this a test would not see what real James does with malformed MIME.
 */
public final class UnsavedMessage extends MimeMessage {
    /** A multipart whose boundary never occurs: JavaMail says "Missing start boundary" when it parses it. */
    public static final String NO_BOUNDARY = "From: ceo@a.example\r\nTo: bob@b.example\r\nSubject: report\r\n"
            + "Message-ID: <m@a.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"never-there\"\r\n"
            + "\r\nno boundary here\r\n";

    private UnsavedMessage(byte[] raw) throws MessagingException {
        super(Session.getInstance(new Properties()), new ByteArrayInputStream(raw));
        saved = false;
    }

    public static UnsavedMessage of(String raw) throws MessagingException {
        return new UnsavedMessage(raw.getBytes(StandardCharsets.US_ASCII));
    }
}
