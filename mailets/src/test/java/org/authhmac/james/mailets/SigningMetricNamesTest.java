package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.authhmac.james.Metrics;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;

/**
 * The signing counters name partners and key ids only: delivery-time signing binds a local user's mailbox (r=), which
 * must never become a metric name on WebAdmin's public /metrics.
 */
class SigningMetricNamesTest {
    static final Instant NOW = Instant.parse("2026-11-22T02:00:00Z");

    @Test
    void localDeliveryPublishesNoCounterNamedAfterAUsersMailbox() throws Exception {
        InMemoryKeyVault vault = new InMemoryKeyVault()
                .add("mbx-alice", "user:alice.smith@b.example", KeyStatus.PRIMARY, InMemoryKeyVault.primary("alice"))
                .add("mbx-alice2", "user:alice-smith@b.example", KeyStatus.PRIMARY, InMemoryKeyVault.primary("alice2"));
        RecordingMetricFactory metrics = new RecordingMetricFactory();
        SignForMailbox mailet = new SignForMailbox(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC));
        mailet.init(FakeMailetConfig.builder().mailetName("SignForMailbox").mailetContext(FakeMailContext.defaultContext()).build());
        FakeMail mail = Mails.outbound(Mails.message("dave@a.example", "alice.smith@b.example, alice-smith@b.example", "lunch", "noon?"),
                "dave@a.example", "alice.smith@b.example", "alice-smith@b.example");

        mailet.service(mail);

        Map<String, Integer> perPartner = metrics.countForPrefixName(Metrics.SIGN_PARTNER);
        assertThat(perPartner.keySet()).as("counters named after local users' addresses (public /metrics, one per user and key)")
                .noneMatch(name -> name.contains("@"));
        // and Prometheus (simpleclient's DropwizardExports: [^a-zA-Z0-9_:] -> _) reads both as one series
        assertThat(perPartner.keySet().stream().map(n -> n.replaceAll("[^a-zA-Z0-9_:]", "_")).distinct().count())
                .isEqualTo(perPartner.size());
    }
}
