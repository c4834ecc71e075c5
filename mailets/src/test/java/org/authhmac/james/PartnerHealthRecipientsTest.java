package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.RecordingGaugeRegistry;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.Verdict;
import org.authhmac.testing.MutableClock;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;

/** Verdicts count per recipient: one mail to many recipients moves a partner's figures by as many. */
class PartnerHealthRecipientsTest {
    final MutableClock clock = new MutableClock(PartnerHealthTest.NOW);
    final InMemoryKeyVault vault = new InMemoryKeyVault().add("k1", "a-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
    final RecordingGaugeRegistry gauges = new RecordingGaugeRegistry();
    final RecordingMetricFactory metrics = new RecordingMetricFactory();
    final PartnerHealth health = new PartnerHealth(PartnerPolicyFile.of(TestPartners.of("partner.a.example.keyset=a-b")),
            vault, metrics, gauges, clock);

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
