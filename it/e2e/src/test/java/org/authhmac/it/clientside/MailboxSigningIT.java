package org.authhmac.it.clientside;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.KeyCli;
import org.authhmac.testing.james.SecretsLedger;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.tpm.SwtpmProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Mailbox signatures for mail clients on a real James 3.8.1 (javax drop-in jar + the WebAdmin route jar, james-conf/receiving as shipped, the vault
 * on swtpm when installed): per-mailbox keys issued through the JWT-protected WebAdmin route, SignForMailbox at local
 * delivery, and the shaded CLI's imap-guard over real IMAP.
 */
class MailboxSigningIT {
    static final String DOMAIN = "b.example";
    static final String ALICE = "alice@b.example";
    static final String BOB = "bob@b.example";
    static final String CAROL = "carol@b.example";
    /** Gets her key just before the TPM outage, so no period key of hers is in the vault's cache. */
    static final String DORA = "dora@b.example";
    static final String PASSWORD = "user-secret";

    static Path root;
    static SwtpmProcess tpm;
    static JamesServerProcess james;
    static KeyPair adminJwtKeys;
    static final HttpClient http = HttpClient.newHttpClient();
    static Path aliceKey;
    static Path bobKey;
    static Path passwordFile;

    @BeforeAll
    static void startJames() throws Exception {
        root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "clientside-" + ProcessHandle.current().pid()).toAbsolutePath();
        deleteRecursively(root);
        Files.createDirectories(root);
        Map<String, String> vault = new LinkedHashMap<>();
        if (SwtpmProcess.installed()) {
            tpm = new SwtpmProcess(root.resolve("tpm")).start();
            vault.put("vault.backend", "tpm");
            vault.put("tpm.device", "tcp");
            vault.put("tpm.host", "127.0.0.1");
            vault.put("tpm.port", Integer.toString(tpm.port()));
        } else {
            vault.put("vault.backend", "pkcs12");
            vault.put("pkcs12.file", "auth-hmac-keys.p12");
            vault.put("pkcs12.password", "test-only-not-a-secret");
        }
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        adminJwtKeys = g.generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(adminJwtKeys.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        JamesServerProcess.Builder builder = JamesServerProcess.builder("b", root.resolve("james-b"))
                .baseConf().confLayer(JamesRuntime.repoPath("james-conf/receiving"))
                .properties("auth-hmac.properties", vault)
                .confFile("jwt_publickey", pem)
                // docs/CLIENTS.md: the route is registered as James extensions are, and WebAdmin requires an admin JWT
                .properties("webadmin.properties", Map.of(
                        "extensions.routes", "org.authhmac.webadmin.MailboxKeyRoutes",
                        "jwt.enabled", "true",
                        "jwt.publickeypem.url", "file://conf/jwt_publickey"))
                .extensionJar(JamesRuntime.javaxBundleJar());
        if (!bundleHasRoute(JamesRuntime.javaxBundleJar())) {
            // an older bundle without auth-hmac-webadmin: add the route's own jar
            builder.extensionJar(webAdminJar());
        }
        james = builder.build();
        james.prepare();
        // the partner key the shipped receiving configuration verifies a.example with
        AuthHmacPair.generatePartnerKey(james);
        james.launch();
        james.awaitHealthy(Duration.ofSeconds(120));
        assertThat(admin("PUT", "/domains/" + DOMAIN, null).statusCode()).isEqualTo(204);
        for (String user : List.of(ALICE, BOB, CAROL, DORA)) {
            assertThat(admin("PUT", "/users/" + user, "{\"password\":\"" + PASSWORD + "\"}").statusCode()).isEqualTo(204);
        }
        aliceKey = issueKey(ALICE);
        bobKey = issueKey(BOB);
        passwordFile = root.resolve("imap-password");
        Files.writeString(passwordFile, PASSWORD);
    }

    @AfterAll
    static void stop() {
        if (james != null) {
            james.stop();
        }
        if (tpm != null) {
            tpm.close();
        }
    }


    static void deleteRecursively(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static boolean bundleHasRoute(Path bundle) throws java.io.IOException {
        try (var jar = new java.util.zip.ZipFile(bundle.toFile())) {
            return jar.getEntry("org/authhmac/webadmin/MailboxKeyRoutes.class") != null;
        }
    }

    /** The route's jar, built by webadmin/, for bundles that predate it. Its classes use no javax/jakarta type. */
    static Path webAdminJar() {
        String jar = System.getProperty("authhmac.it.webadminJar");
        return jar != null ? Path.of(jar) : JamesRuntime.repoPath("webadmin/target/auth-hmac-webadmin-0.1.0-SNAPSHOT.jar");
    }

    static String adminToken() throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String claims = b64.encodeToString("{\"sub\":\"admin@b.example\",\"admin\":true}".getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(adminJwtKeys.getPrivate());
        s.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
        return header + "." + claims + "." + b64.encodeToString(s.sign());
    }

    static HttpResponse<String> call(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + james.ports().webAdmin() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return call(method, path, body, adminToken());
    }

    static Path issueKey(String user) throws Exception {
        HttpResponse<String> r = admin("PUT", "/auth-hmac/users/" + user + "/key", null);
        assertThat(r.statusCode()).as(r.body() + "\n" + james.logTail(40)).isEqualTo(201);
        Path file = root.resolve(user + ".key");
        Files.writeString(file, r.body());
        SecretsLedger.recordKeyFile("mailbox key of " + user, file);
        return file;
    }

    static KeyCli.Result guard(String user, Path key) {
        return KeyCli.fromSystemProperties().tryRun(root.resolve("no-vault-needed.properties"), "imap-guard",
                "--host", "127.0.0.1", "--port", Integer.toString(james.ports().imap()), "--security", "NONE",
                "--login", user, "--password-file", passwordFile.toString(), "--key", key.toString(),
                // acts from the first run (without --apply, a first run is a dry run); its state file stays in the work dir
                "--apply", "--state", root.resolve("guard-" + user + ".state").toString());
    }

    static Store store(String user) throws Exception {
        Properties p = new Properties();
        p.setProperty("mail.imap.peek", "true");
        Store s = Session.getInstance(p).getStore("imap");
        s.connect("127.0.0.1", james.ports().imap(), user, PASSWORD);
        return s;
    }

    static void append(String user, byte[] raw) throws Exception {
        try (Store s = store(user)) {
            s.getFolder("INBOX").appendMessages(new Message[] {
                    new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(raw))});
        }
    }

    static List<String> messageIds(String user, String folder) throws Exception {
        try (Store s = store(user)) {
            Folder f = s.getFolder(folder);
            List<String> ids = new ArrayList<>();
            if (!f.exists()) {
                return ids;
            }
            f.open(Folder.READ_ONLY);
            for (Message m : f.getMessages()) {
                String[] h = m.getHeader("Message-ID");
                ids.add(h == null ? "-" : h[0].trim());
            }
            f.close(false);
            return ids;
        }
    }

    static ImapReader.Received delivered(String user, String messageId) {
        return new ImapReader(james.ports().imap(), user, PASSWORD).awaitMessageId(messageId, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError(messageId + " not delivered to " + user + "\n" + james.logTail(60)));
    }

    @Test
    void theKeyRouteRefusesAnUnauthenticatedCallerAndReturnsTheSecretOnlyOnce() throws Exception {
        HttpResponse<String> anonymous = call("PUT", "/auth-hmac/users/" + CAROL + "/key", null, null);
        HttpResponse<String> first = admin("PUT", "/auth-hmac/users/" + CAROL + "/key", null);
        HttpResponse<String> second = admin("PUT", "/auth-hmac/users/" + CAROL + "/key", null);

        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.body()).doesNotContain("secret");
        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(first.body()).contains("mailbox=" + CAROL, "secret=");
        assertThat(second.statusCode()).isEqualTo(409);
        assertThat(second.body()).doesNotContain("secret=");
    }

    @Test
    void oneMailToTwoLocalUsersCarriesADifferentHeaderForEachAndEachGuardPassesItsOwnCopy() throws Exception {
        // given a mail from outside to alice and bob
        String id = UUID.randomUUID() + "@c.example";
        SmtpSender.mta(james.ports().smtp()).send("dave@c.example", List.of(ALICE, BOB),
                SmtpSender.message("dave@c.example", ALICE + ", " + BOB, "lunch", id, "At noon?\n"));

        // then each stored copy carries only its own mailbox signature
        ImapReader.Received alices = delivered(ALICE, "<" + id + ">");
        ImapReader.Received bobs = delivered(BOB, "<" + id + ">");
        assertThat(alices.header("X-Auth-HMAC")).singleElement().asString().contains("r=" + ALICE).doesNotContain("r=" + BOB);
        assertThat(bobs.header("X-Auth-HMAC")).singleElement().asString().contains("r=" + BOB).doesNotContain("r=" + ALICE);

        // and each user's guard passes its own copy and leaves it in INBOX
        KeyCli.Result aliceGuard = guard(ALICE, aliceKey);
        KeyCli.Result bobGuard = guard(BOB, bobKey);
        assertThat(aliceGuard.exitCode()).as(aliceGuard.output()).isEqualTo(0);
        assertThat(aliceGuard.output()).contains("message-id=<" + id + "> status=sender-unverified signature=pass reason=verified action=kept");
        assertThat(bobGuard.output()).contains("message-id=<" + id + "> status=sender-unverified signature=pass reason=verified action=kept");
        assertThat(messageIds(ALICE, "INBOX")).contains("<" + id + ">");
        assertThat(messageIds(BOB, "INBOX")).contains("<" + id + ">");
    }

    @Test
    void aMessageAppendedStraightIntoTheMailboxIsMovedToQuarantine() throws Exception {
        String id = UUID.randomUUID() + "@c.example";
        append(ALICE, SmtpSender.message("ceo@b.example", ALICE, "urgent transfer", id, "Pay now.\n").getBytes(StandardCharsets.UTF_8));

        KeyCli.Result r = guard(ALICE, aliceKey);

        assertThat(r.exitCode()).as(r.output()).isEqualTo(0);
        assertThat(r.output()).contains("message-id=<" + id + "> status=no-valid-signature signature=none reason=no-signature action=moved to Quarantine");
        assertThat(messageIds(ALICE, "INBOX")).doesNotContain("<" + id + ">");
        assertThat(messageIds(ALICE, "Quarantine")).contains("<" + id + ">");
    }

    @Test
    void aMessageSignedForAliceCopiedIntoBobsMailboxFailsAsWrongRecipient() throws Exception {
        String id = UUID.randomUUID() + "@c.example";
        SmtpSender.mta(james.ports().smtp()).send("dave@c.example", List.of(ALICE),
                SmtpSender.message("dave@c.example", ALICE, "for alice only", id, "Private.\n"));
        ImapReader.Received alices = delivered(ALICE, "<" + id + ">");

        append(BOB, alices.raw().getBytes(StandardCharsets.UTF_8));
        KeyCli.Result r = guard(BOB, bobKey);

        assertThat(r.exitCode()).as(r.output()).isEqualTo(0);
        assertThat(r.output()).contains("message-id=<" + id + "> status=no-valid-signature signature=fail reason=wrong-recipient action=moved to Quarantine");
        assertThat(messageIds(BOB, "Quarantine")).contains("<" + id + ">");
        assertThat(messageIds(BOB, "INBOX")).doesNotContain("<" + id + ">");
    }

    @Test
    void aWatchingGuardQuarantinesAForgeryWhenItArrives() throws Exception {
        // given alice's guard keeps running (IMAP IDLE on James)
        Path log = root.resolve("guard-watch.log");
        Process guard = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JamesRuntime.cliJar().toString(), "imap-guard", "--host", "127.0.0.1",
                "--port", Integer.toString(james.ports().imap()), "--security", "NONE", "--login", ALICE,
                "--password-file", passwordFile.toString(), "--key", aliceKey.toString(), "--watch",
                "--apply", "--state", root.resolve("guard-watch-" + ALICE + ".state").toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            awaitFile(log, "guarding INBOX", Duration.ofSeconds(30));
            Thread.sleep(2000); // let the first round finish and IDLE start
            // when a forgery is appended while it waits
            String id = UUID.randomUUID() + "@c.example";
            append(ALICE, SmtpSender.message("ceo@b.example", ALICE, "while you watch", id, "Pay now.\n").getBytes(StandardCharsets.UTF_8));

            // then it is moved without another run
            awaitFile(log, "message-id=<" + id + "> status=no-valid-signature signature=none reason=no-signature action=moved to Quarantine", Duration.ofSeconds(30));
            assertThat(messageIds(ALICE, "Quarantine")).contains("<" + id + ">");
            assertThat(guard.isAlive()).as("still watching").isTrue();
        } finally {
            guard.destroy();
            if (!guard.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                guard.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
    }

    static void awaitFile(Path file, String text, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (!(Files.exists(file) && Files.readString(file).contains(text))) {
            if (System.nanoTime() > end) {
                throw new AssertionError("no '" + text + "' within " + timeout + " in " + file + ":\n"
                        + (Files.exists(file) ? Files.readString(file) : "(no output)"));
            }
            Thread.sleep(200);
        }
    }

    @Test
    void whileTheTpmIsDownMailForAMailboxWithAKeyWaitsAndArrivesSignedAfterwards() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(tpm != null, "needs swtpm");
        // given dora's key was issued (stored in the TPM) but never used: no period key of hers is cached
        Path doraKey = issueKey(DORA);
        String id = UUID.randomUUID() + "@c.example";
        tpm.kill();
        try {
            SmtpSender.mta(james.ports().smtp()).send("dave@c.example", List.of(DORA),
                    SmtpSender.message("dave@c.example", DORA, "during the outage", id, "Signed later.\n"));

            // then nothing is delivered unsigned while her key cannot be used
            Thread.sleep(8000);
            assertThat(new ImapReader(james.ports().imap(), DORA, PASSWORD).findByMessageId("<" + id + ">")).isEmpty();
        } finally {
            tpm.start();
        }
        // and once the TPM is back the mail arrives, signed for her
        ImapReader.Received mail = new ImapReader(james.ports().imap(), DORA, PASSWORD)
                .awaitMessageId("<" + id + ">", Duration.ofSeconds(90))
                .orElseThrow(() -> new AssertionError("not delivered after the TPM came back\n" + james.logTail(60)));
        assertThat(mail.header("X-Auth-HMAC")).singleElement().asString().contains("r=" + DORA);
        KeyCli.Result r = guard(DORA, doraKey);
        assertThat(r.output()).contains("message-id=<" + id + "> status=sender-unverified signature=pass");
    }
}
