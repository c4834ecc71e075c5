package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.Defanged;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.tpm.SwtpmProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * scripts/demo's servers (DemoMain) as a user meets them: what the banner says to paste works, the quarantine notice
 * points at the demo's own WebAdmin, and the mailbox-key route the README lists answers.
 */
class DemoIT {
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
}
