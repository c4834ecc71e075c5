package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.authhmac.james.PartnerKeys;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Unknown-key is decided from the keyset before the key source is asked (docs/PROTOCOL.md section 9, step 7): a
 * forged key id gets a permanent answer even while the TPM is down, and only a key the partner holds waits for it.
 */
class UnknownKeyBeforeKeySourceTest {
    InMemoryKeyVault vault;
    PartnerKeys keys;

    @BeforeEach
    void setUp() {
        vault = new InMemoryKeyVault()
                .add("ka1", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"))
                .add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c-b"))
                .add("ka0", "partner-a", KeyStatus.RETIRED, InMemoryKeyVault.primary("a-b-old"));
        keys = new PartnerKeys(vault, Map.of("a.example", "partner-a", "c.example", "partner-c"));
        vault.goDown();
    }

    static KdfContext context(String keyId, String domain) {
        return new KdfContext(keyId, domain, 900, 1_959_752L);
    }

    @Test
    void anUnknownKeyIdIsUnknownKeyWhileTheKeySourceIsDown() {
        assertThatThrownBy(() -> keys.periodKey(context("forged-1", "a.example"))).isInstanceOf(UnknownKeyException.class);
    }

    @Test
    void anotherPartnersKeyIdIsUnknownKeyWhileTheKeySourceIsDown() {
        assertThatThrownBy(() -> keys.periodKey(context("kc1", "a.example"))).isInstanceOf(UnknownKeyException.class);
    }

    @Test
    void aRetiredKeyIdIsUnknownKeyWhileTheKeySourceIsDown() {
        assertThatThrownBy(() -> keys.periodKey(context("ka0", "a.example"))).isInstanceOf(UnknownKeyException.class);
    }

    @Test
    void aDomainThatIsNoPartnerIsUnknownKeyWhileTheKeySourceIsDown() {
        assertThatThrownBy(() -> keys.periodKey(context("ka1", "evil.example"))).isInstanceOf(UnknownKeyException.class);
    }

    @Test
    void aKeyThePartnerHoldsWaitsForTheKeySource() {
        assertThatThrownBy(() -> keys.periodKey(context("ka1", "a.example"))).isInstanceOf(KeyUnavailableException.class);
    }
}
