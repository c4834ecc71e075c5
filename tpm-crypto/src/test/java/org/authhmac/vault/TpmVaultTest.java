package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Properties;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.testing.MutableClock;
import org.authhmac.testing.tpm.Swtpm;
import org.authhmac.vault.tpm2.TcpTpmDevice;
import org.authhmac.vault.tpm2.TpmBackend;
import org.authhmac.vault.tpm2.TpmTemplates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tss.Tpm;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;

/** The TPM backend against a real swtpm emulator. */
class TpmVaultTest {
    private static final int P = 900;
    private static final Instant T0 = Instant.parse("2026-11-22T02:00:00Z");

    @TempDir
    Path dir;
    private Swtpm swtpm;
    private MutableClock clock;
    private DefaultKeyVault vault;

    @BeforeEach
    void startEmulator() {
        swtpm = Swtpm.start();
        clock = new MutableClock(T0.plusSeconds(10));
        vault = TestVaults.open(TestVaults.tpm(swtpm), dir, clock);
    }

    @AfterEach
    void stop() {
        if (vault != null) {
            vault.close();
        }
        swtpm.close();
    }

    private KdfContext now(String keyId) {
        return new KdfContext(keyId, "a.example", P, KdfContext.periodOf(clock.instant().getEpochSecond(), P));
    }

    private static byte[] bytes(PeriodKey key) {
        return key.exportBytesForTestVectors();
    }

    @Test
    void tpmComputedPeriodKeyEqualsTheSoftwareKdfForTheSamePrimary() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

        KdfContext ctx = now("k1");
        PeriodKey fromTpm = vault.periodKey(ctx);

        assertThat(bytes(fromTpm)).isEqualTo(Kdf.derive(TestVaults.PRIMARY, ctx));
        assertThat(vault.derivationCount()).isEqualTo(1);
    }

    @Test
    void keyBlobsAreReadableByTheirOwnerOnlyInAFolderOnlyTheOwnerCanEnter() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

        Path blobs = dir.resolve("auth-hmac-keys");
        assertThat(mode(blobs)).isEqualTo("rwx------");
        assertThat(mode(blobs.resolve("k1.priv"))).isEqualTo("rw-------");
        assertThat(mode(blobs.resolve("k1.pub"))).isEqualTo("rw-------");
        assertThat(mode(dir.resolve("auth-hmac-keyset.properties"))).isEqualTo("rw-------");
    }

    @Test
    void blobsThatOthersCanReadAreNarrowedWhenTheVaultOpensAndStillLoad() throws Exception {
        // given blobs an earlier version left world-readable in a world-readable folder
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        vault.close();
        Path blobs = dir.resolve("auth-hmac-keys");
        Files.setPosixFilePermissions(blobs.resolve("k1.priv"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(blobs.resolve("k1.pub"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(blobs, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));

        // when James (or the command line) opens the vault
        vault = TestVaults.open(TestVaults.tpm(swtpm), dir, clock);

        // then only the owner can reach them, and the key still derives
        assertThat(mode(blobs)).isEqualTo("rwx------");
        assertThat(mode(blobs.resolve("k1.priv"))).isEqualTo("rw-------");
        assertThat(mode(blobs.resolve("k1.pub"))).isEqualTo("rw-------");
        assertThat(bytes(vault.periodKey(now("k1")))).isEqualTo(Kdf.derive(TestVaults.PRIMARY, now("k1")));
    }

    private static String mode(Path p) throws Exception {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void keyBlobIsStoredInTpm2ToolsFormatAndHoldsNoPlainPrimary() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

        byte[] priv = Files.readAllBytes(dir.resolve("auth-hmac-keys/k1.priv"));
        byte[] pub = Files.readAllBytes(dir.resolve("auth-hmac-keys/k1.pub"));
        String keyset = Files.readString(dir.resolve("auth-hmac-keyset.properties"));

        assertThat(HexFormat.of().formatHex(priv)).doesNotContain(HexFormat.of().formatHex(TestVaults.PRIMARY));
        assertThat(((pub[0] & 0xff) << 8 | (pub[1] & 0xff))).isEqualTo(pub.length - 2);
        assertThat(keyset).contains("key.k1.keyset=partner-b", "key.k1.status=PRIMARY", "key.k1.backend=tpm")
                .doesNotContain(HexFormat.of().formatHex(TestVaults.PRIMARY));
    }

    @Test
    void blobCreatedOnOneEmulatorCannotBeLoadedByAnother() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        vault.close();
        vault = null;

        try (Swtpm other = Swtpm.start();
             DefaultKeyVault thief = TestVaults.open(TestVaults.tpm(other), dir, clock)) {
            assertThatThrownBy(() -> thief.periodKey(now("k1")))
                    .isInstanceOf(KeyUnavailableException.class)
                    .hasMessageContaining("does not load");
        }
    }

    @Test
    void cacheUsesOneTpmOperationPerPeriod() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

        vault.periodKey(now("k1"));
        long commands = vault.backendOperationCount();
        for (int i = 1; i < 100; i++) {
            vault.periodKey(now("k1"));
        }
        assertThat(vault.derivationCount()).isEqualTo(1);
        assertThat(vault.backendOperationCount()).as("no TPM command for a cached key").isEqualTo(commands);

        clock.advance(Duration.ofSeconds(P));
        for (int i = 0; i < 100; i++) {
            vault.periodKey(now("k1"));
        }
        assertThat(vault.derivationCount()).isEqualTo(2);
        assertThat(vault.backendOperationCount()).as("the TPM commands of the new period's derivation are counted").isGreaterThan(commands);
    }

    @Test
    void nextPeriodKeyIsDerivedBeforeTheBoundarySoNoMailWaitsThen() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        vault.periodKey(now("k1"));

        clock.set(T0.plusSeconds(P - 30)); // 30 s before the boundary, inside the 60 s prefetch lead
        vault.refreshAhead();
        long afterPrefetch = vault.derivationCount();
        clock.set(T0.plusSeconds(P + 1));
        PeriodKey next = vault.periodKey(now("k1"));

        assertThat(afterPrefetch).isEqualTo(2);
        assertThat(vault.derivationCount()).isEqualTo(2);
        assertThat(bytes(next)).isEqualTo(Kdf.derive(TestVaults.PRIMARY, now("k1")));
    }

    @Test
    void keysThatLeftTheWindowAreDroppedFromMemory() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        vault.periodKey(now("k1"));
        clock.advance(Duration.ofSeconds(P));
        vault.periodKey(now("k1"));
        assertThat(vault.cachedKeyCount()).isEqualTo(2);

        clock.advance(Duration.ofSeconds(2L * P)); // both are now older than previousPeriods (1)
        vault.refreshAhead();

        assertThat(vault.cachedKeyCount()).isZero();
    }

    @Test
    void emulatorKilledMidRunGivesTemporaryErrorThenRecoversInTheSameJvm() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        KdfContext first = now("k1");
        vault.periodKey(first);

        swtpm.kill();
        clock.advance(Duration.ofSeconds(P)); // a period not cached yet: it needs the TPM
        KdfContext second = now("k1");

        assertThatThrownBy(() -> vault.periodKey(second)).isInstanceOf(KeyUnavailableException.class);
        assertThat(vault.health().healthy()).isFalse();
        assertThat(vault.periodKey(first)).as("cached keys keep working").isNotNull();

        swtpm.restart();

        assertThat(bytes(vault.periodKey(second))).isEqualTo(Kdf.derive(TestVaults.PRIMARY, second));
        assertThat(vault.health().healthy()).isTrue();
    }

    @Test
    void tenThousandDerivationsDoNotExhaustTheTpmObjectSlots() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        vault.importKey("k2", "partner-c", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

        // periods far outside the window bypass the cache, so every call is a TPM2_HMAC
        for (int i = 0; i < 10_000; i++) {
            String kid = i % 2 == 0 ? "k1" : "k2";
            vault.periodKey(new KdfContext(kid, "a.example", P, 1_000_000L + i));
        }

        assertThat(vault.derivationCount()).isEqualTo(10_000);
        TpmBackend backend = backendOf(vault);
        assertThat(backend.transientObjectCount()).as("storage key + 2 HMAC keys").isEqualTo(3);
    }

    @Test
    void leftoverTransientObjectsOfACrashedRunAreFlushedAtStart() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        vault.close();
        vault = null;
        // given: a client that created objects and vanished without flushing them (a crash)
        TcpTpmDevice device = new TcpTpmDevice(swtpm.host(), swtpm.port(), true, 2000);
        assertThat(device.connect()).isTrue();
        Tpm crashed = new Tpm();
        crashed._setDevice(device);
        for (int i = 0; i < 3; i++) {
            crashed.CreatePrimary(TPM_HANDLE.from(TPM_RH.OWNER), new TPMS_SENSITIVE_CREATE(new byte[0], new byte[0]),
                    TpmTemplates.storageKey(), new byte[0], new TPMS_PCR_SELECTION[0]);
        }
        device.close();

        // when: the vault starts and derives
        vault = TestVaults.open(TestVaults.tpm(swtpm), dir, clock);
        vault.periodKey(new KdfContext("k1", "a.example", P, 42));

        // then: only its own storage key and HMAC key are loaded
        assertThat(backendOf(vault).transientObjectCount()).isEqualTo(2);
    }

    @Test
    void retiredKeyIsRefusedAsUnknownAndRotationKeepsThePreviousKeyVerifying() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        byte[] second = TestVaults.PRIMARY.clone();
        second[0] = 42;
        vault.importKey("k2", "partner-b", second, KeyStatus.ACTIVE);
        assertThat(vault.primaryKeyId("partner-b")).isEqualTo("k1");

        vault.setStatus("k2", KeyStatus.PRIMARY);
        assertThat(vault.primaryKeyId("partner-b")).isEqualTo("k2");
        assertThat(vault.periodKey(now("k1"))).as("old primary still verifies").isNotNull();

        vault.setStatus("k1", KeyStatus.RETIRED);
        assertThatThrownBy(() -> vault.periodKey(now("k1"))).isInstanceOf(UnknownKeyException.class);
        assertThat(bytes(vault.periodKey(now("k2")))).isEqualTo(Kdf.derive(second, now("k2")));
    }

    @Test
    void unknownKeyIdIsPermanentNotTemporary() {
        assertThatThrownBy(() -> vault.periodKey(now("nope"))).isInstanceOf(UnknownKeyException.class);
    }

    @Test
    void emulatorThatNeverComesUpGivesKeyUnavailableAndUnhealthy() throws Exception {
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        swtpm.kill();

        assertThatThrownBy(() -> vault.periodKey(now("k1"))).isInstanceOf(KeyUnavailableException.class)
                .hasMessageContaining("tcp:127.0.0.1:" + swtpm.port());
        assertThat(vault.health()).extracting(VaultHealth::healthy).isEqualTo(false);
    }

    @Test
    void keyAddedByAnotherProcessIsPickedUpWithoutRestart() throws Exception {
        vault.close();
        Properties p = TestVaults.tpm(swtpm);
        vault = TestVaults.open(p, dir, clock);
        assertThat(vault.keys()).isEmpty();
        vault.close(); // swtpm serves one connection at a time, as with a CLI run while James is stopped
        try (DefaultKeyVault cli = TestVaults.open(p, dir, clock)) {
            cli.importKey("k9", "partner-z", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        }
        vault = TestVaults.open(p, dir, clock);

        clock.advance(Duration.ofSeconds(2));
        assertThat(vault.keys()).extracting(KeyInfo::keyId).containsExactly("k9");
        assertThat(vault.primaryKeyId("partner-z")).isEqualTo("k9");
    }

    @Test
    void idleConnectionIsReleasedSoThatASecondClientCanUseTheSameEmulator() throws Exception {
        vault.close();
        Properties shared = TestVaults.tpm(swtpm);
        shared.setProperty("tpm.idleReleaseMillis", "100");
        vault = TestVaults.open(shared, dir, clock);
        vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        vault.periodKey(now("k1"));

        Path otherDir = Files.createDirectories(dir.resolve("other"));
        try (DefaultKeyVault other = TestVaults.open(shared, otherDir, clock)) {
            awaitReleased(vault);
            other.importKey("k7", "partner-q", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            assertThat(bytes(other.periodKey(now("k7")))).isEqualTo(Kdf.derive(TestVaults.PRIMARY, now("k7")));
            awaitReleased(other);
        }
        clock.advance(Duration.ofSeconds(P));

        assertThat(bytes(vault.periodKey(now("k1")))).isEqualTo(Kdf.derive(TestVaults.PRIMARY, now("k1")));
    }

    private static void awaitReleased(DefaultKeyVault v) throws Exception {
        TpmBackend backend = backendOf(v);
        for (int i = 0; i < 100 && backend.connected(); i++) {
            Thread.sleep(20);
        }
        assertThat(backend.connected()).as("released after being idle").isFalse();
    }

    static TpmBackend backendOf(DefaultKeyVault vault) throws Exception {
        var f = DefaultKeyVault.class.getDeclaredField("backend");
        f.setAccessible(true);
        return (TpmBackend) f.get(vault);
    }
}
