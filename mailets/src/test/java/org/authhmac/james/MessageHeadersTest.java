package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Header edits on mail from anyone: the validating matcher strips forged Authentication-Results and puts its own on
 * top of every mail it verifies, the mailbox signer does the same with its signature. JavaMail removes a field name
 * in one pass over every field of the message, so the work is counted in removeHeader calls.
 */
class MessageHeadersTest {
    static final String FORGED = "Authentication-Results: mx.b.example; auth-hmac=pass reason=\"verified\"";

    /** A MimeMessage that counts how often a field name is removed (each time a pass over all its fields). */
    static final class CountingMessage extends MimeMessage {
        int removeHeaderCalls;

        CountingMessage(String raw) throws MessagingException {
            super(Session.getInstance(new Properties()), new ByteArrayInputStream(raw.getBytes(StandardCharsets.ISO_8859_1)));
        }

        @Override
        public void removeHeader(String name) throws MessagingException {
            removeHeaderCalls++;
            super.removeHeader(name);
        }
    }

    /** From the outside: a header block of {@code fields} fields with distinct names, and a forged result on top. */
    static String floodOfDistinctNames(int fields) {
        StringBuilder b = new StringBuilder(FORGED).append("\r\nFrom: mallory@evil.example\r\n");
        for (int i = 0; i < fields; i++) {
            b.append('X').append(i).append(": v\r\n");
        }
        return b.append("\r\nbody\r\n").toString();
    }

    @Test
    @Timeout(120)
    void strippingAForgedResultAndPrependingOursOnAHeaderBlockOfDistinctNamesIsLinear() throws Exception {
        // given a mail with 20,000 fields of distinct names (200 kB) and a forged result claiming our authserv-id
        int fields = 20_000;
        CountingMessage message = new CountingMessage(floodOfDistinctNames(fields));

        // when the matcher strips the forged result and puts its own on top
        int removed = MessageHeaders.remove(message, "Authentication-Results", v -> v.trim().startsWith("mx.b.example;"));
        MessageHeaders.prepend(message, List.of("Authentication-Results: mx.b.example; auth-hmac=none reason=\"no-signature\""));

        // then a bounded number of passes over the fields did it (one per distinct name was 40,000 passes over 20,000
        // fields: seconds here, hours for a header block of a few MB), and the edit is still made
        assertThat(message.removeHeaderCalls).isLessThanOrEqualTo(2);
        assertThat(removed).isEqualTo(1);
        List<String> lines = Collections.list(message.getAllHeaderLines());
        assertThat(lines).hasSize(fields + 2).doesNotContain(FORGED)
                .contains("Authentication-Results: mx.b.example; auth-hmac=none reason=\"no-signature\"", "X19999: v");
    }

    @Test
    void aMessageOfOrdinarySizeGetsItsLinesOnTopAndKeepsTheOrderOfTheRest() throws Exception {
        CountingMessage message = new CountingMessage("Received: by x\r\n" + FORGED + "\r\nFrom: a@a.example\r\n"
                + "Authentication-Results: other.example; dkim=pass\r\nSubject: s\r\n\r\nbody\r\n");

        MessageHeaders.remove(message, "Authentication-Results", v -> v.trim().startsWith("mx.b.example;"));
        MessageHeaders.prepend(message, List.of("Authentication-Results: mx.b.example; auth-hmac=pass"));

        assertThat(Collections.list(message.getAllHeaderLines())).containsExactly(
                "Authentication-Results: mx.b.example; auth-hmac=pass", "Received: by x", "From: a@a.example",
                "Authentication-Results: other.example; dkim=pass", "Subject: s");
    }
}
