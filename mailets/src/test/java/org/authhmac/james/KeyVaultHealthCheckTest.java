package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.james.core.healthcheck.Result;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class KeyVaultHealthCheckTest {
    InMemoryKeyVault vault = new InMemoryKeyVault().add("k1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("b"));
    KeyVaultHealthCheck check = new KeyVaultHealthCheck(vault);

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
}
