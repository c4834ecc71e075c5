package org.authhmac.james.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny SNTP server on a free UDP port of 127.0.0.1 that answers each request with the time of its own clock, or with
 * the flaw a test chooses ({@link #reply(Reply)}). Its NTP arithmetic is written here on its own, not borrowed from
 * the client under test.
 */
public final class SntpResponder implements AutoCloseable {
    /** What the next replies look like. */
    public enum Reply {
        /** a valid server reply, stratum 2 */
        SERVER,
        /** a server reply whose originate timestamp is not the request's transmit timestamp */
        WRONG_ORIGINATE,
        /** the request's mode echoed (3, client) instead of 4 */
        CLIENT_MODE,
        /** stratum 0: a kiss-o'-death */
        KISS_OF_DEATH,
        /** stratum 16: unsynchronized */
        UNSYNCHRONIZED,
        /** leap indicator 3: the server's own clock is not synchronized */
        ALARM,
        /** a transmit timestamp of zero */
        NO_TRANSMIT_TIME,
        /** 40 bytes only */
        SHORT,
        /** nothing at all */
        SILENT
    }

    private static final long NTP_TO_UNIX = 2_208_988_800L;
    private final DatagramSocket socket;
    private final Clock time;
    private final Thread thread;
    private final AtomicInteger requests = new AtomicInteger();
    private volatile Reply reply = Reply.SERVER;

    /** @param time the reference time this server tells */
    public SntpResponder(Clock time) {
        this.time = time;
        try {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
        thread = new Thread(this::serve, "sntp-responder-" + socket.getLocalPort());
        thread.setDaemon(true);
        thread.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** {@code ntp://127.0.0.1:<port>}, as clock.reference takes it. */
    public String uri() {
        return "ntp://127.0.0.1:" + port();
    }

    public SntpResponder reply(Reply r) {
        this.reply = r;
        return this;
    }

    /** Requests received so far, answered or not. */
    public int requests() {
        return requests.get();
    }

    private void serve() {
        byte[] buffer = new byte[512];
        while (!socket.isClosed()) {
            DatagramPacket in = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(in);
            } catch (IOException closed) {
                return;
            }
            long received = ntp(time.instant());
            requests.incrementAndGet();
            Reply r = reply;
            if (r == Reply.SILENT || in.getLength() < 48) {
                continue;
            }
            ByteBuffer out = ByteBuffer.allocate(48);
            int leap = r == Reply.ALARM ? 3 : 0;
            int mode = r == Reply.CLIENT_MODE ? 3 : 4;
            int stratum = switch (r) {
                case KISS_OF_DEATH -> 0;
                case UNSYNCHRONIZED -> 16;
                default -> 2;
            };
            out.put((byte) (leap << 6 | 4 << 3 | mode)).put((byte) stratum).put(buffer[2]).put((byte) -20);
            out.putInt(0).putInt(0).put("TEST".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.putLong(received);
            long originate = ByteBuffer.wrap(buffer, 40, 8).getLong();
            out.putLong(r == Reply.WRONG_ORIGINATE ? originate ^ 1 : originate);
            out.putLong(received);
            out.putLong(r == Reply.NO_TRANSMIT_TIME ? 0 : ntp(time.instant()));
            byte[] bytes = out.array();
            try {
                socket.send(new DatagramPacket(bytes, r == Reply.SHORT ? 40 : 48, in.getSocketAddress()));
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** The 64-bit NTP timestamp (era 0) of an instant. */
    public static long ntp(Instant i) {
        long seconds = i.getEpochSecond() + NTP_TO_UNIX;
        long fraction = ((long) i.getNano() << 32) / 1_000_000_000L;
        return seconds << 32 | fraction;
    }

    @Override
    public void close() {
        socket.close();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
