package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Properties;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.testing.MutableClock;
import org.authhmac.testing.tpm.Swtpm;
import org.authhmac.vault.tpm2.TcpTpmDevice;
import org.authhmac.vault.tpm2.TpmTemplates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tss.Tpm;
import tss.tpm.CreatePrimaryResponse;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;

/** Where the keys are wrapped: a persistent storage key (as Windows' SRK) or the owner hierarchy with an authorization. */
class TpmParentTest {
    private static final KdfContext CTX = new KdfContext("k1", "a.example", 900, 2_000_000);

    @TempDir
    Path dir;
    private Swtpm swtpm;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:00Z"));

    @BeforeEach
    void start() {
        swtpm = Swtpm.start();
    }

    @AfterEach
    void stop() {
        swtpm.close();
    }

    /** Runs administrator actions on the emulator as another client would, then lets go of it. */
    private void admin(java.util.function.Consumer<Tpm> action) {
        TcpTpmDevice device = new TcpTpmDevice(swtpm.host(), swtpm.port(), true, 2000);
        assertThat(device.connect()).isTrue();
        Tpm tpm = new Tpm();
        tpm._setDevice(device);
        try {
            action.accept(tpm);
        } finally {
            device.close();
        }
    }

    @Test
    void keysCanBeWrappedUnderAPersistentStorageKey() throws Exception {
        admin(tpm -> {
            CreatePrimaryResponse srk = tpm.CreatePrimary(TPM_HANDLE.from(TPM_RH.OWNER), new TPMS_SENSITIVE_CREATE(new byte[0], new byte[0]),
                    TpmTemplates.storageKey(), new byte[0], new TPMS_PCR_SELECTION[0]);
            tpm.EvictControl(TPM_HANDLE.from(TPM_RH.OWNER), srk.handle, TPM_HANDLE.from(0x81000001));
            tpm.FlushContext(srk.handle);
        });
        Properties p = TestVaults.tpm(swtpm);
        p.setProperty("tpm.parent", "0x81000001");

        try (DefaultKeyVault vault = TestVaults.open(p, dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

            assertThat(vault.periodKey(CTX).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, CTX));
            assertThat(TpmVaultTest.backendOf(vault).transientObjectCount()).as("only the HMAC key is transient").isEqualTo(1);
        }
    }

    @Test
    void missingPersistentParentIsReportedNotRetriedForEver() {
        Properties p = TestVaults.tpm(swtpm);
        p.setProperty("tpm.parent", "0x81000001");

        try (DefaultKeyVault vault = TestVaults.open(p, dir, clock)) {
            assertThatThrownBy(() -> vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY))
                    .hasMessageContaining("HANDLE");
            assertThat(vault.health().healthy()).isFalse();
        }
    }

    @Test
    void ownerHierarchyWithAPasswordNeedsTpmOwnerAuth() throws Exception {
        admin(tpm -> tpm.HierarchyChangeAuth(TPM_HANDLE.from(TPM_RH.OWNER), "owner-secret".getBytes(StandardCharsets.UTF_8)));

        try (DefaultKeyVault without = TestVaults.open(TestVaults.tpm(swtpm), dir, clock)) {
            assertThat(without.health().healthy()).isFalse();
            assertThat(without.health().detail()).contains("AUTH");
        }
        Properties p = TestVaults.tpm(swtpm);
        p.setProperty("tpm.ownerAuth", "owner-secret");
        try (DefaultKeyVault vault = TestVaults.open(p, dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            assertThat(vault.periodKey(CTX).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, CTX));
        }
    }

    @Test
    void badParentIsNamedAtStartUp() {
        Properties p = TestVaults.tpm(swtpm);
        p.setProperty("tpm.parent", "0x80000001");

        assertThatThrownBy(() -> TestVaults.open(p, dir, clock))
                .isInstanceOf(VaultConfigException.class).hasMessageStartingWith("tpm.parent:");
    }

    @Test
    void unavailableKeyIsNeverAWrongKey() {
        // the blob directory holds nothing for k1 (say, restored from a partial backup): temporary error, no key
        Properties p = TestVaults.tpm(swtpm);
        try (DefaultKeyVault vault = TestVaults.open(p, dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            assertThat(dir.resolve("auth-hmac-keys/k1.priv").toFile().delete()).isTrue();
        }
        try (DefaultKeyVault vault = TestVaults.open(p, dir, clock)) {
            assertThatThrownBy(() -> vault.periodKey(CTX)).isInstanceOf(KeyUnavailableException.class).hasMessageContaining("missing");
        }
    }
}
