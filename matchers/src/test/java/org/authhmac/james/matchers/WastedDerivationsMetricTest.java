package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Properties;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.Metrics;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AuthHmacFailed on a real vault publishes the derivations that forged mail cost. */
class WastedDerivationsMetricTest {
    private static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    private static final Instant ACCEPTED_AT = SIGNED_AT.plusSeconds(5);

    @TempDir
    Path dir;
    private final RecordingMetricFactory metrics = new RecordingMetricFactory();
    private DefaultKeyVault receiverVault;
    private AuthHmacFailed matcher;

    @BeforeEach
    void setUp() throws Exception {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        Clock clock = Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC);
        receiverVault = KeyVaults.open(p, dir, clock, false);
        receiverVault.importKey("ka1", "partner-a", InMemoryKeyVault.primary("a-b"), KeyStatus.PRIMARY);
        matcher = new AuthHmacFailed(receiverVault, new InMemoryReplayCache(1000, clock), metrics,
                TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example"));
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed")
                .mailetContext(FakeMailContext.defaultContext()).build());
    }

    @AfterEach
    void close() {
        receiverVault.close();
    }

    @Test
    void forgedMailUnderThePartnersKeyIdIsCountedAsAWastedDerivationAndGenuineMailIsNot() throws Exception {
        InMemoryKeyVault forger = new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("forger"));
        InMemoryKeyVault partner = new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));

        for (int i = 0; i < 3; i++) {
            assertThat(matcher.match(Mails.arrived(signedBy(forger), ACCEPTED_AT))).isNotEmpty();
        }
        assertThat(matcher.match(Mails.arrived(signedBy(partner), ACCEPTED_AT))).isEmpty();

        assertThat(receiverVault.derivationCount()).isEqualTo(1);
        assertThat(metrics.countFor(Metrics.VERIFY_WASTED_DERIVATIONS)).isEqualTo(1);
    }

    private FakeMail signedBy(InMemoryKeyVault vault) throws Exception {
        SignWithAuthHmac signer = new SignWithAuthHmac(vault, new RecordingMetricFactory(), Clock.fixed(SIGNED_AT, ZoneOffset.UTC),
                TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "report", "numbers"),
                "alice@a.example", "bob@b.example");
        signer.service(mail);
        return mail;
    }
}
