package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import org.authhmac.protocol.KeyFingerprint;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.testing.MutableClock;
import org.authhmac.testing.tpm.Swtpm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nodes compare the public fingerprint of a key: equal for the same primary, computed by the backend itself. */
class TpmFingerprintTest {
    private static final byte[] OTHER_PRIMARY = HexFormat.of().parseHex("1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100");

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:00Z"));

    private DefaultKeyVault tpmVault(Swtpm tpm, String node) throws Exception {
        return TestVaults.open(TestVaults.tpm(tpm), Files.createDirectories(dir.resolve(node)), clock);
    }

    @Test
    void twoNodesWithTheSamePrimaryInTheirOwnTpmsShowTheSameFingerprint() throws Exception {
        try (Swtpm tpm1 = Swtpm.start(); Swtpm tpm2 = Swtpm.start();
             DefaultKeyVault node1 = tpmVault(tpm1, "node1"); DefaultKeyVault node2 = tpmVault(tpm2, "node2")) {
            node1.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            node2.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

            KeyFingerprint one = node1.fingerprint("k1");
            KeyFingerprint two = node2.fingerprint("k1");

            assertThat(one).isEqualTo(two).isEqualTo(KeyFingerprint.of(TestVaults.PRIMARY));
        }
    }

    @Test
    void aDifferentPrimaryUnderTheSameKeyIdShowsADifferentFingerprint() throws Exception {
        try (Swtpm tpm1 = Swtpm.start(); Swtpm tpm2 = Swtpm.start();
             DefaultKeyVault node1 = tpmVault(tpm1, "node1"); DefaultKeyVault node2 = tpmVault(tpm2, "node2")) {
            node1.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            node2.importKey("k1", "partner-b", OTHER_PRIMARY.clone(), KeyStatus.PRIMARY);

            assertThat(node1.fingerprint("k1")).isNotEqualTo(node2.fingerprint("k1"));
        }
    }

    @Test
    void tpmAndPkcs12VaultsHoldingTheSamePrimaryAgree() throws Exception {
        try (Swtpm tpm = Swtpm.start(); DefaultKeyVault onTpm = tpmVault(tpm, "tpm");
             DefaultKeyVault inFile = TestVaults.open(TestVaults.pkcs12(), Files.createDirectories(dir.resolve("p12")), clock)) {
            onTpm.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            inFile.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

            assertThat(onTpm.fingerprint("k1")).isEqualTo(inFile.fingerprint("k1"));
        }
    }

    @Test
    void theTpmComputesItSoNoFingerprintIsShownWhileTheTpmIsDown() throws Exception {
        try (Swtpm tpm = Swtpm.start(); DefaultKeyVault node = tpmVault(tpm, "node")) {
            node.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            long before = node.backendOperationCount();
            node.fingerprint("k1");
            long afterOne = node.backendOperationCount();

            tpm.kill();

            assertThat(afterOne).as("TPM commands for one fingerprint").isGreaterThan(before);
            assertThatThrownBy(() -> node.fingerprint("k1")).isInstanceOf(KeyUnavailableException.class);
        }
    }

    @Test
    void isNoDerivationAndLeavesNoObjectBehindButTheLoadedKey() throws Exception {
        try (Swtpm tpm = Swtpm.start(); DefaultKeyVault node = tpmVault(tpm, "node")) {
            node.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

            for (int i = 0; i < 20; i++) {
                node.fingerprint("k1");
            }

            assertThat(node.derivationCount()).isZero();
            assertThat(node.cachedKeyCount()).isZero();
            // the storage key and k1, as after derivations
            assertThat(TpmVaultTest.backendOf(node).transientObjectCount()).isEqualTo(2);
        }
    }

    @Test
    void retiredKeysHaveOneTooAndUnknownKeyIdsNone() throws Exception {
        try (Swtpm tpm = Swtpm.start(); DefaultKeyVault node = tpmVault(tpm, "node")) {
            node.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            node.importKey("k2", "partner-b", OTHER_PRIMARY.clone(), KeyStatus.ACTIVE);
            node.setStatus("k2", KeyStatus.RETIRED);

            assertThat(node.fingerprint("k2")).isEqualTo(KeyFingerprint.of(OTHER_PRIMARY));
            assertThatThrownBy(() -> node.fingerprint("k3")).isInstanceOf(UnknownKeyException.class);
        }
    }
}
