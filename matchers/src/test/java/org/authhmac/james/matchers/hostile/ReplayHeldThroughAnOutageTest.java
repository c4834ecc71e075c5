package org.authhmac.james.matchers.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.matchers.AuthHmacFailed;
import org.authhmac.james.matchers.SharedReplayCache;
import org.authhmac.james.matchers.TemporaryVerificationFailure;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.testing.MutableClock;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;

/**
 * A captured genuine mail replayed while the key vault is down: the copies wait with their acceptance time pinned,
 * are held after an hour of retries and released when the vault is back (docs/OPERATIONS.md, "Held mail"). By then
 * the replay cache has dropped the genuine mail's entry (kept until t + maxAge + retention): it must not pass them.
 */
class ReplayHeldThroughAnOutageTest {
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    static final Instant ACCEPTED_AT = SIGNED_AT.plusSeconds(5);

    @Test
    void copiesReplayedDuringAnOutageAndReleasedAfterTheCacheForgotTheGenuineMailDoNotPass() throws Exception {
        // given B's James-wide cache (default retention) and a genuine mail from A that passed for bob
        MutableClock clock = new MutableClock(ACCEPTED_AT);
        InMemoryKeyVault senderVault = new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
        InMemoryKeyVault receiverVault = new InMemoryKeyVault().add("ka1", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
        AuthHmacFailed matcher = new AuthHmacFailed(receiverVault,
                new SharedReplayCache(new PartnerPolicies.ReplayCacheSize(1000, 25), InMemoryReplayCache.DEFAULT_RETENTION, clock),
                new RecordingMetricFactory(), TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example"));
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").mailetContext(FakeMailContext.defaultContext()).build());
        SignWithAuthHmac signer = new SignWithAuthHmac(senderVault, new RecordingMetricFactory(), Clock.fixed(SIGNED_AT, ZoneOffset.UTC),
                TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        FakeMail sent = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "Pay invoice 17", "100 EUR to 1234"),
                "alice@a.example", "bob@b.example");
        signer.service(sent);
        FakeMail genuine = Mails.arrived(sent, ACCEPTED_AT);
        assertThat(matcher.match(genuine)).isEmpty();
        assertThat(RecordedVerdict.readFrom(genuine).orElseThrow().result()).isEqualTo(AuthResult.PASS);

        // when the vault goes down and two captured copies arrive for bob ten minutes later, inside the window
        receiverVault.goDown();
        clock.set(ACCEPTED_AT.plus(Duration.ofMinutes(10)));
        List<FakeMail> copies = List.of(Mails.arrived(sent, clock.instant()), Mails.arrived(sent, clock.instant()));
        for (FakeMail copy : copies) {
            assertThatThrownBy(() -> matcher.match(copy)).isInstanceOf(TemporaryVerificationFailure.class);
        }
        // and they are held after an hour of retries, then released once the vault is back, 40 minutes later
        clock.set(SIGNED_AT.plus(Duration.ofMinutes(30)).plus(InMemoryReplayCache.DEFAULT_RETENTION).plus(Duration.ofMinutes(10)));
        receiverVault.comeBack();

        // then neither copy passes: the cache no longer knows the signature, so it cannot tell a replay, and the copies
        // wait again (temperror) instead, until the operator decides
        for (FakeMail copy : copies) {
            assertThatThrownBy(() -> matcher.match(copy)).isInstanceOf(TemporaryVerificationFailure.class)
                    .hasMessageContaining("cannot tell a replay");
            assertThat(RecordedVerdict.readFrom(copy)).as("no verdict recorded for a replayed copy").isEmpty();
        }
    }
}
