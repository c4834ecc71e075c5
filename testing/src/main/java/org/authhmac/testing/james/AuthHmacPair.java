package org.authhmac.testing.james;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.authhmac.testing.tpm.SwtpmProcess;

/**
 * Two James servers: A (a.example) signs what alice sends to b.example, B (b.example) verifies and quarantines.
 * Each has its own swtpm (or, without swtpm, its own PKCS#12 file), and the same partner key provisioned in both
 * through the CLI: generated in A's vault, exported once, imported into B's.
 */
public final class AuthHmacPair implements AutoCloseable {
    public static final String A_DOMAIN = "a.example";
    public static final String B_DOMAIN = "b.example";
    public static final String ALICE = "alice@a.example";
    public static final String ALICE_PASSWORD = "alice-secret";
    public static final String BOB = "bob@b.example";
    public static final String BOB_PASSWORD = "bob-secret";
    public static final String POSTMASTER_PASSWORD = "postmaster-secret";
    /** The partner relationship A-B: one keyset name on both sides. */
    public static final String KEYSET = "a-b";
    public static final String FIRST_KEY_ID = "k1";

    /** Where each server's key lives. */
    public enum VaultKind { TPM, PKCS12 }

    /** The configuration layers (on top of the harness's loopback base) for the sending and the receiving server. */
    public record Layout(Path sendingConf, Path receivingConf) {
    }

    private final Path root;
    private final VaultKind vaultKind;
    private final SwtpmProcess tpmA;
    private final SwtpmProcess tpmB;
    private final JamesServerProcess a;
    private final JamesServerProcess b;
    private final KeyCli cli;

    private AuthHmacPair(Path root, VaultKind vaultKind, SwtpmProcess tpmA, SwtpmProcess tpmB,
                         JamesServerProcess a, JamesServerProcess b, KeyCli cli) {
        this.root = root;
        this.vaultKind = vaultKind;
        this.tpmA = tpmA;
        this.tpmB = tpmB;
        this.a = a;
        this.b = b;
        this.cli = cli;
    }

    public static AuthHmacPair start(Path root, Layout layout, VaultKind vaultKind) {
        return start(root, layout, vaultKind, builder -> { }, builder -> { }, p -> p);
    }

    /** Prepares, provisions and boots both servers; on any failure everything started so far is stopped. */
    public static AuthHmacPair start(Path root, Layout layout, VaultKind vaultKind,
                                     Consumer<JamesServerProcess.Builder> tweakA, Consumer<JamesServerProcess.Builder> tweakB,
                                     java.util.function.IntUnaryOperator gatewayOfA) {
        Path abs = root.toAbsolutePath();
        SwtpmProcess tpmA = null;
        SwtpmProcess tpmB = null;
        JamesServerProcess a = null;
        JamesServerProcess b = null;
        try {
            JamesServerProcess.deleteRecursively(abs);
            if (vaultKind == VaultKind.TPM) {
                tpmA = new SwtpmProcess(abs.resolve("tpm-a")).start();
                tpmB = new SwtpmProcess(abs.resolve("tpm-b")).start();
            }
            JamesServerProcess.Builder ba = JamesServerProcess.builder("a", abs.resolve("james-a"))
                    .baseConf().confLayer(layout.sendingConf())
                    .properties("auth-hmac.properties", vaultProperties(vaultKind, tpmA));
            JamesServerProcess.Builder bb = JamesServerProcess.builder("b", abs.resolve("james-b"))
                    .baseConf().confLayer(layout.receivingConf())
                    .properties("auth-hmac.properties", vaultProperties(vaultKind, tpmB));
            tweakA.accept(ba);
            tweakB.accept(bb);
            a = ba.build();
            b = bb.build();
            // gatewayOfA maps B's SMTP port to the port A relays to: B itself, or a relay in front of B
            a.gatewayTo(gatewayOfA.applyAsInt(b.ports().smtp())).prepare();
            b.gatewayTo(a.ports().smtp()).prepare();

            KeyCli cli = KeyCli.fromSystemProperties();
            Path export = abs.resolve("a-b-" + FIRST_KEY_ID + ".secret");
            cli.run(authHmacConfig(a), "keys", "generate", "--keyset", KEYSET, "--key-id", FIRST_KEY_ID, "--export", export.toString());
            cli.run(authHmacConfig(b), "keys", "import", "--from", export.toString(), "--keyset", KEYSET);
            // The test keeps the secret (scenario 4 signs with a clock two periods back); an operator shreds the file.
            byte[] secret = exportedSecret(export);
            java.nio.file.Files.deleteIfExists(export);

            a.launch();
            b.launch();
            a.awaitHealthy(Duration.ofSeconds(120));
            b.awaitHealthy(Duration.ofSeconds(120));
            a.webAdmin().addDomain(A_DOMAIN);
            a.webAdmin().addUser(ALICE, ALICE_PASSWORD);
            b.webAdmin().addDomain(B_DOMAIN);
            b.webAdmin().addUser(BOB, BOB_PASSWORD);
            // notices about held mail also go to the postmaster (james-conf: notifyPostmaster)
            a.webAdmin().addUser("postmaster@" + A_DOMAIN, POSTMASTER_PASSWORD);
            b.webAdmin().addUser("postmaster@" + B_DOMAIN, POSTMASTER_PASSWORD);
            AuthHmacPair pair = new AuthHmacPair(abs, vaultKind, tpmA, tpmB, a, b, cli);
            pair.partnerSecret = secret;
            return pair;
        } catch (RuntimeException | java.io.IOException e) {
            for (AutoCloseable c : new AutoCloseable[] {a, b, tpmA, tpmB}) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (Exception ignored) {
                    // keep the first failure
                }
            }
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
        }
    }

    private byte[] partnerSecret;

    /** The A-B key as exported by the CLI, for tests that must sign outside James (never logged). */
    public byte[] partnerSecretForTests() {
        return partnerSecret.clone();
    }

    private static byte[] exportedSecret(Path export) throws java.io.IOException {
        java.util.Properties p = new java.util.Properties();
        try (var in = java.nio.file.Files.newInputStream(export)) {
            p.load(in);
        }
        return java.util.Base64.getUrlDecoder().decode(p.getProperty("secret"));
    }

    /** The auth-hmac.properties lines of a vault of this kind: the TPM at {@code tpm}'s port, or a PKCS#12 file. */
    public static Map<String, String> vaultProperties(VaultKind kind, SwtpmProcess tpm) {
        Map<String, String> p = new LinkedHashMap<>();
        if (kind == VaultKind.TPM) {
            p.put("vault.backend", "tpm");
            p.put("tpm.device", "tcp");
            p.put("tpm.host", "127.0.0.1");
            p.put("tpm.port", Integer.toString(tpm.port()));
        } else {
            p.put("vault.backend", "pkcs12");
            p.put("pkcs12.file", "auth-hmac-keys.p12");
            // a demo-only password in clear; production uses pkcs12.passwordFile or, better, a TPM
            p.put("pkcs12.password", "demo-only-not-a-secret");
        }
        return p;
    }

    public static Path authHmacConfig(JamesServerProcess server) {
        return server.confDir().resolve("auth-hmac.properties");
    }

    /**
     * Generates the partner key of the shipped configuration (keyset {@value #KEYSET}, key {@value #FIRST_KEY_ID}) in
     * one prepared server's vault, for a server tested alone: without it the AuthHmacKeyVault health check is
     * unhealthy. The export the CLI must write is deleted at once.
     */
    public static void generatePartnerKey(JamesServerProcess server) throws java.io.IOException {
        Path export = server.workDir().resolveSibling(KEYSET + "-" + FIRST_KEY_ID + ".secret");
        KeyCli.fromSystemProperties().run(authHmacConfig(server), "keys", "generate", "--keyset", KEYSET, "--key-id", FIRST_KEY_ID,
                "--export", export.toString());
        java.nio.file.Files.delete(export);
    }

    public JamesServerProcess a() {
        return a;
    }

    public JamesServerProcess b() {
        return b;
    }

    /** A's TPM, or null with the PKCS#12 vault. */
    public SwtpmProcess tpmA() {
        return tpmA;
    }

    public SwtpmProcess tpmB() {
        return tpmB;
    }

    public VaultKind vaultKind() {
        return vaultKind;
    }

    public KeyCli cli() {
        return cli;
    }

    public Path root() {
        return root;
    }

    public SmtpSender aliceSubmission() {
        return SmtpSender.submission(a.ports().submission(), ALICE, ALICE_PASSWORD);
    }

    public ImapReader bobInbox() {
        return new ImapReader(b.ports().imap(), BOB, BOB_PASSWORD);
    }

    @Override
    public void close() {
        // both at once: a graceful James stop takes several seconds, mostly waiting for its listeners to close
        Thread stopA = Thread.ofPlatform().start(a::stop);
        b.stop();
        try {
            stopA.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            a.kill();
        }
        if (tpmA != null) {
            tpmA.close();
        }
        if (tpmB != null) {
            tpmB.close();
        }
    }
}
