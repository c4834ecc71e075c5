package org.authhmac.james;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;

/**
 * Asks an NTP server for its time with one SNTP request (RFC 4330) and compares it with our clock: the clock the
 * signing mailet stamps {@code t=} with, so that what is measured is what partners will see. One 48-byte packet, one
 * answer awaited at most {@link #TIMEOUT}; an answer that is not a valid server reply to that packet is no answer.
 */
public final class ClockReference {
    public static final Duration TIMEOUT = Duration.ofSeconds(2);
    static final int PACKET = 48;
    /** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
    static final long NTP_TO_UNIX = 2_208_988_800L;
    private static final int VERSION = 4;
    private static final int MODE_CLIENT = 3;
    private static final int MODE_SERVER = 4;
    private static final int ALARM = 3;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What one query found out. */
    public sealed interface Answer permits Reading, NoAnswer {
    }

    /**
     * A valid reply.
     *
     * @param offsetMillis our clock minus the reference's: positive when our clock is ahead (the sign partners see
     *                     in the offset of our signatures)
     * @param delayMillis  the round trip, the server's own time excluded
     * @param at           when the reply arrived, by our clock
     * @param stratum      the server's stratum (1..15)
     */
    public record Reading(long offsetMillis, long delayMillis, Instant at, int stratum) implements Answer {
    }

    /** @param why for the log: a time-out, a reply refused and why, a host that does not resolve */
    public record NoAnswer(String why) implements Answer {
    }

    private final String host;
    private final int port;
    private final Clock clock;
    private final Duration timeout;

    public ClockReference(String host, int port, Clock clock) {
        this(host, port, clock, TIMEOUT);
    }

    ClockReference(String host, int port, Clock clock, Duration timeout) {
        this.host = host;
        this.port = port;
        this.clock = clock;
        this.timeout = timeout;
    }

    /** One request, one reply or none. Never throws. */
    public Answer query() {
        InetAddress address;
        try {
            // resolved at each query: the name may move, and a DNS outage must not stop start-up
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            return new NoAnswer("host " + host + " does not resolve");
        }
        byte[] request = new byte[PACKET];
        request[0] = (byte) (VERSION << 3 | MODE_CLIENT);
        // The transmit timestamp is a random cookie, not our time: the server echoes it as originate, so a reply is
        // matched to this request without telling anyone our clock, and an off-path sender cannot guess it.
        byte[] cookie = new byte[8];
        RANDOM.nextBytes(cookie);
        System.arraycopy(cookie, 0, request, 40, 8);
        byte[] reply = new byte[PACKET + 20];
        DatagramPacket in = new DatagramPacket(reply, reply.length);
        long t1;
        long t4;
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout((int) timeout.toMillis());
            // connected: datagrams from any other address or port are dropped by the system
            socket.connect(new InetSocketAddress(address, port));
            t1 = nanos(clock.instant());
            socket.send(new DatagramPacket(request, request.length));
            socket.receive(in);
            t4 = nanos(clock.instant());
        } catch (SocketTimeoutException e) {
            return new NoAnswer("no reply within " + timeout.toMillis() + " ms");
        } catch (IOException | RuntimeException e) {
            return new NoAnswer(e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
        return read(reply, in.getLength(), cookie, t1, t4);
    }

    /** RFC 4330 section 5: checks the reply, then offset and delay from T1..T4. */
    static Answer read(byte[] reply, int length, byte[] cookie, long t1, long t4) {
        if (length < PACKET) {
            return new NoAnswer("a reply of " + length + " bytes, less than 48");
        }
        int leap = (reply[0] & 0xff) >> 6;
        int mode = reply[0] & 0x7;
        int stratum = reply[1] & 0xff;
        if (mode != MODE_SERVER) {
            return new NoAnswer("a reply in mode " + mode + ", not 4 (server)");
        }
        if (stratum < 1 || stratum > 15) {
            return new NoAnswer("a reply of stratum " + stratum + (stratum == 0 ? " (kiss-o'-death)" : " (unsynchronized)"));
        }
        if (leap == ALARM) {
            return new NoAnswer("a reply with leap indicator 3 (the server's clock is not synchronized)");
        }
        if (!Arrays.equals(reply, 24, 32, cookie, 0, 8)) {
            return new NoAnswer("a reply whose originate timestamp is not our request's");
        }
        ByteBuffer b = ByteBuffer.wrap(reply);
        if (b.getLong(40) == 0 || b.getLong(32) == 0) {
            return new NoAnswer("a reply without receive or transmit timestamp");
        }
        long t2 = fromNtp(b.getLong(32));
        long t3 = fromNtp(b.getLong(40));
        // RFC 4330: offset = ((T2 - T1) + (T3 - T4)) / 2 is what to add to our clock; reported the other way round
        long theta = ((t2 - t1) + (t3 - t4)) / 2;
        long delay = (t4 - t1) - (t3 - t2);
        return new Reading(Math.round(-theta / 1e6), Math.round(delay / 1e6), Instant.ofEpochSecond(0, t4), stratum);
    }

    /** Nanoseconds since 1970 of an NTP timestamp, in era 0 (to 2036) or era 1 (RFC 4330 section 3). */
    static long fromNtp(long ntp) {
        long seconds = ntp >>> 32;
        long fraction = ntp & 0xffff_ffffL;
        long unix = (seconds & 0x8000_0000L) != 0 ? seconds - NTP_TO_UNIX : seconds + (1L << 32) - NTP_TO_UNIX;
        return unix * 1_000_000_000L + ((fraction * 1_000_000_000L) >>> 32);
    }

    static long nanos(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L), i.getNano());
    }

    @Override
    public String toString() {
        return "ntp://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
