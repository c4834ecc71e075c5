package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.testing.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keyset changes made through another vault on the same files (the command line while James runs): James's vault
 * applies them without a restart, and an import never overwrites a key.
 */
class KeysetChangesTest {
    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:10Z"));

    private KdfContext now(String keyId) {
        return new KdfContext(keyId, "a.example", 900, KdfContext.periodOf(clock.instant().getEpochSecond(), 900));
    }

    @Test
    void aKeyRetiredThroughTheCommandLineStopsWorkingInTheRunningVaultWithoutARestart() throws Exception {
        byte[] second = TestVaults.PRIMARY.clone();
        second[0] = 42;
        try (DefaultKeyVault james = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            // given James signing and verifying with k1, its period key cached
            james.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            PeriodKeys verifier = james.forVerification(() -> { });
            james.periodKey(now("k1"));
            assertThat(james.cachedKeyCount()).isEqualTo(1);

            // when the command line rotates to k2 and retires k1 through a vault of its own
            try (DefaultKeyVault cli = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
                cli.importKey("k2", "partner-b", second.clone(), KeyStatus.ACTIVE);
                cli.setStatus("k2", KeyStatus.PRIMARY);
                cli.setStatus("k1", KeyStatus.RETIRED);
            }
            clock.advance(Duration.ofSeconds(2));

            // then k1 is refused for signing and verifying, its cached key is gone, and k2 signs and derives
            assertThatThrownBy(() -> james.periodKey(now("k1"))).isInstanceOf(UnknownKeyException.class).hasMessageContaining("retired");
            assertThatThrownBy(() -> verifier.periodKey(now("k1"))).isInstanceOf(UnknownKeyException.class);
            assertThat(james.primaryKeyId("partner-b")).isEqualTo("k2");
            assertThat(james.periodKey(now("k2")).exportBytesForTestVectors()).isEqualTo(Kdf.derive(second, now("k2")));
            assertThat(james.cachedKeyCount()).as("only k2's key stays in memory").isEqualTo(1);
        }
    }

    @Test
    void aKeysetFileThatBecameUnreadableKeepsThePreviousKeys() throws Exception {
        try (DefaultKeyVault james = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            james.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            Path keyset = dir.resolve("auth-hmac-keyset.properties");
            Files.writeString(keyset, Files.readString(keyset) + "key.k1.status=NOT-A-STATUS\n");
            clock.advance(Duration.ofSeconds(2));

            assertThat(james.primaryKeyId("partner-b")).isEqualTo("k1");
            assertThat(james.periodKey(now("k1")).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, now("k1")));
        }
    }

    @Test
    void importingAKeyIdThatExistsIsRefusedAndTheExistingKeyStaysAsItWas() throws Exception {
        byte[] other = TestVaults.PRIMARY.clone();
        other[0] = 7;
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            // given k1, the ACTIVE key of partner-b
            vault.importKey("k0", "partner-b", other.clone(), KeyStatus.PRIMARY);
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
            KeyInfo before = vault.key("k1").orElseThrow();
            clock.advance(Duration.ofSeconds(5));

            // when another secret is imported under the same id, in another keyset and as a PRIMARY
            assertThatThrownBy(() -> vault.importKey("k1", "partner-c", other.clone(), KeyStatus.PRIMARY))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("key id k1 already exists");
        }
        // then nothing changed on disk: k1 keeps its keyset, status, creation time and secret; k0 stays primary
        try (DefaultKeyVault reopened = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            assertThat(reopened.key("k1")).get().satisfies(k -> {
                assertThat(k.keyset()).isEqualTo("partner-b");
                assertThat(k.status()).isEqualTo(KeyStatus.ACTIVE);
                assertThat(k.created()).isEqualTo(Instant.parse("2026-11-22T02:00:10Z"));
            });
            assertThat(reopened.primaryKeyId("partner-b")).isEqualTo("k0");
            assertThatThrownBy(() -> reopened.primaryKeyId("partner-c")).isInstanceOf(UnknownKeyException.class);
            assertThat(reopened.periodKey(now("k1")).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, now("k1")));
        }
    }

    @Test
    void keysTheCommandLineLeftAloneStayInMemoryWhenItChangesTheKeyset() throws Exception {
        try (DefaultKeyVault james = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            james.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            james.periodKey(now("k1"));
            PeriodKeys verifier = james.forVerification(() -> { });
            KdfContext received = new KdfContext("k1", "c.example", 900, now("k1").period());
            PeriodKey unchecked = verifier.periodKey(received);

            try (DefaultKeyVault cli = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
                cli.importKey("k2", "partner-c", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            }
            clock.advance(Duration.ofSeconds(2));

            assertThat(james.primaryKeyId("partner-c")).as("the change was read").isEqualTo("k2");
            james.periodKey(now("k1"));
            verifier.macChecked(unchecked, true);
            verifier.periodKey(received);
            assertThat(james.derivationCount()).as("k1's keys still in memory").isEqualTo(2);
            assertThat(james.wastedDerivationCount()).isZero();
        }
    }

    @Test
    void aKeyAVerifierDerivedIsCountedAsWastedWhenTheCommandLineRetiresItsKeyBeforeAnyCheck() throws Exception {
        AtomicInteger reported = new AtomicInteger();
        try (DefaultKeyVault james = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            james.importKey("k0", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            james.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
            PeriodKeys verifier = james.forVerification(reported::incrementAndGet);
            PeriodKey unchecked = verifier.periodKey(now("k1"));

            try (DefaultKeyVault cli = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
                cli.setStatus("k1", KeyStatus.RETIRED);
            }
            clock.advance(Duration.ofSeconds(2));
            assertThat(james.key("k1")).get().extracting(KeyInfo::status).isEqualTo(KeyStatus.RETIRED);
            verifier.macChecked(unchecked, true);

            assertThat(james.unconfirmedKeyCount()).isZero();
            assertThat(james.cachedKeyCount()).as("a key of a retired key id is never cached").isZero();
            assertThat(james.wastedDerivationCount()).isEqualTo(1);
            assertThat(reported.get()).isEqualTo(1);
        }
    }

    @Test
    void aKeysetChangeTakesEffectWithinOneSecondWithoutAFileCheckForEveryMail() throws Exception {
        try (DefaultKeyVault james = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            james.importKey("k0", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            james.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
            try (DefaultKeyVault cli = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
                cli.setStatus("k1", KeyStatus.RETIRED);
            }

            // the keyset file was last looked at when James opened it: the change is not read yet
            james.periodKey(now("k1"));
            clock.advance(Duration.ofMillis(999));
            james.periodKey(now("k1"));

            clock.advance(Duration.ofMillis(1));
            assertThatThrownBy(() -> james.periodKey(now("k1"))).isInstanceOf(UnknownKeyException.class).hasMessageContaining("retired");
        }
    }

    @Test
    void aKeysetChangeIsReadAtOnceWhenTheClockWasSetBack() throws Exception {
        try (DefaultKeyVault james = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            james.importKey("k0", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            james.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
            try (DefaultKeyVault cli = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
                cli.setStatus("k1", KeyStatus.RETIRED);
            }

            clock.advance(Duration.ofHours(-1));

            assertThatThrownBy(() -> james.periodKey(now("k1"))).isInstanceOf(UnknownKeyException.class).hasMessageContaining("retired");
        }
    }

    @Test
    void importingAndChangingAStatusAnswerWithTheKeyAsStored() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            KeyInfo imported = vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            KeyInfo active = vault.importKey("k2", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
            KeyInfo promoted = vault.setStatus("k2", KeyStatus.PRIMARY);

            Instant created = Instant.parse("2026-11-22T02:00:10Z");
            assertThat(imported).isEqualTo(new KeyInfo("k1", "partner-b", KeyStatus.PRIMARY, created, "pkcs12"));
            assertThat(active).isEqualTo(new KeyInfo("k2", "partner-b", KeyStatus.ACTIVE, created, "pkcs12"));
            assertThat(promoted).isEqualTo(new KeyInfo("k2", "partner-b", KeyStatus.PRIMARY, created, "pkcs12"));
            assertThat(vault.key("k1")).get().extracting(KeyInfo::status).as("the former primary").isEqualTo(KeyStatus.ACTIVE);
        }
    }

    @Test
    void aPrimaryOfSixteenToSixtyFourBytesIsAcceptedAndOtherLengthsAreRefused() {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            vault.importKey("k16", "partner-b", new byte[16], KeyStatus.ACTIVE);
            vault.importKey("k64", "partner-b", new byte[64], KeyStatus.ACTIVE);

            assertThatThrownBy(() -> vault.importKey("k15", "partner-b", new byte[15], KeyStatus.ACTIVE)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> vault.importKey("k65", "partner-b", new byte[65], KeyStatus.ACTIVE)).isInstanceOf(IllegalArgumentException.class);
            assertThat(vault.keys()).extracting(KeyInfo::keyId).containsExactlyInAnyOrder("k16", "k64");
        }
    }

    @Test
    void retiringAKeysetsPrimaryIsRefusedUntilAnotherKeyIsPromoted() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            vault.importKey("k2", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);

            assertThatThrownBy(() -> vault.setStatus("k1", KeyStatus.RETIRED)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("promote another key first");
            assertThat(vault.primaryKeyId("partner-b")).isEqualTo("k1");
            assertThat(vault.periodKey(now("k1"))).isNotNull();

            vault.setStatus("k2", KeyStatus.PRIMARY);
            assertThat(vault.setStatus("k1", KeyStatus.RETIRED).status()).isEqualTo(KeyStatus.RETIRED);
        }
    }

    @Test
    void theKeyListIsOrderedByKeysetThenCreationThenKeyId() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            vault.importKey("k9", "partner-c", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            vault.importKey("k5", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            vault.importKey("k3", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
            clock.advance(Duration.ofSeconds(5));
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
            vault.importKey("k0", "partner-c", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);

            assertThat(vault.keys()).extracting(KeyInfo::keyId).containsExactly("k3", "k5", "k1", "k9", "k0");
            // the file lists them in the same order, whatever order they were added in
            assertThat(Files.readAllLines(dir.resolve("auth-hmac-keyset.properties")).stream()
                    .filter(line -> line.contains(".keyset=")).map(line -> line.substring(4, line.indexOf(".keyset="))))
                    .containsExactly("k3", "k5", "k1", "k9", "k0");
        }
    }

    @Test
    void everyChangeOfTheKeysetReleasesTheKeysetLockWhenDone() throws Exception {
        Path lockFile = dir.resolve("auth-hmac-keyset.properties.lock");
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            assertThat(OwnerOnlyFilesTest.lockedInThisJvm(lockFile)).isFalse();
            vault.importKey("k2", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
            vault.setStatus("k2", KeyStatus.RETIRED);
            assertThat(OwnerOnlyFilesTest.lockedInThisJvm(lockFile)).isFalse();
        }
    }

    @Test
    void aKeyIdThatExtendsAnotherWithADotIsAKeyOfItsOwnAndTheFileStillReads() throws Exception {
        Path keyset = dir.resolve("keyset.properties");
        try (DefaultKeyVault vault = new DefaultKeyVault(new SoftwareKeyStore(), keyset, CacheSettings.DEFAULTS, clock, false)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            vault.importKey("k1.b", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.ACTIVE);
        }

        try (DefaultKeyVault reopened = new DefaultKeyVault(new SoftwareKeyStore(), keyset, CacheSettings.DEFAULTS, clock, false)) {
            assertThat(reopened.keys()).extracting(KeyInfo::keyId).containsExactlyInAnyOrder("k1", "k1.b");
        }
    }

    @Test
    void anUnknownAttributeOfADottedKeyIdIsStillRefusedAndNamed() throws Exception {
        Path keyset = dir.resolve("keyset.properties");
        try (DefaultKeyVault vault = new DefaultKeyVault(new SoftwareKeyStore(), keyset, CacheSettings.DEFAULTS, clock, false)) {
            vault.importKey("k1.b", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        }
        Files.writeString(keyset, "key.k1.b.colour=blue\n", java.nio.file.StandardOpenOption.APPEND);

        assertThatThrownBy(() -> new DefaultKeyVault(new SoftwareKeyStore(), keyset, CacheSettings.DEFAULTS, clock, false))
                .isInstanceOf(VaultConfigException.class).hasMessageContaining("key.k1.b.colour");
    }
}
