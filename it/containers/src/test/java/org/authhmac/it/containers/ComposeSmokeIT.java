package org.authhmac.it.containers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.testing.FreePorts;
import org.authhmac.testing.james.Defanged;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.RawSmtpClient;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * bundle/docker/docker-compose.yml as docs/CONTAINERS.md runs it: two James (the James 3.8.1 image on OpenJDK 11 that
 * scripts/images builds, with the javax jar) and two swtpm containers, the partner key provisioned from the host with
 * bin/auth-hmac through each TPM's published port, then mail through the published 127.0.0.1 ports only.
 */
class ComposeSmokeIT {
    /** scripts/images's James 3.8.1 on OpenJDK 11; -Dauthhmac.it.jamesImage=apache/james:memory-3.8.1 where it can be pulled. */
    static final String JAMES_IMAGE = System.getProperty("authhmac.it.jamesImage", "localhost/auth-hmac/james:memory-3.8.1");
    static final String ALICE = "alice@a.example";
    static final String ALICE_PASSWORD = "alice-secret";
    static final String BOB = "bob@b.example";
    static final String BOB_PASSWORD = "bob-secret";
    /** As James names it (james-conf/receiving, AuthHmacQuarantine's repositoryPath). */
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    /** The processor a release goes to: after verification, so the mail is not checked again (OPERATIONS.md). */
    static final String RELEASE_PROCESSOR = "transport";

    private static final Path REPO = Path.of(System.getProperty("authhmac.it.repoRoot", "../..")).toAbsolutePath().normalize();
    private static final long TEST_START = System.nanoTime();
    private static volatile boolean failed;
    private static ComposeProject compose;
    private static Path work;
    private static Map<String, Integer> ports;

    @RegisterExtension
    static final TestWatcher FAILURES = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            failed = true;
        }
    };

    @BeforeAll
    static void upProvisionedAndHealthy() throws Exception {
        Path bundleJar = existing(System.getProperty("authhmac.it.bundleJar",
                REPO.resolve("bundle/target/auth-hmac-bundle-0.1.0-SNAPSHOT-javax.jar").toString()), "the javax drop-in jar (build bundle/)");
        existing(REPO.resolve("cli/target/auth-hmac-cli.jar").toString(), "the CLI jar (build cli/)");
        String dockerHost = ContainerTools.prepare(REPO);

        String project = "authhmac-smoke-" + UUID.randomUUID().toString().substring(0, 8);
        work = Path.of(System.getProperty("authhmac.it.workRoot", "target/compose-work")).toAbsolutePath().resolve(project);
        Files.createDirectories(work.resolve("keys-a"));
        Files.createDirectories(work.resolve("keys-b"));
        ports = new LinkedHashMap<>();
        for (String port : List.of("TPM_A_PORT", "TPM_B_PORT", "A_SUBMISSION_PORT", "A_SMTP_PORT", "A_IMAP_PORT",
                "A_WEBADMIN_PORT", "B_SMTP_PORT", "B_IMAP_PORT", "B_WEBADMIN_PORT")) {
            ports.put(port, FreePorts.next());
        }
        Map<String, String> variables = new LinkedHashMap<>();
        variables.put("JAMES_IMAGE", JAMES_IMAGE);
        variables.put("AUTH_HMAC_JAR", bundleJar.toString());
        variables.put("KEYS_A", work.resolve("keys-a").toString());
        variables.put("KEYS_B", work.resolve("keys-b").toString());
        variables.put("PAIR_NET", freePairNet());
        ports.forEach((k, v) -> variables.put(k, Integer.toString(v)));
        compose = new ComposeProject(REPO, REPO.resolve("bundle/docker/docker-compose.yml"), project, dockerHost, variables);
        System.out.printf("compose project %s, variables %s%n", project, variables);

        try {
            long t0 = System.nanoTime();
            compose.createAll();
            compose.start("tpm-a", "tpm-b");
            awaitListening(ports.get("TPM_A_PORT"));
            awaitListening(ports.get("TPM_B_PORT"));
            provisionPartnerKey();
            long tStart = System.nanoTime();
            compose.start("james-a", "james-b");
            awaitHealthy(webAdminA(), webAdminB());
            long tHealthy = System.nanoTime();
            System.out.printf("compose up (create, TPMs, key provisioning) to both James healthy: %d ms; James start to healthy: %d ms%n",
                    (tHealthy - t0) / 1_000_000, (tHealthy - tStart) / 1_000_000);

            webAdminA().addDomain("a.example");
            webAdminA().addUser(ALICE, ALICE_PASSWORD);
            webAdminB().addDomain("b.example");
            webAdminB().addUser(BOB, BOB_PASSWORD);
            // notices about held mail also go to the postmaster (james-conf/receiving: notifyPostmaster)
            webAdminB().addUser("postmaster@b.example", "postmaster-secret");
        } catch (Throwable t) {
            failed = true;
            downAndRecord();
            throw t;
        }
    }

    @AfterAll
    static void down() {
        if (compose != null) {
            downAndRecord();
        }
        System.out.printf("whole test (setup scripts, compose, mail, down): %d ms%n", (System.nanoTime() - TEST_START) / 1_000_000);
    }

    @Test
    void aliceSignedMailThroughAReachesBobOnBWithAuthHmacPass() {
        // given alice submits a mail to bob on A's published submission port
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.submission(ports.get("A_SUBMISSION_PORT"), ALICE, ALICE_PASSWORD).send(ALICE, List.of(BOB),
                SmtpSender.message(ALICE, BOB, "signed hello", id, "Hello Bob,\nsigned by A in its container.\n"));

        // then bob reads it over IMAP on B: A signed it with the TPM-held key, B verified it with its own TPM's copy
        ImapReader.Received mail = bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(90))
                .orElseThrow(() -> new AssertionError("not delivered to bob"));
        assertThat(mail.header("X-Auth-HMAC")).singleElement().asString()
                .contains("d=a.example").contains("s=k1").contains("r=b.example");
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("mx.b.example; auth-hmac=pass"));
        assertThat(mail.body()).contains("signed by A in its container.");
    }

    @Test
    void unsignedMailClaimingAStraightToBIsHeldAndBobGetsANoticeInstead() {
        // given a forger talks straight to B's published port 25 with alice's address and no signature
        String id = UUID.randomUUID() + "@a.example";
        RawSmtpClient.Reply reply = new RawSmtpClient(ports.get("B_SMTP_PORT")).send(ALICE, List.of(BOB),
                SmtpSender.message(ALICE, BOB, "forged invoice", id, "Please pay.\n").getBytes(StandardCharsets.UTF_8));
        assertThat(reply.accepted()).as("B accepts the mail at SMTP, then holds it: %s", reply).isTrue();

        // then B's quarantine holds it with verdict none (no-signature)
        JsonNode held = webAdminB().mail(QUARANTINE, awaitQuarantinedKey("<" + id + ">"));
        assertThat(WebAdminClient.attribute(held, "org.authhmac.result")).isEqualTo("none");
        assertThat(WebAdminClient.attribute(held, "org.authhmac.reason")).isEqualTo("no-signature");
        // and bob gets a notice, not the mail
        ImapReader.Received notice = bobInbox().awaitMatching(m -> m.body().contains(Defanged.of("<" + id + ">")), Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("no notice for bob"));
        assertThat(notice.header("Subject")).singleElement().asString().contains("held");
        assertThat(bobInbox().findByMessageId("<" + id + ">")).as("the forged mail itself").isEmpty();
    }

    @Test
    void heldMailReleasedThroughBsWebAdminReachesBobWithItsVerdict() {
        // given an unsigned mail held in B's quarantine
        String id = UUID.randomUUID() + "@a.example";
        new RawSmtpClient(ports.get("B_SMTP_PORT")).send(ALICE, List.of(BOB),
                SmtpSender.message(ALICE, BOB, "held then released", id, "legit after all\n").getBytes(StandardCharsets.UTF_8));
        String key = awaitQuarantinedKey("<" + id + ">");

        // when the admin releases it with the documented WebAdmin reprocess call on B's published WebAdmin port
        JsonNode task = webAdminB().reprocess(QUARANTINE, key, RELEASE_PROCESSOR);
        assertThat(task.path("status").asText()).isEqualTo("completed");

        // then bob reads it, with the verdict it was held for
        ImapReader.Received released = bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("released mail not delivered"));
        assertThat(released.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=none"));
        assertThat(webAdminB().mailKeys(QUARANTINE)).doesNotContain(key);
    }

    /** The key is generated in A's TPM and imported into B's, with the CLI on the host, as the compose file's header says. */
    private static void provisionPartnerKey() throws IOException {
        Path cliA = cliConfig("a", ports.get("TPM_A_PORT"));
        Path cliB = cliConfig("b", ports.get("TPM_B_PORT"));
        Path export = work.resolve("a-b-k1.secret");
        authHmac(cliA, "keys", "generate", "--keyset", "a-b", "--key-id", "k1", "--export", export.toString());
        authHmac(cliB, "keys", "import", "--keyset", "a-b", "--from", export.toString());
        Files.delete(export);
        assertThat(authHmac(cliB, "keys", "list")).contains("k1");
    }

    /** bundle/docker/cli-<x>.properties with this run's TPM port; its relative key folder is this run's keys-<x>. */
    private static Path cliConfig(String server, int tpmPort) throws IOException {
        String shipped = Files.readString(REPO.resolve("bundle/docker/cli-" + server + ".properties"));
        String config = shipped.replaceFirst("(?m)^tpm\\.port=.*$", "tpm.port=" + tpmPort);
        assertThat(config).as("cli-%s.properties names a TPM port", server).isNotEqualTo(shipped);
        Path file = work.resolve("cli-" + server + ".properties");
        Files.writeString(file, config);
        return file;
    }

    private static String authHmac(Path config, String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(REPO.resolve("bin/auth-hmac").toString(), "-c", config.toString()));
        command.addAll(List.of(args));
        ContainerTools.Output out = ContainerTools.run(REPO, Map.of(), Duration.ofMinutes(2), command.toArray(String[]::new));
        if (!out.ok()) {
            throw new IllegalStateException("auth-hmac " + String.join(" ", args) + " exited " + out.exitCode() + ":\n" + out.text());
        }
        return out.text();
    }

    private static void downAndRecord() {
        if (failed) {
            Path log = work.getParent().resolve(compose.name() + ".log");
            try {
                Files.writeString(log, compose.logs());
                System.out.println("container logs: " + log);
            } catch (IOException | RuntimeException e) {
                System.out.println("could not save the container logs: " + e);
            }
        }
        long t0 = System.nanoTime();
        ContainerTools.Output down = compose.down();
        System.out.printf("docker-compose down -v: exit %d in %d ms%n%s%n", down.exitCode(), (System.nanoTime() - t0) / 1_000_000, down.text());
        compose = null;
        if (!failed) {
            deleteRecursively(work);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a work folder left in target/ is harmless
        }
    }

    /** A 172.31.N.0/24 no existing container network uses, so that this project runs beside others. */
    private static String freePairNet() {
        String networks = ContainerTools.run(REPO, Map.of(), Duration.ofMinutes(1),
                "sh", "-c", "docker network inspect $(docker network ls -q)").text();
        Set<Integer> used = new HashSet<>();
        Matcher m = Pattern.compile("172\\.31\\.(\\d+)\\.").matcher(networks);
        while (m.find()) {
            used.add(Integer.parseInt(m.group(1)));
        }
        for (int tries = 0; tries < 200; tries++) {
            int octet = ThreadLocalRandom.current().nextInt(100, 250);
            if (!used.contains(octet)) {
                return "172.31." + octet;
            }
        }
        throw new IllegalStateException("no free 172.31.N.0/24 among the container networks:\n" + networks);
    }

    private static void awaitListening(int port) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new UncheckedIOException("nothing listens on 127.0.0.1:" + port + " after 60 s", e);
                }
                sleep(Duration.ofMillis(300));
            }
        }
    }

    /** Both WebAdmin /healthcheck answer 200: every check healthy, our AuthHmacKeyVault (the TPM) included. */
    private static void awaitHealthy(WebAdminClient... servers) {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        int polls = 0;
        for (WebAdminClient server : servers) {
            String last = "no answer";
            while (true) {
                try {
                    var r = server.healthcheck();
                    if (r.statusCode() == 200) {
                        assertThat(r.body()).contains("AuthHmacKeyVault");
                        break;
                    }
                    last = r.statusCode() + " " + r.body();
                } catch (RuntimeException e) {
                    last = e.toString();
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(server.base() + "/healthcheck not healthy after 5 min: " + last);
                }
                // James 3.8.1 keeps its JVM alive after a failed start, with WebAdmin never up: stop waiting at once
                if (++polls % 10 == 0 && compose.logs().contains("Fatal error while starting James")) {
                    throw new AssertionError("a James failed to start (its log is saved): " + server.base() + " " + last);
                }
                sleep(Duration.ofSeconds(1));
            }
        }
    }

    private static String awaitQuarantinedKey(String messageId) {
        WebAdminClient admin = webAdminB();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (String key : admin.mailKeys(QUARANTINE)) {
                if (admin.mail(QUARANTINE, key, "headers").path("headers").toString().contains(messageId)) {
                    return key;
                }
            }
            sleep(Duration.ofMillis(300));
        }
        throw new AssertionError("nothing in B's " + QUARANTINE + " with Message-ID " + messageId);
    }

    private static WebAdminClient webAdminA() {
        return new WebAdminClient(URI.create("http://127.0.0.1:" + ports.get("A_WEBADMIN_PORT")));
    }

    private static WebAdminClient webAdminB() {
        return new WebAdminClient(URI.create("http://127.0.0.1:" + ports.get("B_WEBADMIN_PORT")));
    }

    private static ImapReader bobInbox() {
        return new ImapReader(ports.get("B_IMAP_PORT"), BOB, BOB_PASSWORD);
    }

    private static Path existing(String path, String what) {
        Path p = Path.of(path).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(what + " is missing: " + p);
        }
        return p;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
