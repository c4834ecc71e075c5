package org.authhmac.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PKCS#11 backend against a real SoftHSM2 token (SunPKCS11). The token lives under target/softhsm2, which
 * surefire names in SOFTHSM2_CONF; it is created once per run, before the JVM first loads the library.
 */
class Pkcs11VaultTest {
    static final String LIBRARY = "/usr/lib/softhsm/libsofthsm2.so";
    static final String PIN = "1234";
    private static final KdfContext CTX = new KdfContext("h1", "a.example", 900, 2_000_000);

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:00Z"));

    @BeforeAll
    static void createToken() throws Exception {
        String conf = System.getenv("SOFTHSM2_CONF");
        boolean installed = Files.isRegularFile(Path.of(LIBRARY));
        if (!installed || conf == null) {
            if ("true".equalsIgnoreCase(System.getenv("CI")) && !installed) {
                throw new IllegalStateException("softhsm2 is not installed and CI=true (apt-get install softhsm2)");
            }
            Assumptions.abort("softhsm2 not installed, or SOFTHSM2_CONF not set (run through Maven)");
        }
        Path confFile = Path.of(conf);
        Path tokens = confFile.resolveSibling("tokens");
        if (Files.exists(tokens)) {
            try (Stream<Path> s = Files.walk(tokens)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Files.createDirectories(tokens);
        Files.writeString(confFile, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n");
        Process p = new ProcessBuilder(List.of("softhsm2-util", "--init-token", "--free", "--label", "authhmac",
                "--pin", PIN, "--so-pin", "5678")).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
    }

    private static Properties config(String pin) {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs11");
        p.setProperty("pkcs11.library", LIBRARY);
        p.setProperty("pkcs11.slotListIndex", "0");
        p.setProperty("pkcs11.pin", pin);
        return p;
    }

    @Test
    void tokenComputesTheSoftwareKdfAndKeepsTheKeyAcrossRestarts() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(config(PIN), dir, clock)) {
            vault.importKey("h1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            assertThat(vault.periodKey(CTX).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, CTX));
        }
        try (DefaultKeyVault vault = TestVaults.open(config(PIN), dir, clock)) {
            assertThat(vault.periodKey(CTX).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, CTX));
            assertThat(vault.keys()).singleElement().extracting(KeyInfo::backend).isEqualTo("pkcs11");
            assertThat(vault.health().healthy()).isTrue();
        }
    }

    @Test
    void keyOnTheTokenIsSensitiveAndCannotBeExtracted() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(config(PIN), dir, clock)) {
            vault.importKey("h2", "partner-c", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        }
        Provider provider = Security.getProvider("SunPKCS11").configure(
                "--name=inspect\nlibrary=" + LIBRARY + "\nslotListIndex=0\n");
        KeyStore ks = KeyStore.getInstance("PKCS11", provider);
        ks.load(null, PIN.toCharArray());

        Key key = ks.getKey("h2", null);

        assertThat(key).isNotNull();
        assertThat(key.getEncoded()).as("a sensitive, non-extractable token key shows no bytes").isNull();
    }

    @Test
    void wrongPinIsATemporaryErrorAndUnhealthy() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(config("0000"), dir, clock)) {
            assertThat(vault.health().healthy()).isFalse();
            assertThatThrownBy(() -> vault.importKey("h3", "partner-d", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY))
                    .hasCauseInstanceOf(KeyUnavailableException.class);
        }
    }

    @Test
    void missingLibraryIsNamedAtStartUp() {
        Properties p = config(PIN);
        p.setProperty("pkcs11.library", "/nonexistent/libpkcs11.so");

        assertThatThrownBy(() -> TestVaults.open(p, dir, clock))
                .isInstanceOf(VaultConfigException.class).hasMessageStartingWith("pkcs11.library:");
    }
}
