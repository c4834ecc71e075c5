package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.james.metrics.api.Gauge;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.Metrics;
import org.authhmac.james.PartnerHealth;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;

/** The matcher publishes the replay cache's fill through the partners' health registry when it starts. */
class PartnerHealthFeedTest {
    @Test
    void theMatcherPublishesTheReplayCacheFillWhenItStarts() throws Exception {
        PartnerPolicies policies = TestPartners.of("partner.a.example.keyset=a-b");
        InMemoryKeyVault vault = new InMemoryKeyVault().add("k1", "a-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
        Map<String, Gauge<?>> gauges = new ConcurrentHashMap<>();
        GaugeRegistry registry = new GaugeRegistry() {
            @Override
            public <T> GaugeRegistry register(String name, Gauge<T> gauge) {
                gauges.put(name, gauge);
                return this;
            }

            @Override
            public <T> SettableGauge<T> settableGauge(String name) {
                throw new UnsupportedOperationException();
            }
        };
        PartnerHealth health = new PartnerHealth(PartnerPolicyFile.of(policies), vault, new RecordingMetricFactory(), registry,
                Clock.fixed(Instant.parse("2026-12-05T06:00:00Z"), ZoneOffset.UTC));
        SharedReplayCache cache = new SharedReplayCache(PartnerPolicyFile.of(policies));
        AuthHmacFailed matcher = new AuthHmacFailed(vault, cache, new RecordingMetricFactory(), policies, Optional.of(health));

        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").mailetContext(FakeMailContext.defaultContext()).build());

        assertThat(gauges).containsKey(Metrics.REPLAY_CACHE_SIZE);
        assertThat(gauges.get(Metrics.REPLAY_CACHE_SIZE).get()).isEqualTo(0L);
    }
}
