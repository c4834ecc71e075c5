package org.authhmac.it.clientside;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.KeyCli;
import org.authhmac.testing.james.SecretsLedger;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.tpm.SwtpmProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What bob's client shows for mail his server delivered, on a real James 3.8.1 (javax drop-in jar, james-conf/receiving
 * as shipped: quarantine mode with notices, the vault on swtpm when installed): a partner's mail the server passed, the
 * server's notice about a held forgery, that forgery once an administrator released it, and an outsider's mail with a
 * forged Authentication-Results. The mailbox signature is checked with the shaded CLI's verify and imap-guard, with
 * bob's key file from 'auth-hmac users key'.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MailboxVerdictIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String DOMAIN = "b.example";
    static final String BOB = "bob@b.example";
    static final String PASSWORD = "bob-secret";
    static final String PARTNER_KEYSET = "a-b";
    static final String PARTNER_KEY_ID = "k1";

    static Path root;
    static SwtpmProcess tpm;
    static JamesServerProcess james;
    static byte[] partnerSecret;
    static Path bobKey;
    static Path passwordFile;
    static final Map<String, String> ids = new LinkedHashMap<>();

    @BeforeAll
    static void startJames() throws Exception {
        root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "mailbox-verdict-" + ProcessHandle.current().pid())
                .toAbsolutePath();
        MailboxSigningIT.deleteRecursively(root);
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
        james = JamesServerProcess.builder("b", root.resolve("james-b"))
                .baseConf().confLayer(JamesRuntime.repoPath("james-conf/receiving"))
                .properties("auth-hmac.properties", vault)
                .extensionJar(JamesRuntime.javaxBundleJar())
                .build();
        james.prepare();
        // the partner key a.example signs with (the test signs as a.example), and bob's mailbox key, before start-up
        Path config = james.confDir().resolve("auth-hmac.properties");
        KeyCli cli = KeyCli.fromSystemProperties();
        Path partnerExport = root.resolve("a-b-k1.secret");
        cli.run(config, "keys", "generate", "--keyset", PARTNER_KEYSET, "--key-id", PARTNER_KEY_ID, "--export", partnerExport.toString());
        Properties exported = new Properties();
        try (var in = Files.newInputStream(partnerExport)) {
            exported.load(in);
        }
        partnerSecret = java.util.Base64.getUrlDecoder().decode(exported.getProperty("secret").trim());
        SecretsLedger.recordKeyFile("partner key a-b of the mailbox verdict test", partnerExport);
        Files.delete(partnerExport);
        bobKey = root.resolve("bob.key");
        cli.run(config, "users", "key", "--user", BOB, "--export", bobKey.toString());
        SecretsLedger.recordKeyFile("mailbox key of " + BOB, bobKey);
        james.launch();
        james.awaitHealthy(Duration.ofSeconds(120));
        james.webAdmin().addDomain(DOMAIN);
        james.webAdmin().addUser(BOB, PASSWORD);
        james.webAdmin().addUser("postmaster@" + DOMAIN, "postmaster-secret");
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

    static String newId(String label) {
        String id = "<" + UUID.randomUUID() + "@a.example>";
        ids.put(label, id);
        return id;
    }

    static String bare(String id) {
        return id.substring(1, id.length() - 1);
    }

    static ImapReader bobsInbox() {
        return new ImapReader(james.ports().imap(), BOB, PASSWORD);
    }

    static ImapReader.Received delivered(String messageId) {
        return bobsInbox().awaitMessageId(messageId, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError(messageId + " not delivered to bob\n" + james.logTail(60)));
    }

    /**
     * auth-hmac verify on the stored copy, with bob's key file. The delivery time is the mailbox signature's own t=:
     * the server signs at delivery (a notice has no Received field to take it from), and the test reads the copy
     * within seconds, as a client would give the IMAP INTERNALDATE.
     */
    static KeyCli.Result verify(ImapReader.Received stored, String name) throws Exception {
        Path eml = root.resolve(name + ".eml");
        Files.writeString(eml, stored.raw(), StandardCharsets.UTF_8);
        java.util.regex.Matcher t = java.util.regex.Pattern.compile("(?:^|;)\\s*t=(\\d+)").matcher(stored.header("X-Auth-HMAC").get(0));
        assertThat(t.find()).as("t= in " + stored.header("X-Auth-HMAC")).isTrue();
        return KeyCli.fromSystemProperties().tryRun(root.resolve("no-vault-needed.properties"), "verify", "--key", bobKey.toString(),
                "--delivered-at", Instant.ofEpochSecond(Long.parseLong(t.group(1))).toString(), eml.toString());
    }

    @Test
    @Order(1)
    void aPartnerMailTheServerPassedIsShownAsVerifiedFromThePartner() throws Exception {
        // given a mail alice@a.example's server signed for b.example
        String id = newId("partner");
        String message = SmtpSender.message("alice@a.example", BOB, "quarterly figures", bare(id), "In the shared folder.\n");
        List<String> header = new Signer(SignerSettings.defaults()).sign(new ByteArrayInputStream(message.getBytes(StandardCharsets.UTF_8)),
                List.of(new SignRequest(PARTNER_KEY_ID, "a.example", DOMAIN, Instant.now())),
                StaticPeriodKeys.of(PARTNER_KEY_ID, partnerSecret));

        // when it reaches bob through b.example's MX
        SmtpSender.mta(james.ports().smtp()).send("alice@a.example", List.of(BOB), header.get(0) + "\r\n" + message);

        // then bob's mailbox signature carries the server's pass and the partner, and the client shows it
        ImapReader.Received stored = delivered(id);
        assertThat(stored.header("X-Auth-HMAC")).singleElement().asString().contains("r=" + BOB, "; sv=pass; pd=a.example;");
        KeyCli.Result r = verify(stored, "partner");
        assertThat(r.exitCode()).as(r.output()).isEqualTo(0);
        assertThat(r.output()).contains("status: partner-verified", "partner: a.example");
    }

    @Test
    @Order(2)
    void theServersNoticeAboutAHeldForgeryIsShownAsItsNoticeAndTheForgeryOnceReleasedAsReleased() throws Exception {
        // given an unsigned forgery claiming a.example: held in the quarantine, bob is told
        String id = newId("forgery");
        SmtpSender.mta(james.ports().smtp()).send("ceo@a.example", List.of(BOB),
                SmtpSender.message("CEO <ceo@a.example>", BOB, "new bank details", bare(id), "Pay to IBAN X today.\n"));
        String key = james.awaitRepositoryMailKey(QUARANTINE, id);
        ImapReader.Received notice = bobsInbox().awaitMatching(m -> m.raw().contains(bare(id).substring(0, 36))
                        && m.header("Message-ID").stream().noneMatch(h -> h.contains(bare(id))), Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("no notice for " + id + "\n" + james.logTail(60)));
        ids.put("notice", notice.header("Message-ID").get(0).trim());

        // then the notice's mailbox signature says it is the server's own
        assertThat(notice.header("X-Auth-HMAC")).singleElement().asString().contains("; sv=notice;").doesNotContain("pd=");
        KeyCli.Result shownNotice = verify(notice, "notice");
        assertThat(shownNotice.exitCode()).as(shownNotice.output()).isEqualTo(3);
        assertThat(shownNotice.output()).contains("status: server-notice").doesNotContain("partner-verified");

        // when the administrator releases the forgery (the documented release route)
        james.webAdmin().reprocess(QUARANTINE, key, "transport");

        // then it reaches bob as released, not as a partner's mail the server passed
        ImapReader.Received released = delivered(id);
        assertThat(released.header("X-Auth-HMAC")).singleElement().asString().contains("; sv=released;").doesNotContain("pd=");
        KeyCli.Result shownReleased = verify(released, "released");
        assertThat(shownReleased.exitCode()).as(shownReleased.output()).isEqualTo(3);
        assertThat(shownReleased.output()).contains("status: released", "partner: -").doesNotContain("partner-verified");
    }

    @Test
    @Order(3)
    void anOutsidersForgedAuthenticationResultsInTheInboxDoesNotMakeTheClientShowPass() throws Exception {
        // given mail from outside whose Authentication-Results claims a pass from bob's server under an authserv-id
        // the server's stripping does not match (a trailing dot), which some mail readers show as mx.b.example
        String id = newId("forged-results");
        String message = "Authentication-Results: mx.b.example.; auth-hmac=pass reason=\"verified\" header.from=a.example"
                + " header.d=a.example\r\n"
                + SmtpSender.message("Alice <alice@a-example.net>", BOB, "invoice", bare(id), "Pay to IBAN X.\n");

        SmtpSender.mta(james.ports().smtp()).send("alice@a-example.net", List.of(BOB), message);

        // then it reaches the INBOX with the claim, and the client shows the sender as not verified
        ImapReader.Received stored = delivered(id);
        assertThat(stored.raw()).contains("mx.b.example.; auth-hmac=pass");
        assertThat(stored.header("X-Auth-HMAC")).singleElement().asString().contains("; sv=none;");
        KeyCli.Result r = verify(stored, "forged-results");
        assertThat(r.exitCode()).as(r.output()).isEqualTo(3);
        assertThat(r.output()).contains("status: sender-unverified", "partner: -");
    }

    @Test
    @Order(4)
    void bobsGuardShowsEachAsWhatItIsAndByDefaultMovesNoneOfThem() {
        KeyCli.Result r = KeyCli.fromSystemProperties().tryRun(root.resolve("no-vault-needed.properties"), "imap-guard",
                "--host", "127.0.0.1", "--port", Integer.toString(james.ports().imap()), "--security", "NONE",
                "--login", BOB, "--password-file", passwordFile.toString(), "--key", bobKey.toString(),
                "--apply", "--state", root.resolve("guard-" + BOB + ".state").toString());

        assertThat(r.exitCode()).as(r.output()).isEqualTo(0);
        assertThat(r.output()).contains(
                "message-id=" + ids.get("partner") + " status=partner-verified partner=a.example signature=pass reason=verified action=kept",
                "message-id=" + ids.get("notice") + " status=server-notice signature=pass reason=verified action=kept",
                "message-id=" + ids.get("forgery") + " status=released signature=pass reason=verified action=kept",
                "message-id=" + ids.get("forged-results") + " status=sender-unverified signature=pass reason=verified action=kept");
        assertThat(r.output()).containsOnlyOnce("status=partner-verified");
    }
}
