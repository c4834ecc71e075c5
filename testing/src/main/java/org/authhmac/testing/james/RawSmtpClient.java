package org.authhmac.testing.james;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Server-to-server SMTP that sends a message's bytes exactly as given (only dot-stuffed), as a forger's MTA does:
 * JavaMail would parse and rewrite a damaged message before sending it. Unauthenticated, no TLS.
 */
public final class RawSmtpClient {
    private final int port;

    public RawSmtpClient(int port) {
        this.port = port;
    }

    /** What the server answered at the end of DATA (or at the first refused command). */
    public record Reply(int code, String text) {
        public boolean accepted() {
            return code == 250;
        }
    }

    public Reply send(String envelopeFrom, List<String> recipients, byte[] message) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            socket.setSoTimeout(60_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = socket.getOutputStream();
            Reply r = read(in);
            r = command(out, in, "EHLO client.test");
            r = command(out, in, "MAIL FROM:<" + envelopeFrom + ">");
            if (r.code() != 250) {
                return r;
            }
            for (String rcpt : recipients) {
                r = command(out, in, "RCPT TO:<" + rcpt + ">");
                if (r.code() != 250) {
                    command(out, in, "QUIT");
                    return r;
                }
            }
            r = command(out, in, "DATA");
            if (r.code() != 354) {
                return r;
            }
            out.write(dotStuffed(message));
            out.flush();
            Reply end;
            try {
                end = read(in);
            } catch (IOException closed) {
                return new Reply(0, "connection closed at the end of DATA: " + closed.getMessage());
            }
            try {
                command(out, in, "QUIT");
            } catch (IOException closedFirst) {
                // the server may close after its reply; the reply is what counts
            }
            return end;
        } catch (IOException e) {
            throw new UncheckedIOException("raw SMTP to 127.0.0.1:" + port, e);
        }
    }

    /** Lines starting with '.' get another '.', and the data ends with CRLF.CRLF (after a CRLF of its own if missing). */
    static byte[] dotStuffed(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 64);
        boolean lineStart = true;
        for (byte b : message) {
            if (lineStart && b == '.') {
                out.write('.');
            }
            out.write(b);
            lineStart = b == '\n';
        }
        if (!lineStart) {
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes(".\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private static Reply command(OutputStream out, BufferedReader in, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return read(in);
    }

    private static Reply read(BufferedReader in) throws IOException {
        StringBuilder text = new StringBuilder();
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed; so far: " + text);
            }
            text.append(line).append('\n');
        } while (line.length() > 3 && line.charAt(3) == '-');
        return new Reply(Integer.parseInt(line.substring(0, 3)), text.toString().trim());
    }
}
