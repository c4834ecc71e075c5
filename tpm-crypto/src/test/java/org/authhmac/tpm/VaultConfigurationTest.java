package org.authhmac.tpm;

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
}
