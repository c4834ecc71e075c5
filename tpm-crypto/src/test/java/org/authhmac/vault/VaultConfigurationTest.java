package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad configuration fails at start-up, and the message names the property at fault. */
class VaultConfigurationTest {
    @TempDir
    Path dir;

    private Properties tcp() {
        Properties p = new Properties();
        p.setProperty("vault.backend", "tpm");
        p.setProperty("tpm.device", "tcp");
        p.setProperty("tpm.port", "2321");
        return p;
    }

    private void assertRejected(Properties p, String property, String messagePart) {
        assertThatThrownBy(() -> KeyVaults.open(p, dir))
                .isInstanceOf(VaultConfigException.class)
                .hasMessageStartingWith(property + ":")
                .hasMessageContaining(messagePart)
                .extracting(e -> ((VaultConfigException) e).property()).isEqualTo(property);
    }

    @Test
    void missingBackendIsNamed() {
        assertRejected(new Properties(), "vault.backend", "required");
    }

    @Test
    void unknownBackendIsNamedWithTheChoices() {
        Properties p = tcp();
        p.setProperty("vault.backend", "tmp");
        assertRejected(p, "vault.backend", "tpm, pkcs12, pkcs11");
    }

    @Test
    void misspelledPropertyIsRefusedRatherThanIgnored() {
        Properties p = tcp();
        p.setProperty("tpm.prot", "2321");
        assertRejected(p, "tpm.prot", "unknown property");
    }

    @Test
    void tcpDeviceWithoutPortIsNamed() {
        Properties p = tcp();
        p.remove("tpm.port");
        assertRejected(p, "tpm.port", "required");
    }

    @Test
    void nonNumericPortIsNamed() {
        Properties p = tcp();
        p.setProperty("tpm.port", "twenty");
        assertRejected(p, "tpm.port", "integer");
    }

    @Test
    void unknownDeviceIsNamed() {
        Properties p = tcp();
        p.setProperty("tpm.device", "usb");
        assertRejected(p, "tpm.device", "tcp, linux, tbs");
    }

    @Test
    void badBooleanIsNamed() {
        Properties p = tcp();
        p.setProperty("tpm.tcpNoDelay", "maybe");
        assertRejected(p, "tpm.tcpNoDelay", "true or false");
    }

    @Test
    void tbsOutsideWindowsIsNamed() {
        Properties p = tcp();
        p.setProperty("tpm.device", "tbs");
        org.junit.jupiter.api.Assumptions.assumeFalse(System.getProperty("os.name").startsWith("Windows"));
        assertRejected(p, "tpm.device", "Windows");
    }

    @Test
    void pkcs12WithoutPasswordIsNamed() {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "k.p12");
        assertRejected(p, "pkcs12.passwordFile", "required");
    }

    @Test
    void negativeCacheSettingIsNamed() {
        Properties p = tcp();
        p.setProperty("cache.previousPeriods", "-1");
        assertRejected(p, "cache.previousPeriods", "between");
    }

    @Test
    void brokenKeysetFileNamesTheEntry() throws Exception {
        Files.writeString(dir.resolve("auth-hmac-keyset.properties"),
                "key.k1.keyset=partner-b\nkey.k1.status=SIGNING\nkey.k1.created=2026-11-22T02:00:00Z\nkey.k1.backend=tpm\nkey.k1.ref=k1\n");
        assertRejected(tcp(), "key.k1.status", "PRIMARY, ACTIVE or RETIRED");
    }

    @Test
    void keysetOfAnotherBackendIsRefused() throws Exception {
        Files.writeString(dir.resolve("auth-hmac-keyset.properties"),
                "key.k1.keyset=partner-b\nkey.k1.status=PRIMARY\nkey.k1.created=2026-11-22T02:00:00Z\nkey.k1.backend=pkcs12\nkey.k1.ref=k1\n");
        assertRejected(tcp(), "vault.backend", "pkcs12");
    }

    @Test
    void twoPrimariesInOneKeysetAreRefused() throws Exception {
        Files.writeString(dir.resolve("auth-hmac-keyset.properties"), """
                key.k1.keyset=partner-b
                key.k1.status=PRIMARY
                key.k1.created=2026-11-22T02:00:00Z
                key.k1.backend=tpm
                key.k1.ref=k1
                key.k2.keyset=partner-b
                key.k2.status=PRIMARY
                key.k2.created=2026-11-22T02:00:00Z
                key.k2.backend=tpm
                key.k2.ref=k2
                """);
        assertRejected(tcp(), "key.k2.status", "two PRIMARY");
    }

    @Test
    void aTcpPortFromOneUpIsAcceptedAndAnUnreachableTpmOnlyMakesTheVaultUnhealthy() {
        Properties p = tcp();
        p.setProperty("tpm.port", "1"); // nothing listens there
        p.setProperty("tpm.timeoutMillis", "1000");

        try (KeyVault vault = KeyVaults.open(p, dir)) {
            assertThat(vault.health().healthy()).isFalse();
        }
        p.setProperty("tpm.port", "0");
        assertRejected(p, "tpm.port", "required");
    }

    @Test
    void pkcs11WithBothASlotAndASlotListIndexIsNamed() throws Exception {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs11");
        p.setProperty("pkcs11.library", Files.writeString(dir.resolve("libtoken.so"), "").toString());
        p.setProperty("pkcs11.slot", "0");
        p.setProperty("pkcs11.slotListIndex", "0");
        p.setProperty("pkcs11.pin", "1234");
        assertRejected(p, "pkcs11.slotListIndex", "not both");
    }

    @Test
    void anOwnerPasswordWithAPersistentParentIsNamed() {
        Properties p = tcp();
        p.setProperty("tpm.parent", "0x81000001");
        p.setProperty("tpm.ownerAuth", "owner-secret");
        assertRejected(p, "tpm.ownerAuth", "only applies with tpm.parent=owner");
    }

    @Test
    void aParentHandleOutsideThePersistentRangeIsNamed() {
        for (String handle : new String[] {"0x8100000001", "0x80000001", "-0x7f000000", "handle"}) {
            Properties p = tcp();
            p.setProperty("tpm.parent", handle);
            assertRejected(p, "tpm.parent", "not '" + handle + "'");
        }
    }

    @Test
    void aPkcs12VaultOpensWithItsPasswordFromAFileAndTheSmallestCacheSettings() throws Exception {
        Files.writeString(dir.resolve("password"), "test-password\n");
        Properties p = TestVaults.pkcs12();
        p.remove("pkcs12.password");
        p.setProperty("pkcs12.passwordFile", "password");
        p.setProperty("cache.previousPeriods", "0");
        p.setProperty("cache.prefetchSeconds", "0");
        p.setProperty("cache.maxEntries", "1");

        try (KeyVault vault = KeyVaults.open(p, dir)) {
            assertThat(vault.health().healthy()).isTrue();
            assertThat(vault.keys()).isEmpty();
        }
    }

    @Test
    void theConfigurationFileIsTheNamedOneElseUnderJamesWorkingDirectoryElseUnderTheCurrentOne() {
        String explicit = System.getProperty(KeyVaults.CONFIG_PROPERTY);
        String root = System.getProperty("working.directory");
        try {
            System.clearProperty(KeyVaults.CONFIG_PROPERTY);
            System.clearProperty("working.directory");
            assertThat(KeyVaults.defaultConfigFile()).isEqualTo(Path.of("conf", "auth-hmac.properties"));
            System.setProperty("working.directory", "/opt/james");
            assertThat(KeyVaults.defaultConfigFile()).isEqualTo(Path.of("/opt/james", "conf", "auth-hmac.properties"));
            System.setProperty(KeyVaults.CONFIG_PROPERTY, "/etc/auth-hmac.properties");
            assertThat(KeyVaults.defaultConfigFile()).isEqualTo(Path.of("/etc/auth-hmac.properties"));
        } finally {
            restore(KeyVaults.CONFIG_PROPERTY, explicit);
            restore("working.directory", root);
        }
    }

    private static void restore(String name, String value) {
        if (value == null) {
            System.clearProperty(name);
        } else {
            System.setProperty(name, value);
        }
    }
}
