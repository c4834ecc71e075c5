package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Properties;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.KeyVaultHealthCheck;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.testing.tpm.Swtpm;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Server A signs and server B verifies with the real key vault, each on its own swtpm, the same partner key
 * imported into both TPMs. Outages are real: the emulator process is killed and started again.
 */
class SwtpmPipelineTest {
    static final byte[] PARTNER_KEY = InMemoryKeyVault.primary("a<->b partner key");

    @TempDir
    Path dirA;
    @TempDir
    Path dirB;
    Swtpm tpmA;
    Swtpm tpmB;
    DefaultKeyVault vaultA;
    DefaultKeyVault vaultB;
    SignWithAuthHmac signer;
    AuthHmacFailed matcher;
    RecordingMetricFactory metrics = new RecordingMetricFactory();

    @BeforeEach
    void startTwoServersVaults() throws MessagingException {
        tpmA = Swtpm.start();
        tpmB = Swtpm.start();
        vaultA = KeyVaults.open(tpmProperties(tpmA), dirA, Clock.systemUTC(), false);
        vaultB = KeyVaults.open(tpmProperties(tpmB), dirB, Clock.systemUTC(), false);
        vaultA.importKey("ab-2026", "partner-b", PARTNER_KEY, KeyStatus.PRIMARY);
        vaultB.importKey("ab-2026", "partner-a", PARTNER_KEY, KeyStatus.PRIMARY);

        signer = new SignWithAuthHmac(vaultA, metrics, Clock.systemUTC(), TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        matcher = new AuthHmacFailed(vaultB, new InMemoryReplayCache(1000, Clock.systemUTC()), metrics,
                TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example"));
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").mailetContext(FakeMailContext.defaultContext()).build());
    }

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {vaultA, vaultB, tpmA, tpmB}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort: the next test starts fresh emulators
            }
        }
    }

    static Properties tpmProperties(Swtpm tpm) {
        Properties p = new Properties();
        p.setProperty("vault.backend", "tpm");
        p.setProperty("tpm.device", "tcp");
        p.setProperty("tpm.host", tpm.host());
        p.setProperty("tpm.port", Integer.toString(tpm.port()));
        p.setProperty("tpm.timeoutMillis", "2000");
        return p;
    }

    FakeMail sentByA() throws Exception {
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "contract", "signed copy attached"),
                "alice@a.example", "bob@b.example");
        signer.service(mail);
        return mail;
    }

    @Test
    void mailSignedWithAsTpmPassesWithBsTpm() throws Exception {
        FakeMail received = Mails.arrived(sentByA(), Instant.now());

        assertThat(matcher.match(received)).isEmpty();

        assertThat(RecordedVerdict.readFrom(received)).hasValueSatisfying(v -> {
            assertThat(v.result()).isEqualTo(AuthResult.PASS);
            assertThat(v.keyId()).contains("ab-2026");
        });
    }

    @Test
    void forgedMailClaimingThePartnerIsMatchedWithTheRealVault() throws Exception {
        FakeMail forged = Mails.arrivedRaw(Mails.message("ceo@a.example", "bob@b.example", "urgent transfer", "pay"),
                "ceo@a.example", Instant.now(), "bob@b.example");

        assertThat(matcher.match(forged)).containsExactly(Mails.address("bob@b.example"));
        assertThat(RecordedVerdict.readFrom(forged).orElseThrow().shortForm()).isEqualTo("none no-signature");
    }

    @Test
    void everyFailingVerdictWithTheRealVault() throws Exception {
        // bad-mac: a signed header changed in transit
        FakeMail changedSubject = sentByA();
        changedSubject.getMessage().setHeader("Subject", "contract (amended)");
        assertVerdict(Mails.arrived(changedSubject, Instant.now()), "fail bad-mac");

        // body-changed: a relay rewrote the body
        String rewritten = Mails.text(sentByA().getMessage()).replace("signed copy attached", "unsigned copy attached");
        assertVerdict(Mails.arrivedRaw(rewritten, "alice@a.example", Instant.now(), "bob@b.example"), "fail body-changed");

        // expired: accepted two periods after signing
        assertVerdict(Mails.arrived(sentByA(), Instant.now().plusSeconds(2 * 900 + 60)), "fail expired");

        // wrong-recipient: signed for b.example, delivered to another domain
        FakeMail redirected = Mails.arrived(sentByA(), Instant.now());
        redirected.setRecipients(java.util.List.of(Mails.address("bob@elsewhere.example")));
        assertVerdict(redirected, "fail wrong-recipient");

        // replay: the same signed mail a second time
        FakeMail once = sentByA();
        assertThat(matcher.match(Mails.arrived(once, Instant.now()))).isEmpty();
        assertVerdict(Mails.arrived(once, Instant.now()), "fail replay");
    }

    @Test
    void aRetiredKeyGivesPermerrorUnknownKey() throws Exception {
        FakeMail sent = sentByA();
        // rotation on B: a new primary, then the old key retired (too early: A still signs with it)
        vaultB.importKey("ab-2027", "partner-a", InMemoryKeyVault.primary("next a<->b key"), KeyStatus.PRIMARY);
        vaultB.setStatus("ab-2026", KeyStatus.RETIRED);

        assertVerdict(Mails.arrived(sent, Instant.now()), "permerror unknown-key");
    }

    void assertVerdict(FakeMail mail, String expected) throws MessagingException {
        assertThat(matcher.match(mail)).containsExactlyElementsOf(mail.getRecipients());
        assertThat(RecordedVerdict.readFrom(mail).orElseThrow().shortForm()).isEqualTo(expected);
    }

    @Test
    void receiverTpmOutageMakesTheMailWaitThenItPasses() throws Exception {
        FakeMail received = Mails.arrived(sentByA(), Instant.now());
        tpmB.kill();

        assertThatThrownBy(() -> matcher.match(received)).isInstanceOf(TemporaryVerificationFailure.class);
        assertThat(received.getAttribute(AuthHmacAttributes.RESULT)).isEmpty();

        tpmB.restart();
        assertThat(matcher.match(received)).isEmpty();
        assertThat(RecordedVerdict.readFrom(received).orElseThrow().result()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void senderTpmOutageKeepsTheMailUnsignedAndThrowsThenItIsSigned() throws Exception {
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "contract", "v2"),
                "alice@a.example", "bob@b.example");
        tpmA.kill();

        assertThatThrownBy(() -> signer.service(mail)).isInstanceOf(MessagingException.class).hasMessageContaining("key vault unavailable");
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC")).isNull();

        tpmA.restart();
        signer.service(mail);
        assertThat(matcher.match(Mails.arrived(mail, Instant.now()))).isEmpty();
    }

    @Test
    void healthCheckFollowsTheTpm() {
        KeyVaultHealthCheck check = new KeyVaultHealthCheck(vaultB, new org.authhmac.james.NeededKeysets());
        assertThat(reactor.core.publisher.Mono.from(check.check()).block().isHealthy()).isTrue();

        tpmB.kill();

        assertThat(reactor.core.publisher.Mono.from(check.check()).block().isUnHealthy()).isTrue();
    }
}
