package org.authhmac.vault;

import java.nio.file.Path;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Properties;
import org.authhmac.testing.tpm.Swtpm;

/** Builds vault configurations for the tests: a swtpm-backed one and a PKCS#12 one. */
final class TestVaults {
    /** The primary used for known-answer checks: bytes 0x00..0x1f. */
    static final byte[] PRIMARY = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    private TestVaults() {
    }

    static Properties tpm(Swtpm swtpm) {
        Properties p = new Properties();
        p.setProperty("vault.backend", "tpm");
        p.setProperty("tpm.device", "tcp");
        p.setProperty("tpm.host", swtpm.host());
        p.setProperty("tpm.port", Integer.toString(swtpm.port()));
        p.setProperty("tpm.timeoutMillis", "2000");
        return p;
    }

    static Properties pkcs12() {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        return p;
    }

    static DefaultKeyVault open(Properties p, Path dir, Clock clock) {
        return KeyVaults.open(p, dir, clock, false);
    }
}
