package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.authhmac.james.ClockWatch;
import org.authhmac.james.NeededKeysets;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.RecordingGaugeRegistry;
import org.authhmac.james.testing.SntpResponder;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The signing mailet compares its own clock with clock.reference, in the background, from init to destroy. */
class SignWithAuthHmacClockTest {
    final SntpResponder reference = new SntpResponder(Clock.systemUTC());
    final RecordingGaugeRegistry gauges = new RecordingGaugeRegistry();
    final InMemoryKeyVault vault = new InMemoryKeyVault()
            .add("kb1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("b"));
    SignWithAuthHmac mailet;

    @AfterEach
    void stop() {
        if (mailet != null) {
            mailet.destroy();
        }
        reference.close();
    }

    PartnerPolicies policies() {
        return TestPartners.of("partner.b.example.keyset=partner-b", "clock.reference=" + reference.uri());
    }

    long gauge(String name) {
        return (Long) gauges.value(name);
    }

    static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 10 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void theSigningClockShifted200SecondsAheadIsPublishedAsTheOffsetWithinOneSecond() throws Exception {
        // given the clock the mailet signs with runs 200 s ahead of the reference
        Clock signingClock = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(200));
        mailet = new SignWithAuthHmac(vault, new RecordingMetricFactory(), signingClock, policies(), gauges);

        mailet.init(SignWithAuthHmacTest.config().build());
        await(() -> gauges.registered().containsKey(ClockWatch.LAST_CHECK) && gauge(ClockWatch.LAST_CHECK) != 0);

        System.out.println("SignWithAuthHmacClockTest: signing clock +200 s, authhmac.clock.offset " + gauge(ClockWatch.OFFSET)
                + " ms, authhmac.clock.delay " + gauge(ClockWatch.DELAY) + " ms");
        assertThat(gauge(ClockWatch.OFFSET)).isBetween(199_000L, 201_000L);
        assertThat(gauge(ClockWatch.DELAY)).isBetween(0L, 1000L);
        assertThat(gauge(ClockWatch.LAST_CHECK)).isCloseTo(signingClock.instant().getEpochSecond(),
                org.assertj.core.data.Offset.offset(5L));
    }

    @Test
    void startUpAndSigningDoNotWaitForASilentReferenceAndDestroyStopsTheCheck() throws Exception {
        // given a reference that never answers (each query waits 2 s for nothing)
        reference.reply(SntpResponder.Reply.SILENT);
        ClockWatch watch = new ClockWatch(gauges, Clock.systemUTC());
        mailet = new SignWithAuthHmac(vault, new RecordingMetricFactory(), PartnerPolicyFile.of(policies()), new NeededKeysets(),
                Clock.systemUTC(), watch);
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi Bob"),
                "alice@a.example", "bob@b.example");

        // when the mailet starts and signs at once
        long start = System.nanoTime();
        mailet.init(SignWithAuthHmacTest.config().build());
        mailet.service(mail);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        // then neither waited for the reference, which was asked all the same
        assertThat(took).isLessThan(Duration.ofMillis(1500));
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC")).singleElement().asString().contains("s=kb1");
        await(() -> reference.requests() == 1);
        assertThat(watch.running()).isTrue();
        assertThat(gauge(ClockWatch.LAST_CHECK)).isZero();

        mailet.destroy();
        mailet = null;

        assertThat(watch.running()).isFalse();
    }

    @Test
    void withoutReferenceTheMailetChecksNothing() throws Exception {
        ClockWatch watch = new ClockWatch(gauges, Clock.systemUTC());
        mailet = new SignWithAuthHmac(vault, new RecordingMetricFactory(),
                PartnerPolicyFile.of(TestPartners.of("partner.b.example.keyset=partner-b")), new NeededKeysets(), Clock.systemUTC(), watch);

        mailet.init(SignWithAuthHmacTest.config().build());

        assertThat(watch.running()).isFalse();
        assertThat(gauges.registered()).isEmpty();
        assertThat(reference.requests()).isZero();
    }
}
