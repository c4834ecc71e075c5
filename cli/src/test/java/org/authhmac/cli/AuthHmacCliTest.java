package org.authhmac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.protocol.KdfContext;
import org.authhmac.testing.tpm.Swtpm;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;
import org.authhmac.vault.ManagedKeyVault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The auth-hmac command line, run in-process against real swtpm emulators and a PKCS#12 vault. */
class AuthHmacCliTest {
    @TempDir
    Path dir;

    /** One command's exit status and what it printed. */
    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = AuthHmacCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private Path tpmConfig(String server, Swtpm swtpm) throws Exception {
        Path conf = Files.createDirectories(dir.resolve(server).resolve("conf")).resolve("auth-hmac.properties");
        Files.writeString(conf, "vault.backend=tpm\ntpm.device=tcp\ntpm.host=" + swtpm.host() + "\ntpm.port=" + swtpm.port()
                + "\ntpm.timeoutMillis=2000\n");
        return conf;
    }

    private Path pkcs12Config() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("p12").resolve("conf")).resolve("auth-hmac.properties");
        Files.writeString(conf, "vault.backend=pkcs12\npkcs12.file=keys.p12\npkcs12.password=pw\n");
        return conf;
    }

    private static String secretOf(Path export) throws Exception {
        Matcher m = Pattern.compile("(?m)^secret=(\\S+)$").matcher(Files.readString(export));
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    @Test
    void generatedKeyExportedToThePeerDerivesTheSamePeriodKeysInBothTpms() throws Exception {
        try (Swtpm tpmA = Swtpm.start(); Swtpm tpmB = Swtpm.start()) {
            Path confA = tpmConfig("a", tpmA);
            Path confB = tpmConfig("b", tpmB);
            Path export = dir.resolve("k1.key");

            Run generated = run("-c", confA.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--export", export.toString());
            Run imported = run("-c", confB.toString(), "keys", "import", "--keyset", "partner-a", "--from", export.toString());

            assertThat(generated.exit()).as(generated.err()).isZero();
            assertThat(imported.exit()).as(imported.err()).isZero();
            assertThat(generated.out()).contains("PRIMARY k1 in keyset partner-b (tpm backend)");
            assertThat(imported.out()).contains("PRIMARY k1 in keyset partner-a", "destroy");
            assertThat(Files.getPosixFilePermissions(export)).extracting(Object::toString).containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
            KdfContext ctx = new KdfContext("k1", "a.example", 900, KdfContext.periodOf(Instant.now().getEpochSecond(), 900));
            byte[] keyA;
            byte[] keyB;
            try (ManagedKeyVault a = KeyVaults.openManaged(confA)) {
                keyA = a.periodKey(ctx).exportBytesForTestVectors();
            }
            try (ManagedKeyVault b = KeyVaults.openManaged(confB)) {
                keyB = b.periodKey(ctx).exportBytesForTestVectors();
            }
            assertThat(keyA).isEqualTo(keyB);
        }
    }

    @Test
    void generateNeverOverwritesAnExistingExportAndStoresNothingThen() throws Exception {
        Path conf = pkcs12Config();
        Path export = dir.resolve("k1.key");
        Files.writeString(export, "an earlier export, not yet carried to the peer");

        Run r = run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--export", export.toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("already exists");
        assertThat(Files.readString(export)).isEqualTo("an earlier export, not yet carried to the peer");
        assertThat(run("-c", conf.toString(), "keys", "list").out()).doesNotContain("k1");
    }

    @Test
    void generateNeedsExactlyOneDestinationForTheSecret() throws Exception {
        Path conf = pkcs12Config();

        Run none = run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1");
        Run both = run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--print", "--export", "x");

        assertThat(none.exit()).isEqualTo(2);
        assertThat(both.exit()).isEqualTo(2);
        assertThat(none.err()).contains("--export", "--print");
    }

    @Test
    void listShowsIdsStatusesAndBackendButNeverKeyBytes() throws Exception {
        Path conf = pkcs12Config();
        Path export = dir.resolve("k1.key");
        run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--export", export.toString());

        Run list = run("-c", conf.toString(), "keys", "list");

        assertThat(list.exit()).isZero();
        assertThat(list.out()).containsPattern("k1\\s+partner-b\\s+PRIMARY\\s+\\S+Z\\s+pkcs12\\s+" + FINGERPRINT)
                .doesNotContain(secretOf(export));
    }

    private static final String FINGERPRINT = "[0-9a-f]{4}(-[0-9a-f]{4}){7}";

    private static String fingerprintOf(String keyId, Run list) {
        Matcher m = Pattern.compile("(?m)^" + keyId + "\\s.*\\s(" + FINGERPRINT + ")$").matcher(list.out());
        assertThat(m.find()).as(list.out()).isTrue();
        return m.group(1);
    }

    @Test
    void listShowsTheSameFingerprintOnTwoNodesHoldingThePrimaryInTheirOwnTpmsAndNoSecretBytes() throws Exception {
        try (Swtpm tpm1 = Swtpm.start(); Swtpm tpm2 = Swtpm.start()) {
            Path node1 = tpmConfig("node1", tpm1);
            Path node2 = tpmConfig("node2", tpm2);
            Path other = pkcs12Config();
            Path export = dir.resolve("k1.key");
            run("-c", node1.toString(), "keys", "generate", "--keyset", "a-b", "--key-id", "k1", "--export", export.toString());
            run("-c", node2.toString(), "keys", "import", "--keyset", "a-b", "--from", export.toString());
            run("-c", other.toString(), "keys", "generate", "--keyset", "a-b", "--key-id", "k1", "--print");
            String secret = secretOf(export);
            byte[] primary = java.util.Base64.getUrlDecoder().decode(secret);

            Run list1 = run("-c", node1.toString(), "keys", "list");
            Run list2 = run("-c", node2.toString(), "keys", "list");
            Run listOther = run("-c", other.toString(), "keys", "list");

            assertThat(list1.exit()).as(list1.err()).isZero();
            assertThat(list2.exit()).as(list2.err()).isZero();
            assertThat(list1.out()).contains("FINGERPRINT");
            assertThat(fingerprintOf("k1", list1)).isEqualTo(fingerprintOf("k1", list2))
                    .isEqualTo(org.authhmac.protocol.KeyFingerprint.of(primary).grouped())
                    .isNotEqualTo(fingerprintOf("k1", listOther));
            String hex = java.util.HexFormat.of().formatHex(primary);
            for (Run list : List.of(list1, list2)) {
                assertThat(list.out() + list.err()).doesNotContain(secret).doesNotContain(hex)
                        .doesNotContain(java.util.Base64.getEncoder().encodeToString(primary))
                        .doesNotContain(hex.substring(0, 16));
            }
        }
    }

    @Test
    void listStillShowsTheKeysWhenTheTpmIsDownButNoFingerprintAndExitsOne() throws Exception {
        try (Swtpm tpm = Swtpm.start()) {
            Path conf = tpmConfig("a", tpm);
            run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--print");
            tpm.kill();

            Run list = run("-c", conf.toString(), "keys", "list");

            assertThat(list.exit()).isEqualTo(1);
            assertThat(list.out()).containsPattern("k1\\s+partner-b\\s+PRIMARY\\s+\\S+Z\\s+tpm\\s+unavailable");
            assertThat(list.err()).contains("k1: no fingerprint");
        }
    }

    @Test
    void rotationAddsActivePromotesThenRetiresAndRefusesToRetireThePrimary() throws Exception {
        Path conf = pkcs12Config();
        String c = conf.toString();
        run("-c", c, "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--export", dir.resolve("k1.key").toString());

        Run add = run("-c", c, "keys", "rotate", "add", "--keyset", "partner-b", "--key-id", "k2", "--export", dir.resolve("k2.key").toString());
        assertThat(add.exit()).as(add.err()).isZero();
        assertThat(add.out()).contains("ACTIVE k2", "rotate promote --key-id k2");
        Run retirePrimary = run("-c", c, "keys", "rotate", "retire", "--key-id", "k1");
        assertThat(retirePrimary.exit()).isEqualTo(1);
        assertThat(retirePrimary.err()).contains("promote another key first");

        assertThat(run("-c", c, "keys", "rotate", "promote", "--key-id", "k2").exit()).isZero();
        assertThat(run("-c", c, "keys", "rotate", "retire", "--key-id", "k1").exit()).isZero();

        try (ManagedKeyVault vault = KeyVaults.openManaged(conf)) {
            assertThat(vault.keys()).extracting(KeyInfo::keyId, KeyInfo::status)
                    .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("k1", KeyStatus.RETIRED),
                            org.assertj.core.groups.Tuple.tuple("k2", KeyStatus.PRIMARY));
            assertThat(vault.primaryKeyId("partner-b")).isEqualTo("k2");
        }
    }

    @Test
    void secondKeyOfAKeysetStartsActiveSoThePeerCanImportItBeforeItSigns() throws Exception {
        Path conf = pkcs12Config();
        run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--print");

        Run second = run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k2", "--print");

        assertThat(second.out()).contains("secret=").doesNotContain("ACTIVE k2");
        assertThat(second.err()).contains("ACTIVE k2 in keyset partner-b");
    }

    @Test
    void checkSucceedsWithTheTpmUpAndFailsWithExitOneWhenItIsDown() throws Exception {
        try (Swtpm tpm = Swtpm.start()) {
            Path conf = tpmConfig("a", tpm);
            run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--print");

            Run up = run("-c", conf.toString(), "keys", "check");
            tpm.kill();
            Run down = run("-c", conf.toString(), "keys", "check");

            assertThat(up.exit()).as(up.out()).isZero();
            assertThat(up.out()).contains("reachable", "k1 PRIMARY: two derivations match", "OK");
            assertThat(down.exit()).isEqualTo(1);
            assertThat(down.out()).contains("UNREACHABLE", "FAILED");
        }
    }

    @Test
    void printedExportCanBePipedStraightIntoThePeersImport() throws Exception {
        Path conf = pkcs12Config();
        Path peer = Files.createDirectories(dir.resolve("peer")).resolve("auth-hmac.properties");
        Files.writeString(peer, "vault.backend=pkcs12\npkcs12.file=peer.p12\npkcs12.password=pw2\n");
        Run printed = run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--print");

        java.io.InputStream stdin = System.in;
        Run imported;
        try {
            System.setIn(new java.io.ByteArrayInputStream(printed.out().getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            imported = run("-c", peer.toString(), "keys", "import", "--keyset", "partner-a", "--from", "-");
        } finally {
            System.setIn(stdin);
        }

        assertThat(imported.exit()).as(imported.err()).isZero();
        KdfContext ctx = new KdfContext("k1", "a.example", 900, 5);
        try (ManagedKeyVault a = KeyVaults.openManaged(conf); ManagedKeyVault b = KeyVaults.openManaged(peer)) {
            assertThat(a.periodKey(ctx).exportBytesForTestVectors()).isEqualTo(b.periodKey(ctx).exportBytesForTestVectors());
        }
    }

    @Test
    void importRejectsSomethingThatIsNotAKeyExport() throws Exception {
        Path conf = pkcs12Config();
        Path bogus = dir.resolve("bogus.key");
        Files.writeString(bogus, "version=1\nkey-id=k1\nsecret=c2hvcnQ\n");

        Run r = run("-c", conf.toString(), "keys", "import", "--keyset", "partner-a", "--from", bogus.toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("secret must be 128..512 bits");
    }

    @Test
    void importRejectsAnExportWhoseCreatedIsNoInstantWithAMessageAndNoStackTrace() throws Exception {
        Path conf = pkcs12Config();
        Path bad = dir.resolve("bad-created.key");
        Files.writeString(bad, "version=1\nkey-id=k1\ncreated=yesterday\nsecret=" + "A".repeat(43) + "=\n");

        Run r = run("-c", conf.toString(), "keys", "import", "--keyset", "partner-a", "--from", bad.toString());

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("created is not an instant").doesNotContain("DateTimeParseException");
    }

    @Test
    void badConfigurationExitsWithTwoNamingTheProperty() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("bad")).resolve("auth-hmac.properties");
        Files.writeString(conf, "vault.backend=tpm\ntpm.device=tcp\ntpm.port=not-a-port\n");

        Run r = run("-c", conf.toString(), "keys", "list");
        Run missing = run("-c", dir.resolve("nope.properties").toString(), "keys", "list");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("tpm.port: must be an integer");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("--config", "does not exist");
    }
}
