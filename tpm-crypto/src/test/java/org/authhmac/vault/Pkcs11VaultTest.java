package org.authhmac.vault;

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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.testing.MutableClock;
import org.authhmac.vault.pkcs11.Pkcs11Backend;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PKCS#11 backend against a real SoftHSM2 token (SunPKCS11). The token lives where SOFTHSM2_CONF says: under
 * target/softhsm2 (surefire), or a directory of each PIT worker's own (scripts/pit-java). It is created once per
 * JVM, before the JVM first loads the library: SoftHSM2 does not see a token made after that. A JVM may run this
 * class more than once (PIT runs it for every mutant), so every run uses key ids of its own.
 */
class Pkcs11VaultTest {
    static final String LIBRARY = "/usr/lib/softhsm/libsofthsm2.so";
    static final String PIN = "1234";
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static boolean tokenCreated;
    /** The token the tests use, and one nobody logs in to: a PKCS#11 login holds for the whole process once made. */
    private static long slot;
    private static long neverLoggedInSlot;
    private final String run = "r" + RUNS.incrementAndGet() + "-";
    private final KdfContext ctx = new KdfContext(run + "h1", "a.example", 900, 2_000_000);

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:00Z"));

    @BeforeAll
    static synchronized void createToken() throws Exception {
        if (tokenCreated) {
            return;
        }
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
        slot = initToken("authhmac");
        neverLoggedInSlot = initToken("authhmac-never-logged-in");
        tokenCreated = true;
    }

    /** Initializes a token in the next free slot; returns the slot id SoftHSM2 reassigns it to. */
    private static long initToken(String label) throws Exception {
        Process p = new ProcessBuilder(List.of("softhsm2-util", "--init-token", "--free", "--label", label,
                "--pin", PIN, "--so-pin", "5678")).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.exitValue()).as(out).isZero();
        Matcher m = Pattern.compile("reassigned to slot (\\d+)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static Properties config(String pin) {
        return config(slot, pin);
    }

    private static Properties config(long slotId, String pin) {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs11");
        p.setProperty("pkcs11.library", LIBRARY);
        p.setProperty("pkcs11.slot", Long.toString(slotId));
        p.setProperty("pkcs11.pin", pin);
        return p;
    }

    @Test
    void tokenComputesTheSoftwareKdfAndKeepsTheKeyAcrossRestarts() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(config(PIN), dir, clock)) {
            vault.importKey(run + "h1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            assertThat(vault.periodKey(ctx).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, ctx));
        }
        try (DefaultKeyVault vault = TestVaults.open(config(PIN), dir, clock)) {
            assertThat(vault.periodKey(ctx).exportBytesForTestVectors()).isEqualTo(Kdf.derive(TestVaults.PRIMARY, ctx));
            assertThat(vault.keys()).singleElement().extracting(KeyInfo::backend).isEqualTo("pkcs11");
            assertThat(vault.health().healthy()).isTrue();
        }
    }

    @Test
    void tokenComputesTheKeyFingerprintOfTheNonExtractableKey() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(config(PIN), dir, clock)) {
            vault.importKey(run + "h6", "partner-e", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);

            assertThat(vault.fingerprint(run + "h6")).isEqualTo(org.authhmac.protocol.KeyFingerprint.of(TestVaults.PRIMARY));
        }
    }

    @Test
    void keyOnTheTokenIsSensitiveAndCannotBeExtracted() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(config(PIN), dir, clock)) {
            vault.importKey(run + "h2", "partner-c", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
        }
        Provider provider = Security.getProvider("SunPKCS11").configure(
                "--name=inspect\nlibrary=" + LIBRARY + "\nslot=" + slot + "\n");
        KeyStore ks = KeyStore.getInstance("PKCS11", provider);
        ks.load(null, PIN.toCharArray());

        Key key = ks.getKey(run + "h2", null);

        assertThat(key).isNotNull();
        assertThat(key.getEncoded()).as("a sensitive, non-extractable token key shows no bytes").isNull();
    }

    @Test
    void wrongPinIsATemporaryErrorAndUnhealthy() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(config(neverLoggedInSlot, "0000"), dir, clock)) {
            assertThat(vault.health().healthy()).isFalse();
            assertThatThrownBy(() -> vault.importKey(run + "h3", "partner-d", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY))
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

    @Test
    void theBackendCountsEveryTokenOperation() throws Exception {
        byte[] data = {1, 2, 3};
        Pkcs11Backend backend = new Pkcs11Backend(Path.of(LIBRARY), "slot = " + slot, PIN.toCharArray());
        backend.store(run + "h5", TestVaults.PRIMARY.clone());
        byte[] mac = backend.hmacSha256(run + "h5", run + "h5", data);

        assertThat(backend.operationCount()).as("one store, one HMAC").isEqualTo(2);
        assertThat(mac).hasSize(32);
        backend.close();
    }
}
