package org.authhmac.testing.james;

import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;

/**
 * A real SMTP client (Angus Mail): submission with AUTH to the sending server, or plain server-to-server SMTP, as
 * another MTA would inject mail. The message goes out byte for byte as given (no header rewriting by the client).
 */
public final class SmtpSender {
    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String localAddress;

    private SmtpSender(String host, int port, String user, String password, String localAddress) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.localAddress = localAddress;
    }

    /** Authenticated submission, as a mail user agent sends. */
    public static SmtpSender submission(int port, String user, String password) {
        return new SmtpSender("127.0.0.1", port, user, password, null);
    }

    /** Unauthenticated server-to-server SMTP, as a peer MTA (or a forger) connects to port 25. */
    public static SmtpSender mta(int port) {
        return new SmtpSender("127.0.0.1", port, null, null, null);
    }

    /** Unauthenticated SMTP from another loopback address (127.0.0.2, ...), as a host in the server's authorizedAddresses. */
    public static SmtpSender mtaFrom(String localAddress, int port) {
        return new SmtpSender("127.0.0.1", port, null, null, localAddress);
    }

    public void send(String envelopeFrom, List<String> recipients, String rfc822) {
        sendAll(envelopeFrom, recipients, List.of(rfc822));
    }

    /** Several messages over one SMTP session (as an MTA flushes its queue), same envelope for each. */
    public void sendAll(String envelopeFrom, List<String> recipients, List<String> messages) {
        Properties props = new Properties();
        props.put("mail.smtp.host", host);
        props.put("mail.smtp.port", Integer.toString(port));
        props.put("mail.smtp.from", envelopeFrom);
        props.put("mail.smtp.localhost", "client.test");
        props.put("mail.smtp.connectiontimeout", "10000");
        props.put("mail.smtp.timeout", "60000");
        props.put("mail.smtp.auth", Boolean.toString(user != null));
        if (localAddress != null) {
            props.put("mail.smtp.localaddress", localAddress);
        }
        Session session = Session.getInstance(props);
        try {
            Address[] to = new Address[recipients.size()];
            for (int i = 0; i < to.length; i++) {
                to[i] = new InternetAddress(recipients.get(i));
            }
            try (Transport transport = session.getTransport("smtp")) {
                if (user != null) {
                    transport.connect(host, port, user, password);
                } else {
                    transport.connect();
                }
                for (String rfc822 : messages) {
                    MimeMessage message = new MimeMessage(session,
                            new ByteArrayInputStream(rfc822.replaceAll("\r?\n", "\r\n").getBytes(StandardCharsets.UTF_8)));
                    transport.sendMessage(message, to);
                }
            }
        } catch (MessagingException e) {
            throw new IllegalStateException("SMTP to " + host + ":" + port + " failed: " + e.getMessage(), e);
        }
    }

    /** A small, valid RFC 5322 message; the Message-ID lets the reader find exactly this one. */
    public static String message(String from, String to, String subject, String messageId, String body) {
        return "From: " + from + "\r\n"
                + "To: " + to + "\r\n"
                + "Subject: " + subject + "\r\n"
                + "Date: " + java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(java.time.ZonedDateTime.now()) + "\r\n"
                + "Message-ID: <" + messageId + ">\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: 7bit\r\n"
                + "\r\n"
                + body.replaceAll("\r?\n", "\r\n") + (body.endsWith("\n") ? "" : "\r\n");
    }
}
