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
 * BREAK (partner health): MailSigner counts authhmac.sign.partner.&lt;r=&gt;.key.&lt;kid&gt; for every SignRequest, and
 * SignForMailbox's r= is a local user's mailbox. Each mailbox key (and each of its rotations) becomes a counter named
 * after the user's address, published on WebAdmin's public /metrics; after Prometheus's sanitizing, distinct
 * mailboxes share one series name.
 */
class Break20SigningMetricNamesTest {
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
        // today: {authhmac.sign.partner.alice.smith@b.example.key.mbx-alice=1, authhmac.sign.partner.alice-smith@b.example.key.mbx-alice2=1}
        assertThat(perPartner.keySet()).as("counters named after local users' addresses (public /metrics, one per user and key)")
                .noneMatch(name -> name.contains("@"));
        // and Prometheus (simpleclient's DropwizardExports: [^a-zA-Z0-9_:] -> _) reads both as one series
        assertThat(perPartner.keySet().stream().map(n -> n.replaceAll("[^a-zA-Z0-9_:]", "_")).distinct().count())
                .isEqualTo(perPartner.size());
    }
}
