package org.authhmac.testing.james;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A minimal store-and-forward SMTP relay on loopback, standing between two MTAs the way a smarthost or a mailing
 * list would. Every message is passed through {@code rewrite} and forwarded to the next hop before the relay answers
 * 250 to DATA, so a failure upstream becomes a 451 and the sending MTA keeps and retries the mail. With
 * {@link #forwardOnly} it is also the final destination of the recipients it does not forward (a third domain's MX).
 */
public final class RelaySmtpServer implements AutoCloseable {
    private final ServerSocket server;
    private final UnaryOperator<String> rewrite;
    private final AtomicInteger relayed = new AtomicInteger();
    private final AtomicInteger rewritten = new AtomicInteger();
    private final List<Transaction> received = new CopyOnWriteArrayList<>();
    private volatile int[] nextHopPorts = {};
    private final AtomicInteger rotation = new AtomicInteger();
    private volatile Predicate<String> forwarded = recipient -> true;

    /** One transaction as the relay received it, before {@code rewrite}: recipients as bare addresses. */
    public record Transaction(String sender, List<String> recipients, String message) {
    }

    /** {@code rewrite} sees the whole message (CRLF line ends, unstuffed) and returns what is forwarded. */
    public RelaySmtpServer(UnaryOperator<String> rewrite) {
        this.rewrite = rewrite;
        try {
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Thread.ofVirtual().name("relay-accept").start(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    public RelaySmtpServer forwardTo(int port) {
        this.nextHopPorts = new int[] {port};
        return this;
    }

    /**
     * Forwards each transaction to the next of these ports in turn, as a load balancer in front of several MX nodes
     * would; a failed hop gives 451 (the sender retries, and its retry goes to the next port).
     */
    public RelaySmtpServer forwardToEach(int... ports) {
        if (ports.length == 0) {
            throw new IllegalArgumentException("no next hop");
        }
        this.nextHopPorts = ports.clone();
        return this;
    }

    /**
     * Only recipients (bare addresses) that {@code recipient} accepts are forwarded to the next hop; the relay accepts
     * the others and keeps them, in {@link #received()}, as their final destination.
     */
    public RelaySmtpServer forwardOnly(Predicate<String> recipient) {
        this.forwarded = recipient;
        return this;
    }

    /** Every transaction received so far, in order. */
    public List<Transaction> received() {
        return List.copyOf(received);
    }

    public int relayed() {
        return relayed.get();
    }

    public int rewritten() {
        return rewritten.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().name("relay-session").start(() -> session(s));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void session(Socket socket) {
        try (socket; InputStream in = new BufferedInputStream(socket.getInputStream()); OutputStream out = socket.getOutputStream()) {
            reply(out, "220 relay.test ESMTP test relay");
            String from = null;
            List<String> rcpts = new ArrayList<>();
            String line;
            while ((line = readLine(in)) != null) {
                String upper = line.toUpperCase();
                if (upper.startsWith("EHLO")) {
                    reply(out, "250-relay.test\r\n250-8BITMIME\r\n250 PIPELINING");
                } else if (upper.startsWith("HELO")) {
                    reply(out, "250 relay.test");
                } else if (upper.startsWith("MAIL FROM:")) {
                    from = line.substring(10).trim();
                    rcpts.clear();
                    reply(out, "250 OK");
                } else if (upper.startsWith("RCPT TO:")) {
                    rcpts.add(line.substring(8).trim());
                    reply(out, "250 OK");
                } else if (upper.equals("DATA")) {
                    reply(out, "354 go ahead");
                    String message = readData(in);
                    received.add(new Transaction(from, rcpts.stream().map(RelaySmtpServer::address).toList(), message));
                    List<String> onward = rcpts.stream().filter(r -> this.forwarded.test(address(r))).toList();
                    if (onward.isEmpty()) {
                        reply(out, "250 delivered here");
                        continue;
                    }
                    String forwarded = rewrite.apply(message);
                    if (!forwarded.equals(message)) {
                        rewritten.incrementAndGet();
                    }
                    try {
                        forward(from, onward, forwarded);
                        relayed.incrementAndGet();
                        reply(out, "250 relayed");
                    } catch (IOException | IllegalStateException e) {
                        reply(out, "451 next hop failed: " + e.getMessage().replaceAll("[\r\n]", " "));
                    }
                } else if (upper.equals("RSET")) {
                    from = null;
                    rcpts.clear();
                    reply(out, "250 OK");
                } else if (upper.equals("NOOP")) {
                    reply(out, "250 OK");
                } else if (upper.equals("QUIT")) {
                    reply(out, "221 bye");
                    return;
                } else {
                    reply(out, "502 not implemented");
                }
            }
        } catch (IOException ignored) {
            // the client went away
        }
    }

    /** {@code <bob@b.example> NOTIFY=NEVER} -> {@code bob@b.example}. */
    private static String address(String rcptArgument) {
        String path = rcptArgument.strip().split("\\s+", 2)[0];
        return path.startsWith("<") && path.endsWith(">") ? path.substring(1, path.length() - 1) : path;
    }

    /** Plain SMTP client for the next hop: the forwarded bytes are exactly what {@code rewrite} returned. */
    private void forward(String from, List<String> rcpts, String message) throws IOException {
        int[] hops = nextHopPorts;
        if (hops.length == 0) {
            throw new IOException("no next hop set");
        }
        int nextHopPort = hops[Math.floorMod(rotation.getAndIncrement(), hops.length)];
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), nextHopPort);
             InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            s.setSoTimeout(60_000);
            expect(in, "220");
            command(out, in, "EHLO relay.test", "250");
            command(out, in, "MAIL FROM:" + from, "250");
            for (String r : rcpts) {
                command(out, in, "RCPT TO:" + r, "250");
            }
            command(out, in, "DATA", "354");
            StringBuilder data = new StringBuilder();
            for (String l : message.split("\r\n", -1)) {
                data.append(l.startsWith(".") ? "." + l : l).append("\r\n");
            }
            if (message.endsWith("\r\n")) {
                data.setLength(data.length() - 2);
            }
            out.write(data.toString().getBytes(StandardCharsets.UTF_8));
            command(out, in, ".", "250");
            command(out, in, "QUIT", "221");
        }
    }

    private static void command(OutputStream out, InputStream in, String cmd, String expected) throws IOException {
        out.write((cmd + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        expect(in, expected);
    }

    private static void expect(InputStream in, String code) throws IOException {
        String line;
        do {
            line = readLine(in);
            if (line == null) {
                throw new IOException("connection closed");
            }
        } while (line.length() > 3 && line.charAt(3) == '-');
        if (!line.startsWith(code)) {
            throw new IllegalStateException("next hop said: " + line);
        }
    }

    private static String readData(InputStream in) throws IOException {
        StringBuilder message = new StringBuilder();
        String line;
        while ((line = readLine(in)) != null && !line.equals(".")) {
            message.append(line.startsWith("..") ? line.substring(1) : line).append("\r\n");
        }
        return message.toString();
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                byte[] b = buf.toByteArray();
                int len = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
                return new String(b, 0, len, StandardCharsets.UTF_8);
            }
            buf.write(c);
        }
        return buf.size() == 0 ? null : buf.toString(StandardCharsets.UTF_8);
    }

    private static void reply(OutputStream out, String text) throws IOException {
        out.write((text + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
