package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.testing.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever a key store does wrong, the vault answers "temporarily unavailable", never a key. The stores here are
 * deliberately broken stand-ins for a library bug; the real backends are tested against swtpm, SoftHSM2 and PKCS#12.
 */
class FailClosedTest {
    @TempDir
    Path dir;

    /** A store that keeps keys in name only and breaks in the way the test asks. */
    private static final class BrokenStore implements KeyBackend {
        private final byte[] answer;
        private final RuntimeException failure;

        BrokenStore(byte[] answer, RuntimeException failure) {
            this.answer = answer;
            this.failure = failure;
        }

        @Override
        public String name() {
            return "broken";
        }

        @Override
        public String store(String keyId, byte[] primary) {
            return keyId;
        }

        @Override
        public byte[] hmacSha256(String keyId, String reference, byte[] data) {
            if (failure != null) {
                throw failure;
            }
            return answer;
        }

        @Override
        public VaultHealth health() {
            return VaultHealth.up("broken");
        }

        @Override
        public long operationCount() {
            return 0;
        }

        @Override
        public void close() {
        }
    }

    private DefaultKeyVault vaultOver(KeyBackend store) {
        DefaultKeyVault vault = new DefaultKeyVault(store, dir.resolve("keyset.properties"), CacheSettings.DEFAULTS,
                new MutableClock(Instant.parse("2026-11-22T02:00:00Z")), false);
        vault.importKey("k1", "partner-b", new byte[32], KeyStatus.PRIMARY);
        return vault;
    }

    @Test
    void libraryExceptionBecomesKeyUnavailable() {
        try (DefaultKeyVault vault = vaultOver(new BrokenStore(null, new IllegalStateException("native crash")))) {
            assertThatThrownBy(() -> vault.periodKey(new KdfContext("k1", "a.example", 900, 1)))
                    .isInstanceOf(KeyUnavailableException.class).hasMessageContaining("native crash");
        }
    }

    @Test
    void shortAnswerIsNotUsedAsAKey() {
        try (DefaultKeyVault vault = vaultOver(new BrokenStore(new byte[20], null))) {
            assertThatThrownBy(() -> vault.periodKey(new KdfContext("k1", "a.example", 900, 1)))
                    .isInstanceOf(KeyUnavailableException.class);
            assertThat(vault.cachedKeyCount()).isZero();
        }
    }

    @Test
    void noFingerprintIsShownWhenTheLibraryFails() {
        try (DefaultKeyVault vault = vaultOver(new BrokenStore(null, new IllegalStateException("native crash")))) {
            assertThatThrownBy(() -> vault.fingerprint("k1"))
                    .isInstanceOf(KeyUnavailableException.class).hasMessageContaining("native crash");
        }
    }

    @Test
    void noFingerprintIsShownFromAShortAnswer() {
        try (DefaultKeyVault vault = vaultOver(new BrokenStore(new byte[20], null))) {
            assertThatThrownBy(() -> vault.fingerprint("k1")).isInstanceOf(KeyUnavailableException.class);
        }
    }

    @Test
    void noFingerprintIsShownFromNoAnswer() {
        try (DefaultKeyVault vault = vaultOver(new BrokenStore(null, null))) {
            assertThatThrownBy(() -> vault.fingerprint("k1")).isInstanceOf(KeyUnavailableException.class);
        }
    }
}
