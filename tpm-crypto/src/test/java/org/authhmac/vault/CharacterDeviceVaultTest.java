package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.testing.MutableClock;
import org.authhmac.testing.tpm.SwtpmCharacterDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The vault on a TPM character device (tpm.device=linux), here swtpm behind a pseudo-terminal. */
@Timeout(120) // a character device has no read timeout of its own
class CharacterDeviceVaultTest {
    private static final int P = 900;

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:10Z"));
    private SwtpmCharacterDevice device;

    @BeforeEach
    void startEmulator() {
        device = SwtpmCharacterDevice.start();
    }

    @AfterEach
    void stopEmulator() {
        device.close();
    }

    private Properties linux() {
        Properties p = new Properties();
        p.setProperty("vault.backend", "tpm");
        p.setProperty("tpm.device", "linux");
        p.setProperty("tpm.devicePath", device.path().toString());
        return p;
    }

    private KdfContext now(String keyId) {
        return new KdfContext(keyId, "a.example", P, KdfContext.periodOf(clock.instant().getEpochSecond(), P));
    }

    @Test
    void derivesThroughTheCharacterDeviceTheKeyTheSoftwareKdfDerives() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(linux(), dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

            assertThat(vault.periodKey(now("k1")).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, now("k1")));
            clock.advance(Duration.ofSeconds(P));
            assertThat(vault.periodKey(now("k1")).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, now("k1")));
            assertThat(vault.health().healthy()).isTrue();
        }
    }

    @Test
    void aDeviceThatWentAwayGivesKeyUnavailableNotAKey() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(linux(), dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            vault.periodKey(now("k1"));

            device.close();
            clock.advance(Duration.ofSeconds(P));

            assertThatThrownBy(() -> vault.periodKey(now("k1"))).isInstanceOf(KeyUnavailableException.class)
                    .hasMessageContaining(device.path().toString());
            assertThat(vault.health().healthy()).isFalse();
        }
    }
}
