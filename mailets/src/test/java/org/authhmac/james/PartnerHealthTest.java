package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.RecordingGaugeRegistry;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;
import org.authhmac.testing.MutableClock;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;

/** What the partner health shows for the verdicts the matcher feeds it. */
class PartnerHealthTest {
    static final Instant NOW = Instant.parse("2026-12-05T06:00:00Z");
    static final String A = "a.example";

    final MutableClock clock = new MutableClock(NOW);
    final InMemoryKeyVault vault = new InMemoryKeyVault().add("k1", "a-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
    final RecordingGaugeRegistry gauges = new RecordingGaugeRegistry();
    final RecordingMetricFactory metrics = new RecordingMetricFactory();
    final PartnerHealth health = new PartnerHealth(PartnerPolicyFile.of(TestPartners.of("partner.a.example.keyset=a-b",
            "partner.c.example.keyset=c-b")), vault, metrics, gauges, clock);

    static SignatureHeader header(String keyId, long t) {
        return new SignatureHeader(1, "hmac-sha256", A, keyId, t, 900, "relaxed/relaxed", List.of("from"), "bh",
                "b.example", "nonce", "mac");
    }

    static Verdict pass(String keyId, long t) {
        return new Verdict.Pass(header(keyId, t));
    }

    void mails(int n, long offset) {
        for (int i = 0; i < n; i++) {
            health.observe(A, List.of(pass("k1", clock.instant().getEpochSecond() + offset)), clock.instant());
        }
    }

    PartnerHealth.View a() {
        return health.partners().stream().filter(v -> v.domain().equals(A)).findFirst().orElseThrow();
    }

    @Test
    void aPartnerWhoseClockRuns200SecondsAheadIsDegradedWhileItsMailStillPasses() {
        mails(20, 200);

        assertThat(a().offsets()).get().satisfies(o -> {
            assertThat(o.p50()).isEqualTo(200);
            assertThat(o.p99()).isEqualTo(200);
            assertThat(o.samples()).isEqualTo(20);
        });
        assertThat(health.problems()).singleElement().asString()
                .contains("a.example", "200 s ahead", "maxFutureSkew 300 s");
        assertThat(gauges.value("authhmac.partner.a.example.offset.p99")).isEqualTo(200L);
        assertThat(gauges.value("authhmac.partner.a.example.degraded")).isEqualTo(1);
    }

    @Test
    void anOffsetBelowTheWarningShareIsHealthy() {
        mails(20, 140);

        assertThat(health.problems()).isEmpty();
        assertThat(gauges.value("authhmac.partner.a.example.degraded")).isEqualTo(0);
    }

    @Test
    void mailThatArrivesMoreThanHalfTheWindowAfterSigningIsDegraded() {
        // the default window for p=900, one previous period: maxAge 1800 s; half of it is 900 s
        mails(10, -1000);

        assertThat(health.problems()).singleElement().asString().contains("arrives 1000 s after signing", "held as expired");
    }

    @Test
    void onlyPassesMoveTheOffsetAForgersTimeDoesNot() {
        mails(5, 3);
        health.observe(A, List.of(new Verdict.Fail(Reason.BAD_MAC, Optional.of(header("k1", NOW.getEpochSecond() + 280)), "x"),
                new Verdict.Fail(Reason.FUTURE, Optional.of(header("k1", NOW.getEpochSecond() + 9999)), "x")), NOW);

        assertThat(a().offsets()).get().extracting(PartnerHealth.Offsets::max).isEqualTo(3L);
        assertThat(a().verdicts()).containsEntry("fail bad-mac", 1L).containsEntry("fail future", 1L).containsEntry("pass verified", 5L);
        assertThat(metrics.countFor("authhmac.partner.a.example.verdict.fail.bad-mac")).isEqualTo(1);
    }

    @Test
    void passesOlderThanTheWindowLeaveTheFigures() {
        mails(10, 200);
        clock.advance(java.time.Duration.ofMinutes(61));
        mails(3, 5);

        assertThat(a().offsets()).get().satisfies(o -> {
            assertThat(o.samples()).isEqualTo(3);
            assertThat(o.max()).isEqualTo(5);
        });
        assertThat(health.problems()).isEmpty();
    }

    @Test
    void aKeyIdThisServerDoesNotHoldNamesTheMissingImportAndClearsOnceImported() {
        health.observe(A, List.of(new Verdict.PermError(Reason.UNKNOWN_KEY, Optional.of(header("k2", NOW.getEpochSecond())), "x")), NOW);

        assertThat(health.problems()).singleElement().asString()
                .contains("names key id(s) k2", "does not hold", "auth-hmac keys import --keyset a-b", "forged");
        assertThat(a().keyIds()).extracting(PartnerHealth.KeySeen::keyId, PartnerHealth.KeySeen::held)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("k2", false));

        vault.add("k2", "a-b", KeyStatus.ACTIVE, InMemoryKeyVault.primary("k2"));
        clock.advance(java.time.Duration.ofSeconds(1));

        assertThat(health.problems()).isEmpty();
        assertThat(a().keyIds()).extracting(PartnerHealth.KeySeen::held).containsExactly(true);
    }

    @Test
    void aKeyIdOfAnotherPartnersKeysetDoesNotCountAsHeld() {
        vault.add("kc", "c-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));
        health.observe(A, List.of(new Verdict.PermError(Reason.UNKNOWN_KEY, Optional.of(header("kc", NOW.getEpochSecond())), "x")), NOW);

        assertThat(health.problems()).singleElement().asString().contains("key id(s) kc", "of another keyset", "Do not import");
    }

    @Test
    void keyIdsSeenAreBoundedFirstComeSoMadeUpOnesNeitherFillTheHeapNorPushOutTheFirst() {
        for (int i = 0; i < 1000; i++) {
            clock.advance(java.time.Duration.ofSeconds(1));
            health.observe(A, List.of(new Verdict.PermError(Reason.UNKNOWN_KEY, Optional.of(header("x" + i, NOW.getEpochSecond())), "x")),
                    clock.instant());
        }

        assertThat(a().keyIds()).hasSize(PartnerHealth.KEY_IDS).extracting(PartnerHealth.KeySeen::keyId).contains("x0", "x15")
                .doesNotContain("x16");
        assertThat(health.problems()).singleElement().asString().contains("and " + (1000 - PartnerHealth.KEY_IDS) + " more");
    }

    @Test
    void theLastPassIsTheNewestAcceptance() {
        mails(1, 0);
        clock.advance(java.time.Duration.ofSeconds(30));
        mails(1, 0);

        assertThat(a().lastPass()).contains(NOW.plusSeconds(30));
        assertThat(gauges.value("authhmac.partner.a.example.lastPass")).isEqualTo(NOW.plusSeconds(30).getEpochSecond());
    }

    @Test
    void aPartnerWithoutMailIsListedAndHealthy() {
        assertThat(health.partners()).extracting(PartnerHealth.View::domain).containsExactly("a.example", "c.example");
        assertThat(health.partners()).allSatisfy(v -> {
            assertThat(v.offsets()).isEmpty();
            assertThat(v.degraded()).isFalse();
        });
    }

    @Test
    void verdictsForADomainThatIsNoPartnerAreIgnored() {
        health.observe("z.example", List.of(pass("k1", NOW.getEpochSecond())), NOW);

        assertThat(health.partners()).extracting(PartnerHealth.View::domain).doesNotContain("z.example");
    }
}
