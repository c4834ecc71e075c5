package org.authhmac.james.testing;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;

/** Messages as they are written by a mail client and as they arrive at the receiving James. */
public final class Mails {
    private static int counter;

    private Mails() {
    }

    public static MimeMessage parse(String raw) throws MessagingException {
        return parse(raw.getBytes(StandardCharsets.UTF_8));
    }

    public static MimeMessage parse(byte[] raw) throws MessagingException {
        return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(raw));
    }

    public static String message(String from, String to, String subject, String body) {
        counter++;
        return "From: " + from + "\r\n"
                + "To: " + to + "\r\n"
                + "Subject: " + subject + "\r\n"
                + "Date: Sun, 22 Nov 2026 02:00:00 +0000\r\n"
                + "Message-ID: <m" + counter + "-" + System.nanoTime() + "@a.example>\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: 7bit\r\n"
                + "\r\n"
                + body + "\r\n";
    }

    /**
     * An outbound mail on the sending server, recipients as in the envelope, submitted with SMTP AUTH by the
     * envelope sender (James records the user in {@code Mail.SMTP_AUTH_USER}).
     */
    public static FakeMail outbound(String raw, String sender, String... recipients) throws MessagingException {
        return FakeMail.builder().name("out-" + (++counter)).mimeMessage(parse(raw)).sender(sender)
                .recipients(recipients).attribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of(sender)))
                .state("relay").build();
    }

    /** An outbound mail that nobody submitted here with SMTP AUTH: a forward of mail from elsewhere, a redirect, a reply. */
    public static FakeMail relayed(String raw, String sender, String... recipients) throws MessagingException {
        return FakeMail.builder().name("out-" + (++counter)).mimeMessage(parse(raw)).sender(sender)
                .recipients(recipients).state("relay").build();
    }

    /** The same mail as the receiving James sees it: same bytes and envelope, accepted at {@code acceptedAt}. */
    public static FakeMail arrived(Mail sent, Instant acceptedAt) throws MessagingException, IOException {
        return FakeMail.builder().name("in-" + (++counter)).mimeMessage(parse(bytes(sent.getMessage())))
                .sender(sent.getMaybeSender().asString()).recipients(List.copyOf(sent.getRecipients()))
                .lastUpdated(Date.from(acceptedAt)).state("auth-hmac-verify").build();
    }

    /** A mail that arrives straight from the outside, never signed by anybody. */
    public static FakeMail arrivedRaw(String raw, String sender, Instant acceptedAt, String... recipients) throws MessagingException {
        return FakeMail.builder().name("in-" + (++counter)).mimeMessage(parse(raw)).sender(sender)
                .recipients(recipients).lastUpdated(Date.from(acceptedAt)).state("auth-hmac-verify").build();
    }

    public static byte[] bytes(MimeMessage message) throws MessagingException, IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        message.writeTo(out);
        return out.toByteArray();
    }

    public static String text(MimeMessage message) throws MessagingException, IOException {
        return new String(bytes(message), StandardCharsets.UTF_8);
    }

    public static MailAddress address(String a) {
        try {
            return new MailAddress(a);
        } catch (jakarta.mail.internet.AddressException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
