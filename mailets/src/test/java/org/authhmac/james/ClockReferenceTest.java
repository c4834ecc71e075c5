package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.authhmac.james.testing.SntpResponder;
import org.authhmac.james.testing.SntpResponder.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** One SNTP query against a server on 127.0.0.1: the offset and delay it reads, the replies it refuses. */
class ClockReferenceTest {
    final SntpResponder server = new SntpResponder(Clock.systemUTC());

    @AfterEach
    void stop() {
        server.close();
    }

    ClockReference.Answer query(Clock ours) {
        return new ClockReference("127.0.0.1", server.port(), ours, Duration.ofMillis(500)).query();
    }

    @Test
    void reportsOurClockShifted200SecondsAheadAsAPositiveOffsetWithinOneSecond() {
        // given our clock 200 s ahead of the reference's
        Clock ahead = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(200));

        ClockReference.Answer answer = query(ahead);

        assertThat(answer).isInstanceOfSatisfying(ClockReference.Reading.class, r -> {
            System.out.println("ClockReferenceTest: our clock +200 s, offset read " + r.offsetMillis() + " ms, delay "
                    + r.delayMillis() + " ms");
            assertThat(r.offsetMillis()).isBetween(199_000L, 201_000L);
            assertThat(r.delayMillis()).isBetween(0L, 1000L);
            assertThat(r.stratum()).isEqualTo(2);
            assertThat(r.at()).isCloseTo(ahead.instant(), org.assertj.core.api.Assertions.within(5, java.time.temporal.ChronoUnit.SECONDS));
        });
    }

    @Test
    void reportsOurClockBehindAsANegativeOffset() {
        ClockReference.Answer answer = query(Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-200)));

        assertThat(answer).isInstanceOfSatisfying(ClockReference.Reading.class,
                r -> assertThat(r.offsetMillis()).isBetween(-201_000L, -199_000L));
    }

    @ParameterizedTest
    @EnumSource(value = Reply.class, names = {"WRONG_ORIGINATE", "CLIENT_MODE", "KISS_OF_DEATH", "UNSYNCHRONIZED", "ALARM",
            "NO_TRANSMIT_TIME", "SHORT"})
    void aReplyThatIsNotAValidServerAnswerToOurRequestIsNoAnswer(Reply flaw) {
        server.reply(flaw);

        ClockReference.Answer answer = query(Clock.systemUTC());

        assertThat(answer).isInstanceOf(ClockReference.NoAnswer.class);
        assertThat(server.requests()).isEqualTo(1);
    }

    @Test
    void aReplyWithAnotherOriginateTimestampSaysSo() {
        server.reply(Reply.WRONG_ORIGINATE);

        assertThat(query(Clock.systemUTC())).isEqualTo(new ClockReference.NoAnswer("a reply whose originate timestamp is not our request's"));
    }

    @Test
    void aReplyInClientModeSaysSo() {
        server.reply(Reply.CLIENT_MODE);

        assertThat(query(Clock.systemUTC())).isEqualTo(new ClockReference.NoAnswer("a reply in mode 3, not 4 (server)"));
    }

    @Test
    void aSilentServerIsNoAnswerAfterTheTimeout() {
        server.reply(Reply.SILENT);
        long start = System.nanoTime();

        ClockReference.Answer answer = query(Clock.systemUTC());

        assertThat(answer).isEqualTo(new ClockReference.NoAnswer("no reply within 500 ms"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(400), Duration.ofSeconds(2));
    }

    @Test
    void aPortNobodyListensOnIsNoAnswer() throws Exception {
        int closed;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            closed = s.getLocalPort();
        }

        assertThat(new ClockReference("127.0.0.1", closed, Clock.systemUTC(), Duration.ofMillis(500)).query())
                .isInstanceOf(ClockReference.NoAnswer.class);
    }

    @Test
    void offsetAndDelayFollowRfc4330FromTheFourTimestamps() {
        // given T1 = 0 s, T2 = 10.100 s, T3 = 10.400 s, T4 = 0.500 s: the server is 10 s ahead, 100 ms away each way,
        // and held the request 300 ms
        byte[] cookie = {1, 2, 3, 4, 5, 6, 7, 8};
        Instant base = Instant.parse("2026-12-05T00:00:00Z");
        byte[] reply = serverReply(cookie, base.plusMillis(10_100), base.plusMillis(10_400));

        ClockReference.Answer answer = ClockReference.read(reply, 48, cookie, ClockReference.nanos(base),
                ClockReference.nanos(base.plusMillis(500)));

        // offset = ((T2 - T1) + (T3 - T4)) / 2 = 10 s, reported as ours minus theirs; delay = (T4 - T1) - (T3 - T2)
        assertThat(answer).isEqualTo(new ClockReference.Reading(-10_000, 200, base.plusMillis(500), 2));
    }

    @Test
    void readsTimestampsOfTheNextNtpEraAfter2036() {
        Instant after = Instant.parse("2040-01-01T00:00:00.25Z");

        assertThat(ClockReference.fromNtp(SntpResponder.ntp(after))).isEqualTo(ClockReference.nanos(after));
        assertThat(ClockReference.fromNtp(SntpResponder.ntp(Instant.parse("2026-12-05T12:00:00Z"))))
                .isEqualTo(ClockReference.nanos(Instant.parse("2026-12-05T12:00:00Z")));
    }

    static byte[] serverReply(byte[] cookie, Instant received, Instant sent) {
        ByteBuffer b = ByteBuffer.allocate(48);
        b.put((byte) (4 << 3 | 4)).put((byte) 2);
        b.position(24);
        b.put(cookie).putLong(SntpResponder.ntp(received)).putLong(SntpResponder.ntp(sent));
        return b.array();
    }
}
