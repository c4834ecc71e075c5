package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.Defanged;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.SecretsLedger;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.authhmac.testing.tpm.SwtpmProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * scripts/demo's servers (DemoMain) as a user meets them: what the banner says to paste works, the quarantine notice
 * points at the demo's own WebAdmin, and the mailbox-key route the README lists answers. Step 5 runs as printed,
 * block by block, in one bash in a folder of its own ({@link PastedShell}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DemoIT {
    /** How long one pasted line may take: a CLI line starts a JVM on a loaded machine. */
    static final Duration PASTE_LIMIT = Duration.ofSeconds(120);

    static Path work;
    static boolean tpm;
    static AuthHmacPair pair;
    static String banner;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startTheDemo() {
        work = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "demo-" + ProcessHandle.current().pid()).toAbsolutePath();
        tpm = SwtpmProcess.installed();
        pair = DemoMain.start(work, tpm);
        banner = DemoMain.banner(pair, tpm, 0);
    }

    @AfterAll
    static void stop() {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    void theMailboxKeyRouteIssuesBobAKeyWithTheTokenTheBannerPointsTo() throws Exception {
        Path tokenFile = work.resolve("b-webadmin.jwt");
        HttpRequest.Builder put = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pair.b().ports().webAdmin()
                        + "/auth-hmac/users/" + AuthHmacPair.BOB + "/key"))
                .PUT(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(30));
        if (Files.exists(tokenFile)) {
            put.header("Authorization", "Bearer " + Files.readString(tokenFile).strip());
        }

        HttpResponse<String> r = http.send(put.build(), HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(r.body()).contains("mailbox=" + AuthHmacPair.BOB, "secret=");
        assertThat(banner).contains("B_JWT=$(cat " + tokenFile + ")",
                "curl -sS -XPUT -H \"Authorization: Bearer $B_JWT\" http://127.0.0.1:" + pair.b().ports().webAdmin()
                        + "/auth-hmac/users/" + AuthHmacPair.BOB + "/key > bob.key");

        // and the banner's guard command, run where bob.key was saved, checks his INBOX (a first run: a dry run)
        Path here = Files.createDirectories(work.resolve("user-shell"));
        Files.writeString(here.resolve("bob.key"), r.body());
        Matcher guard = Pattern.compile("AUTH_HMAC_IMAP_PASSWORD=(\\S+) (\\S+) (imap-guard .*)").matcher(banner);
        assertThat(guard.find()).as(banner).isTrue();
        List<String> command = new ArrayList<>(List.of(guard.group(2)));
        command.addAll(List.of(guard.group(3).trim().split(" ")));
        ProcessBuilder pb = new ProcessBuilder(command).directory(here.toFile()).redirectErrorStream(true);
        pb.environment().put("AUTH_HMAC_IMAP_PASSWORD", guard.group(1));
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("DRY RUN", "nothing was changed");
    }

    @Test
    void theQuarantineNoticeGivesTheDemosWebAdminForTheRelease() {
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "forged", id, "Pay now.\n"));

        ImapReader postmaster = new ImapReader(pair.b().ports().imap(), "postmaster@" + AuthHmacPair.B_DOMAIN, AuthHmacPair.POSTMASTER_PASSWORD);
        ImapReader.Received notice = postmaster.awaitMatching(m -> m.body().contains(Defanged.of("<" + id + ">")), Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("no notice for the postmaster\n" + pair.b().logTail(60)));

        assertThat(notice.body()).contains("curl -XPATCH 'http://127.0.0.1:" + pair.b().ports().webAdmin() + "/mailRepositories/")
                .doesNotContain(":8000");
    }

    @Test
    void theBannerGivesACliCommandForEachServerAndEachRuns() throws Exception {
        Matcher m = Pattern.compile("(\\S*bin/auth-hmac) -c (\\S+) keys list").matcher(banner);
        List<String> confs = new ArrayList<>();
        while (m.find()) {
            confs.add(m.group(2));
            Process p = new ProcessBuilder(m.group(1), "-c", m.group(2), "keys", "list").redirectErrorStream(true).start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).containsPattern(AuthHmacPair.FIRST_KEY_ID + "\\s+" + AuthHmacPair.KEYSET + "\\s+PRIMARY");
        }
        assertThat(confs).containsExactly(pair.a().confDir().resolve("auth-hmac.properties").toString(),
                pair.b().confDir().resolve("auth-hmac.properties").toString());
    }

    /** Last: it rotates the a-b key to k2 on both servers, and the other tests expect k1 as the primary. */
    @Test
    @Order(Integer.MAX_VALUE)
    void stepFiveAsPrintedRefusesBobsReplyWhileBLacksK2AndReleasesTheMailOnceK2IsImported() throws IOException {
        List<List<String>> blocks = commandBlocks(banner, 5);
        assertThat(blocks).as("step 5's command blocks in\n" + banner).extracting(List::size).containsExactly(3, 1, 1, 2);
        // the newest mail in bob's INBOX must be step 5's notice: what earlier tests sent him has arrived first
        awaitQuiet(pair.b());
        ImapReader bob = pair.bobInbox();
        Path here = Files.createDirectories(work.resolve("step5-shell"));
        try (PastedShell shell = new PastedShell(here)) {
            // given A makes k2 its primary before B has it, and alice writes with it
            shell.paste(blocks.get(0), PASTE_LIMIT);
            Path k2 = here.resolve("k2.secret");
            assertThat(k2).as("k2.secret, written where the shell is").isRegularFile();
            SecretsLedger.recordKeyFile("exported by the demo banner's keys rotate add", k2);

            // then B holds her mail as unknown-key, and bob's notice offers release by reply
            ImapReader.Received notice = bob.awaitMatching(m -> m.header("Subject").contains(SelfReleaseIT.NOTICE_SUBJECT)
                            && SelfReleaseIT.text(m).contains("signed with k2"), Duration.ofSeconds(60))
                    .orElseThrow(() -> new AssertionError("no notice for bob about \"signed with k2\"\n" + shell.transcript()
                            + "\nB's log:\n" + pair.b().logTail(60)));
            assertThat(SelfReleaseIT.text(notice)).contains("unknown-key");

            // when bob takes the release address from the newest mail's Reply-To, as the banner does
            shell.paste(blocks.get(1), PASTE_LIMIT);
            String r = shell.variable("R");
            assertThat(r).as(shell.transcript()).isNotEmpty().isEqualTo(String.join("", notice.header("Reply-To")).strip())
                    .matches(SelfReleaseIT.RELEASE_ADDRESS);

            // and replies to it while B still lacks k2
            Set<String> beforeFirst = Set.copyOf(bob.messageIds());
            shell.paste(blocks.get(2), PASTE_LIMIT);

            // then the release is refused as key-missing
            assertThat(awaitReply(bob, beforeFirst, shell).header("Subject")).containsExactly("Release refused (key-missing)");

            // when B imports k2 and bob sends the same reply again
            Set<String> beforeSecond = Set.copyOf(bob.messageIds());
            shell.paste(blocks.get(3), PASTE_LIMIT);

            // then the mail is released to him
            assertThat(awaitReply(bob, beforeSecond, shell).header("Subject")).containsExactly(SelfReleaseIT.RELEASED);
            assertThat(bob.awaitMatching(m -> m.header("Subject").contains("signed with k2"), Duration.ofSeconds(60)))
                    .as("the held mail in bob's INBOX\n" + shell.transcript()).isPresent();
            System.out.println("step 5 as pasted:\n" + shell.transcript());
        }
    }

    /**
     * The command blocks of one numbered step of the banner: runs of lines that start in the first column, from the
     * step's heading to the next step's, or to the closing line.
     */
    static List<List<String>> commandBlocks(String banner, int step) {
        List<List<String>> blocks = new ArrayList<>();
        List<String> current = null;
        boolean inStep = false;
        for (String line : banner.split("\n")) {
            if (line.startsWith(step + ". ")) {
                inStep = true;
                continue;
            }
            if (inStep && (line.startsWith((step + 1) + ". ") || line.startsWith("Ctrl-C"))) {
                break;
            }
            if (!inStep) {
                continue;
            }
            if (line.isBlank() || Character.isWhitespace(line.charAt(0))) {
                current = null;
            } else {
                if (current == null) {
                    current = new ArrayList<>();
                    blocks.add(current);
                }
                current.add(line);
            }
        }
        return blocks;
    }

    /** The one new answer from B's release by reply in the INBOX (mail not in {@code before}). */
    private static ImapReader.Received awaitReply(ImapReader inbox, Set<String> before, PastedShell shell) {
        return inbox.awaitMatching(m -> !before.contains(m.header("Message-ID").stream().findFirst().orElse(""))
                        && m.header("Subject").stream().anyMatch(s -> s.startsWith("Held message ") || s.startsWith("Release refused (")),
                        Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("no answer to bob's reply\n" + shell.transcript() + "\nB's log:\n"
                        + pair.b().logTail(60)));
    }

    /** Waits until the server's spool and outgoing queues have been empty twice in a row, half a second apart. */
    private static void awaitQuiet(JamesServerProcess server) {
        WebAdminClient admin = server.webAdmin();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int quiet = 0;
        while (quiet < 2) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(server.name() + " still has mail queued; log:\n" + server.logTail(40));
            }
            quiet = admin.queueSize("spool") + admin.queueSize("outgoing") == 0 ? quiet + 1 : 0;
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
