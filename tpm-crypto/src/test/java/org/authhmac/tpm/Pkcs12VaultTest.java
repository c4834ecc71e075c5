package org.authhmac.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Properties;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The weaker PKCS#12 backend: same keys, same derivations, keys survive a restart, wrong password is a clear error. */
class Pkcs12VaultTest {
    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:10Z"));
    private final KdfContext ctx = new KdfContext("k1", "a.example", 900, KdfContext.periodOf(Instant.parse("2026-11-22T02:00:10Z").getEpochSecond(), 900));

    @Test
    void derivesTheSoftwareKdfAndKeepsKeysAcrossRestarts() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        }
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            assertThat(vault.periodKey(ctx).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, ctx));
            assertThat(vault.keys()).singleElement().extracting(KeyInfo::backend).isEqualTo("pkcs12");
            assertThat(vault.health().detail()).contains("weaker");
        }
        assertThat(HexFormat.of().formatHex(Files.readAllBytes(dir.resolve("keys.p12"))))
                .as("the file is encrypted, not the raw key").doesNotContain(HexFormat.of().formatHex(TestVaults.PRIMARY));
    }

    @Test
    void looksUpOneKeyByIdRetiredOnesIncluded() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            vault.importKey("k2", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            vault.setStatus("k1", KeyStatus.RETIRED);

            assertThat(vault.key("k1")).get().extracting(KeyInfo::status).isEqualTo(KeyStatus.RETIRED);
            assertThat(vault.key("k2")).get().extracting(KeyInfo::keyset).isEqualTo("partner-b");
            assertThat(vault.key("k3")).isEmpty();
        }
    }

    @Test
    void wrongPasswordIsATemporaryErrorNamingTheCause() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        }
        Properties wrong = TestVaults.pkcs12();
        wrong.setProperty("pkcs12.password", "not-it");
        try (DefaultKeyVault vault = TestVaults.open(wrong, dir, clock)) {
            assertThatThrownBy(() -> vault.periodKey(ctx)).isInstanceOf(KeyUnavailableException.class).hasMessageContaining("password");
            assertThat(vault.health().healthy()).isFalse();
        }
    }
}
