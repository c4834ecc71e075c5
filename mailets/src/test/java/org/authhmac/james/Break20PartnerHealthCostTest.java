package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.Verdict;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;

/**
 * BREAK (partner health), measurements: what one scrape of the public /metrics costs per partner (9 gauges: 6 call
 * offsets(), 2 call view(), which calls offsets() again: 8 copies and sorts of up to 4,096 samples under the partner's
 * monitor, which observe() on the mail path also takes), and how far one mail moves the verdict counts.
 */
class Break20PartnerHealthCostTest {
    final PartnerHealthTest.MutableClock clock = new PartnerHealthTest.MutableClock(PartnerHealthTest.NOW);
    final InMemoryKeyVault vault = new InMemoryKeyVault().add("k1", "a-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
    final PartnerHealthTest.Gauges gauges = new PartnerHealthTest.Gauges();
    final RecordingMetricFactory metrics = new RecordingMetricFactory();
    final PartnerHealth health = new PartnerHealth(PartnerPolicyFile.of(TestPartners.of("partner.a.example.keyset=a-b")),
            vault, metrics, gauges, clock);

    @Test
    void measureOneScrapeAndTheMailPathWaitingForIt() throws Exception {
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < PartnerHealth.SAMPLES; i++) {
            health.observe("a.example", List.of(PartnerHealthTest.pass("k1", clock.instant().getEpochSecond() + r.nextInt(60) - 30)),
                    clock.instant());
        }
        Runnable scrape = () -> gauges.registered.values().forEach(g -> g.get());
        for (int i = 0; i < 2000; i++) {
            scrape.run(); // warm-up
        }
        int n = 2000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            scrape.run();
        }
        double perScrapeMicros = (System.nanoTime() - t0) / 1e3 / n;

        // two threads scraping flat out (a flood of GET /metrics), one thread delivering mail
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> scrapers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Thread t = new Thread(() -> {
                while (!stop.get()) {
                    scrape.run();
                }
            });
            t.start();
            scrapers.add(t);
        }
        long worst = 0;
        long total = 0;
        int mails = 2000;
        for (int i = 0; i < mails; i++) {
            long s = System.nanoTime();
            health.observe("a.example", List.of(PartnerHealthTest.pass("k1", clock.instant().getEpochSecond())), clock.instant());
            long d = System.nanoTime() - s;
            worst = Math.max(worst, d);
            total += d;
        }
        stop.set(true);
        for (Thread t : scrapers) {
            t.join();
        }
        System.out.printf("BREAK20 one scrape of one partner's 9 gauges, 4096 samples: %.0f us; observe() under a scrape flood: mean %.0f us, worst %.1f ms%n",
                perScrapeMicros, total / 1e3 / mails, worst / 1e6);
    }

    @Test
    void oneForgedMailToAThousandRecipientsIsAThousandFailsInThePartnersFigures() {
        List<Verdict> verdicts = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            verdicts.add(new Verdict.None());
        }
        health.observe("a.example", verdicts, clock.instant());

        // documented ("verdicts per recipient"), shown for the size of it: one SMTP transaction, 1,000 on the dashboard
        assertThat(health.partners().get(0).verdicts()).containsEntry("none no-signature", 1000L);
        assertThat(metrics.countFor("authhmac.partner.a.example.verdict.none.no-signature")).isEqualTo(1000);
    }
}
