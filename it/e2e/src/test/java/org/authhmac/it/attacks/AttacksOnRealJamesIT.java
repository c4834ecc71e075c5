package org.authhmac.it.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.authhmac.it.KeyNeedles;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.RelaySmtpServer;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Attacks on a real pair (James 3.8.1, swtpm, james-conf/ as shipped). A relay between A and B records
 * every signed mail A sends (an eavesdropper's capture) and tampers with marked ones; the attacker also talks
 * straight to B's port 25. Last, every file both servers wrote is searched for the keys.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AttacksOnRealJamesIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String CAROL = "carol@c.example";
    static final Pattern MESSAGE_ID = Pattern.compile("(?mi)^Message-ID:\\s*(<[^>]+>)");

    private static AuthHmacPair pair;
    private static RelaySmtpServer relay;
    /** Message-ID -> the signed bytes as they crossed the relay. */
    private static final Map<String, String> captured = new ConcurrentHashMap<>();

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "attacks-pair");
        relay = new RelaySmtpServer(message -> {
            Matcher m = MESSAGE_ID.matcher(message);
            if (m.find()) {
                captured.put(m.group(1), message);
            }
            if (message.contains("[add-from]")) {
                return "From: Mallory <mallory@evil.example>\r\n" + message;
            }
            if (message.contains("[add-subject]")) {
                return "Subject: URGENT: new bank details\r\n" + message;
            }
            return message;
        });
        pair = AuthHmacPair.start(root,
                new AuthHmacPair.Layout(JamesRuntime.repoPath("james-conf/sending"), JamesRuntime.repoPath("james-conf/receiving")),
                AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()), b -> b.extensionJar(JamesRuntime.javaxBundleJar()),
                bSmtp -> {
                    relay.forwardTo(bSmtp);
                    return relay.port();
                });
        pair.b().webAdmin().addDomain("c.example");
        pair.b().webAdmin().addUser(CAROL, "carol-secret");
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
        if (relay != null) {
            relay.close();
        }
    }

    @Test
    @Order(1)
    void aSecondFromAddedInTransitIsQuarantined() {
        String id = sendFromAlice("invoice [add-from]");

        JsonNode held = awaitQuarantined(id);

        assertThat(attribute(held, "org.authhmac.result")).isEqualTo("fail");
        assertThat(attribute(held, "org.authhmac.reason")).isIn("duplicate-header", "bad-mac");
        assertThat(pair.bobInbox().findByMessageId(id)).isEmpty();
    }

    @Test
    @Order(2)
    void aSecondSubjectAddedInTransitIsQuarantined() {
        String id = sendFromAlice("invoice [add-subject]");

        JsonNode held = awaitQuarantined(id);

        assertThat(attribute(held, "org.authhmac.result")).isEqualTo("fail");
        assertThat(attribute(held, "org.authhmac.reason")).isIn("duplicate-header", "bad-mac");
        assertThat(pair.bobInbox().findByMessageId(id)).isEmpty();
    }

    @Test
    @Order(3)
    void aCapturedMailReplayedToTheSameRecipientIsAReplay() {
        String id = sendFromAliceAndAwaitBob("to be replayed");

        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), captured.get(id));

        JsonNode held = awaitQuarantined(id);
        assertThat(attribute(held, "org.authhmac.reason")).isEqualTo("replay");
        assertThat(pair.bobInbox().findByMessageId(id)).hasSize(1);
    }

    @Test
    @Order(4)
    void aCapturedMailReplayedToAnotherRecipientDomainIsWrongRecipient() {
        String id = sendFromAliceAndAwaitBob("to be replayed elsewhere");

        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(CAROL), captured.get(id));

        JsonNode held = awaitQuarantined(id);
        assertThat(attribute(held, "org.authhmac.result")).isEqualTo("fail");
        assertThat(attribute(held, "org.authhmac.reason")).isEqualTo("wrong-recipient");
        assertThat(new ImapReader(pair.b().ports().imap(), CAROL, "carol-secret").findByMessageId(id)).isEmpty();
    }

    @Test
    @Order(5)
    void aSignatureFromTheRightKeyForAnotherRecipientDomainIsWrongRecipient() throws Exception {
        String id = "<" + UUID.randomUUID() + "@a.example>";
        String signedForC = signOutside(id, "c.example", Instant.now());

        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), signedForC);

        assertThat(attribute(awaitQuarantined(id), "org.authhmac.reason")).isEqualTo("wrong-recipient");
    }

    @Test
    @Order(6)
    void aDowngradedAlgorithmIsPermerror() {
        String id = sendFromAliceAndAwaitBob("to be downgraded");

        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                captured.get(id).replace("a=hmac-sha256", "a=hmac-sha1"));

        JsonNode held = awaitQuarantined(id);
        assertThat(attribute(held, "org.authhmac.result")).isEqualTo("permerror");
        assertThat(attribute(held, "org.authhmac.reason")).isEqualTo("unsupported-algorithm");
    }

    @Test
    @Order(7)
    void aSignatureDatedBeyondTheSkewIsFuture() throws Exception {
        String id = "<" + UUID.randomUUID() + "@a.example>";
        String fromTheFuture = signOutside(id, "b.example", Instant.now().plusSeconds(900));

        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), fromTheFuture);

        JsonNode held = awaitQuarantined(id);
        assertThat(attribute(held, "org.authhmac.result")).isEqualTo("fail");
        assertThat(attribute(held, "org.authhmac.reason")).isEqualTo("future");
    }

    /** Runs last: everything the servers wrote during the attacks above is searched for the key material. */
    @Test
    @Order(100)
    void noFileEitherServerWroteContainsThePrimaryOrAPeriodKey() throws IOException {
        byte[] primary = pair.partnerSecretForTests();
        List<KeyNeedles.Key> secrets = new ArrayList<>();
        secrets.add(new KeyNeedles.Key("primary", primary));
        long period = KdfContext.periodOf(Instant.now().getEpochSecond(), 900);
        for (long p = period - 3; p <= period + 2; p++) {
            secrets.add(new KeyNeedles.Key("period " + p,
                    Kdf.derive(primary, new KdfContext(AuthHmacPair.FIRST_KEY_ID, AuthHmacPair.A_DOMAIN, 900, p))));
        }
        KeyNeedles needles = new KeyNeedles(secrets);
        List<Path> files;
        try (Stream<Path> walk = Stream.concat(Files.walk(pair.a().workDir()), Files.walk(pair.b().workDir()))) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        KeyNeedles.Search search = needles.search(files, Path::toString);
        List<String> hits = search.hits();
        long bytes = search.bytes();
        System.out.printf("secrets: %d files of both James servers, %d bytes searched for %d forms of %d keys: %d hits%n",
                files.size(), bytes, needles.count(), secrets.size(), hits.size());
        // swtpm's own state is the TPM's inside, not a file James wrote; reported, not asserted (a software TPM
        // without state encryption may hold loaded keys in clear, which a hardware TPM keeps on the chip)
        for (Path tpmDir : Stream.of(pair.tpmA(), pair.tpmB()).map(t -> t.stateDir()).toList()) {
            try (Stream<Path> walk = Files.walk(tpmDir)) {
                for (Path f : walk.filter(Files::isRegularFile).toList()) {
                    System.out.printf("secrets: swtpm state %s: %d hits%n", f, needles.find(Files.readAllBytes(f)).size());
                }
            }
        }

        assertThat(files).as("the servers' logs are among the files").anyMatch(f -> f.toString().endsWith(".log"));
        assertThat(hits).isEmpty();
    }

    private static String sendFromAlice(String subject) {
        String id = "<" + UUID.randomUUID() + "@a.example>";
        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, subject, id.substring(1, id.length() - 1),
                        "Hello Bob,\nPay 100 EUR to account 1234\nAlice\n"));
        return id;
    }

    private static String sendFromAliceAndAwaitBob(String subject) {
        String id = sendFromAlice(subject);
        ImapReader.Received mail = pair.bobInbox().awaitMessageId(id, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered to bob; B log:\n" + pair.b().logTail(40)));
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
        assertThat(captured).as("the relay captured it").containsKey(id);
        return id;
    }

    /** A mail signed with the A-B key outside James: what a misconfigured or stolen signer could produce. */
    private static String signOutside(String id, String recipientDomain, Instant time) throws Exception {
        String message = SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "signed outside", id.substring(1, id.length() - 1),
                "Hello\n");
        List<String> header = new Signer(SignerSettings.defaults()).sign(
                new ByteArrayInputStream(message.getBytes(StandardCharsets.UTF_8)),
                List.of(new SignRequest(AuthHmacPair.FIRST_KEY_ID, AuthHmacPair.A_DOMAIN, recipientDomain, time)),
                StaticPeriodKeys.of(AuthHmacPair.FIRST_KEY_ID, pair.partnerSecretForTests()));
        return header.get(0) + "\r\n" + message;
    }

    private static JsonNode awaitQuarantined(String messageId) {
        return pair.b().webAdmin().mail(QUARANTINE, pair.b().awaitRepositoryMailKey(QUARANTINE, messageId));
    }

    private static String attribute(JsonNode mail, String name) {
        return WebAdminClient.attribute(mail, name);
    }

}
