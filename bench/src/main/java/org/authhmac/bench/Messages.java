package org.authhmac.bench;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;

/**
 * Realistic test messages, the same bytes on every run: the headers a mail user agent writes, then a
 * multipart/mixed body with a quoted-printable text part and a base64 attachment that fills the requested size.
 */
public final class Messages {
    static final String BOUNDARY = "=_bench_7f3a9c21";
    private static final String[] WORDS = {
        "the", "quarterly", "figures", "are", "attached", "please", "review", "before", "Monday", "meeting",
        "revenue", "grew", "by", "percent", "compared", "with", "last", "year", "and", "costs", "stayed", "flat",
        "we", "expect", "shipping", "delays", "in", "December", "r=C3=A9sum=C3=A9", "of", "the", "contract", "terms"};

    private Messages() {
    }

    /** Message sizes the benchmarks use, as JMH parameter values. */
    public static int bytes(String size) {
        return switch (size) {
            case "1KB" -> 1024;
            case "10KB" -> 10 * 1024;
            case "100KB" -> 100 * 1024;
            case "1MB" -> 1024 * 1024;
            default -> throw new IllegalArgumentException("unknown size " + size);
        };
    }

    /** A message of about {@code targetBytes} bytes (within one base64 line), CRLF line ends throughout. */
    public static byte[] mime(int targetBytes) {
        Random random = new Random(20261122L + targetBytes);
        StringBuilder m = new StringBuilder(targetBytes + 256);
        m.append("Received: from [192.0.2.10] (client.a.example [192.0.2.10])\r\n")
                .append("\tby mx.a.example with ESMTPSA id 4f2a9c\r\n")
                .append("\tfor <bob@b.example>; Sun, 22 Nov 2026 01:59:58 +0000\r\n")
                .append("From: Alice Example <alice@a.example>\r\n")
                .append("To: Bob Example <bob@b.example>\r\n")
                .append("Cc: carol@b.example\r\n")
                .append("Subject: Quarterly figures (").append(targetBytes).append(" bytes)\r\n")
                .append("Date: Sun, 22 Nov 2026 01:59:57 +0000\r\n")
                .append("Message-ID: <bench-").append(targetBytes).append("@a.example>\r\n")
                .append("User-Agent: Benchmark Mail 1.0\r\n")
                .append("MIME-Version: 1.0\r\n")
                .append("Content-Type: multipart/mixed;\r\n\tboundary=\"").append(BOUNDARY).append("\"\r\n")
                .append("\r\n")
                .append("This is a multi-part message in MIME format.\r\n")
                .append("--").append(BOUNDARY).append("\r\n")
                .append("Content-Type: text/plain; charset=utf-8\r\n")
                .append("Content-Transfer-Encoding: quoted-printable\r\n")
                .append("\r\n");
        String closing = "--" + BOUNDARY + "--\r\n";
        String attachmentHeaders = "--" + BOUNDARY + "\r\n"
                + "Content-Type: application/pdf; name=\"figures.pdf\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "Content-Disposition: attachment; filename=\"figures.pdf\"\r\n\r\n";
        // A quarter of the room for prose (at most 8 KB, as in a real letter), the rest for the attachment.
        int room = targetBytes - m.length() - closing.length() - attachmentHeaders.length();
        int textEnd = m.length() + Math.max(80, Math.min(8 * 1024, room / 4));
        while (m.length() < textEnd) {
            StringBuilder line = new StringBuilder(80);
            while (line.length() < 60) {
                line.append(WORDS[random.nextInt(WORDS.length)]);
                // Double spaces and trailing blanks, as people type them: work for relaxed canonicalization.
                line.append(random.nextInt(12) == 0 ? "  " : " ");
            }
            m.append(line).append("\r\n");
            if (random.nextInt(6) == 0) {
                m.append("\r\n");
            }
        }
        m.append("\r\n").append(attachmentHeaders);
        byte[] chunk = new byte[57];
        while (m.length() + 78 + closing.length() <= targetBytes) {
            random.nextBytes(chunk);
            m.append(Base64.getEncoder().encodeToString(chunk)).append("\r\n");
        }
        m.append(closing);
        return m.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Offset of the first body byte: just after the empty line that ends the header block. */
    public static int bodyOffset(byte[] message) {
        for (int i = 3; i < message.length; i++) {
            if (message[i] == '\n' && message[i - 1] == '\r' && message[i - 2] == '\n' && message[i - 3] == '\r') {
                return i + 1;
            }
        }
        throw new IllegalArgumentException("no header/body separator");
    }

    /** The message with header field lines (without CRLF) prepended, as a signing mailet would. */
    public static byte[] prepend(java.util.List<String> headerLines, byte[] message) {
        StringBuilder sb = new StringBuilder();
        for (String h : headerLines) {
            sb.append(h).append("\r\n");
        }
        byte[] head = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[head.length + message.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(message, 0, out, head.length, message.length);
        return out;
    }
}
