package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.james.core.healthcheck.Result;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.SlowProbes;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.VaultHealth;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class KeyVaultHealthCheckTest {
    InMemoryKeyVault vault = new InMemoryKeyVault().add("k1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("b"));
    NeededKeysets needed = new NeededKeysets();
    KeyVaultHealthCheck check = new KeyVaultHealthCheck(vault, needed);

    @Test
    void healthyWhenTheVaultCanComputeKeys() {
        Result result = Mono.from(check.check()).block();

        assertThat(result.isHealthy()).isTrue();
        assertThat(result.getComponentName().getName()).isEqualTo("AuthHmacKeyVault");
    }

    @Test
    void unhealthyWithTheVaultsReasonWhenItCannot() {
        vault.goDown();

        Result result = Mono.from(check.check()).block();

        assertThat(result.isUnHealthy()).isTrue();
        assertThat(result.getCause()).contains("test vault is down");
    }

    @Test
    void healthyWhenEverySigningAndVerifyingKeysetHasItsKey() {
        needed.signingFor(TestPartners.of("partner.b.example.keyset=partner-b"));
        needed.verifyingFor(TestPartners.of("partner.b.example.keyset=partner-b"));

        Result result = Mono.from(check.check()).block();

        assertThat(result.isHealthy()).isTrue();
    }

    @Test
    void unhealthyNamingTheKeysetAndPartnerWhenASigningKeysetHasNoPrimary() {
        // a typo in the partner file: the vault holds partner-b, the file names partner-bb
        needed.signingFor(TestPartners.of("partner.b.example.keyset=partner-bb"));

        Result result = Mono.from(check.check()).block();

        assertThat(result.isUnHealthy()).isTrue();
        assertThat(result.getCause()).hasValueSatisfying(cause -> assertThat(cause)
                .contains("keyset 'partner-bb' has no primary key")
                .contains("partner b.example")
                .contains("keys generate --keyset partner-bb")
                .contains("partner.b.example.keyset in conf/auth-hmac-partners.properties"));
    }

    @Test
    void aSigningKeysetWithOnlyActiveKeysIsUnhealthyAndTheCureIsToPromoteOne() {
        vault.add("c1", "partner-c", KeyStatus.ACTIVE, InMemoryKeyVault.primary("c"));
        needed.signingFor(TestPartners.of("partner.c.example.keyset=partner-c"));

        Result result = Mono.from(check.check()).block();

        assertThat(result.isUnHealthy()).isTrue();
        assertThat(result.getCause()).hasValueSatisfying(cause -> assertThat(cause)
                .contains("keyset 'partner-c' has no primary key")
                .contains("keys rotate promote --key-id"));
    }

    @Test
    void aVerifyingKeysetNeedsAnyUsableKeyNotAPrimary() {
        vault.add("c1", "partner-c", KeyStatus.ACTIVE, InMemoryKeyVault.primary("c"));
        needed.verifyingFor(TestPartners.of("partner.c.example.keyset=partner-c"));

        Result result = Mono.from(check.check()).block();

        assertThat(result.isHealthy()).isTrue();
    }

    @Test
    void unhealthyNamingTheKeysetWhenAVerifyingKeysetHoldsOnlyRetiredKeysOrNone() {
        vault.add("d1", "partner-d", KeyStatus.RETIRED, InMemoryKeyVault.primary("d"));
        needed.verifyingFor(TestPartners.of("partner.d.example.keyset=partner-d", "partner.e.example.keyset=partner-e"));

        Result result = Mono.from(check.check()).block();

        assertThat(result.isUnHealthy()).isTrue();
        assertThat(result.getCause()).hasValueSatisfying(cause -> assertThat(cause)
                .contains("keyset 'partner-d' holds no PRIMARY or ACTIVE key, so mail from partner d.example fails verification")
                .contains("keyset 'partner-e' holds no PRIMARY or ACTIVE key, so mail from partner e.example")
                .contains("keys import --keyset partner-e"));
    }

    @Test
    void turnsHealthyOnceTheMissingKeyIsImportedWhileJamesRuns() {
        needed.signingFor(TestPartners.of("partner.f.example.keyset=partner-f"));
        assertThat(Mono.from(check.check()).block().isUnHealthy()).isTrue();

        vault.add("f1", "partner-f", KeyStatus.PRIMARY, InMemoryKeyVault.primary("f"));

        assertThat(Mono.from(check.check()).block().isHealthy()).isTrue();
    }

    @Test
    void aKeysetTwoPartnersShareIsReportedOnceNamingBoth() {
        needed.signingFor(TestPartners.of("partner.g.example.keyset=shared", "partner.h.example.keyset=shared"));

        Result result = Mono.from(check.check()).block();

        assertThat(result.getCause()).hasValueSatisfying(cause -> assertThat(cause)
                .contains("mail to partners g.example, h.example")
                .containsOnlyOnce("keyset 'shared'"));
    }

    /** A vault whose health probe (a TPM command on the TPM backend) takes {@code millis}, counting the probes. */
    private static final class SlowVault extends InMemoryKeyVault {
        final SlowProbes calls;

        SlowVault(long millis) {
            this.calls = new SlowProbes(millis);
        }

        @Override
        public VaultHealth health() {
            return calls.probe(VaultHealth.up("slow vault is up"));
        }
    }

    @Test
    void manyConcurrentRequestsShareOneProbeOfTheVault() {
        SlowVault slow = new SlowVault(800);
        KeyVaultHealthCheck shared = new KeyVaultHealthCheck(slow, needed);

        List<Result> results = Flux.merge(IntStream.range(0, 60).mapToObj(i -> Mono.from(shared.check())).toList())
                .collectList().block(Duration.ofSeconds(30));

        assertThat(results).hasSize(60).allMatch(Result::isHealthy);
        assertThat(slow.calls.probes.get()).as("probes of the vault for 60 requests at once").isEqualTo(1);
    }

    @Test
    void aLongFloodOfRequestsNeverProbesTheVaultTwiceAtOnceAndAFinishedProbeIsNotReused() {
        SlowVault slow = new SlowVault(200);
        KeyVaultHealthCheck shared = new KeyVaultHealthCheck(slow, needed);
        // 200 requests, 20 at a time, over about 2 s
        List<Result> results = Flux.range(0, 200).flatMap(i -> Mono.from(shared.check()), 20)
                .collectList().block(Duration.ofSeconds(60));

        assertThat(results).hasSize(200).allMatch(Result::isHealthy);
        assertThat(slow.calls.mostAtOnce.get()).as("probes running at once").isEqualTo(1);
        assertThat(slow.calls.probes.get()).isBetween(2, 40);
    }

    @Test
    void aRequestAfterAProbeFinishedSeesTheVaultAsItIsNow() {
        assertThat(Mono.from(check.check()).block().isHealthy()).isTrue();

        vault.goDown();

        assertThat(Mono.from(check.check()).block().isUnHealthy()).isTrue();
    }
}
