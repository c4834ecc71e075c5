package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.authhmac.james.testing.RecordingGaugeRegistry;
import org.authhmac.james.testing.SntpResponder;
import org.authhmac.james.testing.SntpResponder.Reply;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.testing.Stderr;
import org.authhmac.testing.Stderr.ThrowingRunnable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sending side's clock check: its gauges, and what it says in the log, and when. */
class ClockWatchTest {
    final SntpResponder server = new SntpResponder(Clock.systemUTC());
    final ShiftedClock ours = new ShiftedClock();
    final RecordingGaugeRegistry gauges = new RecordingGaugeRegistry();
    final ClockWatch watch = new ClockWatch(gauges, ours, Duration.ofMillis(300));

    @AfterEach
    void stop() {
        while (watch.running()) {
            watch.stop();
        }
        server.close();
    }

    /** Partners a.example (maxFutureSkew 60 s: warn beyond 30 s) and c.example (the default, 5 minutes). */
    PartnerPolicies policies(String... more) {
        List<String> lines = new java.util.ArrayList<>(List.of("partner.a.example.keyset=a-b", "partner.a.example.maxFutureSkew=60s",
                "partner.c.example.keyset=c-b", "clock.reference=" + server.uri(), "clock.checkEvery=1d"));
        lines.addAll(List.of(more));
        return TestPartners.of(lines.toArray(String[]::new));
    }

    long gauge(String name) {
        return (Long) gauges.value(name);
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 10 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void startsWithAQueryAtOnceAndPublishesOffsetDelayAndLastCheck() throws Exception {
        // given our clock 200 s ahead
        ours.shift = Duration.ofSeconds(200);

        assertThat(watch.start(policies())).isTrue();
        await(() -> watch.checks() == 1);

        System.out.println("ClockWatchTest: our clock +200 s, authhmac.clock.offset " + gauge(ClockWatch.OFFSET) + " ms, delay "
                + gauge(ClockWatch.DELAY) + " ms");
        assertThat(gauge(ClockWatch.OFFSET)).isBetween(199_000L, 201_000L);
        assertThat(gauge(ClockWatch.DELAY)).isBetween(0L, 1000L);
        assertThat(gauge(ClockWatch.LAST_CHECK)).isCloseTo(ours.instant().getEpochSecond(), org.assertj.core.data.Offset.offset(5L));
        assertThat(server.requests()).isEqualTo(1);
    }

    @Test
    void withoutReferenceNothingStartsAndNothingIsPublished() {
        assertThat(watch.start(TestPartners.of("partner.a.example.keyset=a-b"))).isFalse();

        assertThat(watch.running()).isFalse();
        assertThat(gauges.registered()).isEmpty();
    }

    @Test
    void noAnswerLeavesTheLastCheckAndWarnsOncePerOutage() throws Exception {
        // given one answer
        watch.start(policies());
        await(() -> watch.checks() == 1);
        long lastCheck = gauge(ClockWatch.LAST_CHECK);
        long offset = gauge(ClockWatch.OFFSET);
        ClockReference.Reading answered = watch.last().orElseThrow();

        // when the reference falls silent for two checks
        server.reply(Reply.SILENT);
        ours.shift = Duration.ofSeconds(7);
        List<String> lines = log(() -> {
            watch.check();
            watch.check();
        });

        // then the gauges still show the last answer, and one WARN says so
        assertThat(watch.last()).containsSame(answered);
        assertThat(gauge(ClockWatch.LAST_CHECK)).isEqualTo(lastCheck);
        assertThat(gauge(ClockWatch.OFFSET)).isEqualTo(offset);
        assertThat(lines).filteredOn(l -> l.contains("WARN")).singleElement().asString()
                .contains("clock reference " + server.uri() + " gave no answer (no reply within 300 ms)");

        // and when it answers again, that is said once, and a new outage warns again
        server.reply(Reply.SERVER);
        List<String> back = log(watch::check);
        server.reply(Reply.WRONG_ORIGINATE);
        List<String> again = log(watch::check);
        assertThat(back).filteredOn(l -> l.contains("INFO")).singleElement().asString().contains("answers again");
        assertThat(gauge(ClockWatch.LAST_CHECK)).isGreaterThanOrEqualTo(lastCheck + 7);
        assertThat(again).filteredOn(l -> l.contains("WARN")).singleElement().asString()
                .contains("gave no answer (a reply whose originate timestamp is not our request's)");
    }

    @Test
    void warnsOnceWhenTheOffsetPassesHalfTheSmallestMaxFutureSkewAndSaysWhenItIsBack() throws Exception {
        // given a first reading within the 30 s (half of a.example's 60 s)
        ours.shift = Duration.ofSeconds(10);
        watch.start(policies());
        await(() -> watch.checks() == 1);

        // when our clock runs 40 s ahead for two checks, comes back, then runs 40 s behind
        ours.shift = Duration.ofSeconds(40);
        List<String> ahead = log(() -> {
            watch.check();
            watch.check();
        });
        ours.shift = Duration.ofSeconds(1);
        List<String> back = log(watch::check);
        ours.shift = Duration.ofSeconds(-40);
        List<String> behind = log(watch::check);

        // then each crossing is said once
        assertThat(ahead).filteredOn(l -> l.contains("WARN")).singleElement().asString()
                .contains("this server's clock is ", " ms ahead of " + server.uri(), "smallest maxFutureSkew among the partners (60000 ms)");
        assertThat(back).filteredOn(l -> l.contains("INFO")).singleElement().asString().contains("back within 30000 ms");
        assertThat(behind).filteredOn(l -> l.contains("WARN")).singleElement().asString().contains(" ms behind " + server.uri());
        assertThat(gauge(ClockWatch.OFFSET)).isBetween(-41_000L, -39_000L);
    }

    @Test
    void twoSigningMailetsShareOneCheckWhichStopsWithTheLast() throws Exception {
        PartnerPolicies p = policies();

        List<String> lines = log(() -> {
            assertThat(watch.start(p)).isTrue();
            assertThat(watch.start(p)).isTrue();
        });
        await(() -> watch.checks() == 1);

        assertThat(gauges.registered()).containsOnlyKeys(ClockWatch.OFFSET, ClockWatch.DELAY, ClockWatch.LAST_CHECK);
        assertThat(lines).noneMatch(l -> l.contains("not published"));
        watch.stop();
        assertThat(watch.running()).isTrue();
        watch.stop();
        assertThat(watch.running()).isFalse();
        assertThat(server.requests()).isEqualTo(1);
    }

    @Test
    void aRegistryThatAlreadyHoldsTheNamesKeepsThemAndTheCheckStillRuns() throws Exception {
        // given another copy of the watch (another class loader's) already published the names
        ClockWatch other = new ClockWatch(gauges, ours, Duration.ofMillis(300));
        other.start(policies());

        List<String> lines = log(() -> assertThat(watch.start(policies())).isTrue());

        assertThat(lines).filteredOn(l -> l.contains("not published")).hasSize(3);
        await(() -> watch.checks() == 1);
        other.stop();
    }

    /** The lines logged (slf4j-simple writes to System.err) while {@code action} runs. */
    static List<String> log(ThrowingRunnable action) throws Exception {
        List<String> lines = Stderr.lines(action);
        lines.forEach(System.err::println);
        return lines;
    }

    /** The system clock, moved by {@link #shift}. */
    static final class ShiftedClock extends Clock {
        volatile Duration shift = Duration.ZERO;

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.now().plus(shift);
        }
    }
}
