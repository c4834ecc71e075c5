package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Properties;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.testing.MutableClock;
import org.authhmac.vault.pkcs12.Pkcs12Backend;
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

    private static final byte[] DATA = "period".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] OTHER = HexFormat.of().parseHex("ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    /** The keystore file as another process left it: k1 holds {@code secret}. */
    private Path keystoreWith(String name, byte[] secret) throws Exception {
        Path other = dir.resolve(name);
        Pkcs12Backend writer = new Pkcs12Backend(other, "test-password".toCharArray());
        writer.store("k1", secret.clone());
        writer.close();
        return other;
    }

    private static byte[] hmac(byte[] secret, byte[] data) throws Exception {
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(secret, "HmacSHA256"));
        return mac.doFinal(data);
    }

    @Test
    void aKeystoreFileChangedByAnotherProcessIsReadAgainOnAKeysetChangeAndBeforeEveryStore() throws Exception {
        Path file = keystoreWith("keys.p12", TestVaults.PRIMARY);
        Path replaced = keystoreWith("replaced.p12", OTHER);
        Pkcs12Backend backend = new Pkcs12Backend(file, "test-password".toCharArray());
        byte[] before = backend.hmacSha256("k1", "k1", DATA);
        assertThat(before).isEqualTo(hmac(TestVaults.PRIMARY, DATA));

        // when the file is swapped under the running backend (a restore), a keyset change drops what was cached
        Files.copy(replaced, file, StandardCopyOption.REPLACE_EXISTING);
        backend.keysetChanged();
        assertThat(backend.hmacSha256("k1", "k1", DATA)).isEqualTo(hmac(OTHER, DATA));

        // and a store starts from the file as it is, not from the keys read before
        Files.copy(keystoreWith("original.p12", TestVaults.PRIMARY), file, StandardCopyOption.REPLACE_EXISTING);
        backend.store("k2", OTHER.clone());
        assertThat(backend.hmacSha256("k1", "k1", DATA)).isEqualTo(before);
        assertThat(backend.operationCount()).as("three MACs and one store").isEqualTo(4);
        backend.close();
    }

    @Test
    void aClosedBackendComputesNothingMoreNotEvenWithAKeyItHadRead() throws Exception {
        Pkcs12Backend backend = new Pkcs12Backend(keystoreWith("keys.p12", TestVaults.PRIMARY), "test-password".toCharArray());
        backend.hmacSha256("k1", "k1", DATA);

        backend.close();

        assertThatThrownBy(() -> backend.hmacSha256("k1", "k1", DATA)).isInstanceOf(KeyUnavailableException.class);
    }
}
