package org.authhmac.it.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesMetrics;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the sending server signs, on a real pair (James 3.8.1, swtpm, james-conf/ as shipped, with A's commented
 * example for an in-house application turned on): a signature means "a user of a.example wrote this and submitted
 * it here". Mail A forwards for somebody on the Internet, and mail an authenticated user writes in somebody else's
 * name, must never leave A signed.
 */
class SigningPolicyAttacksIT {
    static final String QUARANTINE = "memory://var/mail/auth-hmac-quarantine";
    static final String REFUSED = "memory://var/mail/auth-hmac-sign-refused";
    /** The in-house application's host: the harness's smtpserver.xml lists only it in authorizedAddresses. */
    static final String APPLICATION_HOST = "127.0.0.2";
    /** The shipped, commented example in A's root processor, turned on as an administrator would. */
    static final Pattern SERVER_OWN_EXAMPLE = Pattern.compile("<!-- auth-hmac example: sign mail from an in-house application.*?"
            + "(<mailet match=\"SMTPIsAuthNetwork\" class=\"SetMailAttribute\">.*?</mailet>)\\s*-->", Pattern.DOTALL);
    /** An ordinary James forward on A: mail for it goes to bob@b.example. */
    static final String FORWARDER = "fwd@a.example";
    static final String ATTACKER = "attacker@evil.example";

    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() throws IOException {
        String sending = Files.readString(JamesRuntime.repoPath("james-conf/sending").resolve("mailetcontainer.xml"));
        Matcher example = SERVER_OWN_EXAMPLE.matcher(sending);
        assertThat(example.find()).as("the shipped example in james-conf/sending/mailetcontainer.xml").isTrue();
        String withExample = sending.substring(0, example.start()) + example.group(1).strip() + sending.substring(example.end());
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "signing-policy-pair");
        pair = AuthHmacPair.start(root,
                new AuthHmacPair.Layout(JamesRuntime.repoPath("james-conf/sending"), JamesRuntime.repoPath("james-conf/receiving")),
                AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()).confFile("mailetcontainer.xml", withExample)
                        .properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES),
                b -> b.extensionJar(JamesRuntime.javaxBundleJar()),
                bSmtp -> bSmtp);
        WebAdminClient a = pair.a().webAdmin();
        a.addUser(FORWARDER, "fwd-secret");
        a.addForward(FORWARDER, AuthHmacPair.BOB);
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    void anInternetForgeryThatAForwardsToBobIsNotSignedAndIsHeldAtBAsNone() {
        // given a forger on the Internet who writes as a.example's CEO to A's forwarding address
        String id = newMessageId("evil.example");
        String forged = SmtpSender.message("CEO <ceo@a.example>", FORWARDER, "urgent payment", bare(id),
                "Please pay invoice 4711 to account 6666 today.\nThe CEO\n");
        long unsignedBefore = counter("authhmac.sign.unsigned.notSubmittedHere");

        // when it reaches A's port 25 without authentication, and A's forward sends it on to bob@b.example
        SmtpSender.mta(pair.a().ports().smtp()).send(ATTACKER, List.of(FORWARDER), forged);

        // then A sent it unsigned, and B held it as none, with no pass anywhere; bob's INBOX never sees it
        JsonNode held = awaitHeldAtBNotDelivered(id);
        assertThat(WebAdminClient.attribute(held, "org.authhmac.result")).isEqualTo("none");
        assertThat(WebAdminClient.attribute(held, "org.authhmac.reason")).isEqualTo("no-signature");
        assertThat(held.path("headers").toString()).doesNotContain("X-Auth-HMAC").doesNotContain("auth-hmac=pass");
        assertThat(counter("authhmac.sign.unsigned.notSubmittedHere")).isGreaterThan(unsignedBefore);
    }

    @Test
    void aliceWritingAsTheCeoOfHerOwnDomainIsNotSignedNotSentAndBouncedToHer() {
        // given alice, logged in on A, who writes From: "CEO" <ceo@a.example> to bob
        String id = newMessageId("a.example");
        long refusedBefore = counter("authhmac.sign.refused.fromNotAuthenticatedUser");

        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message("\"CEO\" <ceo@a.example>", AuthHmacPair.BOB, "new bank details", bare(id),
                        "From now on pay to account 6666.\nThe CEO\n"));

        // then A bounces it to alice with her message attached, and keeps it in its refused repository, unsigned
        ImapReader aliceInbox = new ImapReader(pair.a().ports().imap(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD);
        ImapReader.Received bounce = await("a bounce to alice", () -> aliceInbox.findMatching(r -> !r.header("Message-ID").contains(id)
                && r.raw().contains(id)), id);
        assertThat(bounce.raw()).contains("not the address you logged in with");
        JsonNode kept = pair.a().webAdmin().mail(REFUSED, pair.a().awaitRepositoryMailKey(REFUSED, id));
        assertThat(kept.path("headers").toString()).doesNotContain("X-Auth-HMAC");
        assertThat(counter("authhmac.sign.refused.fromNotAuthenticatedUser")).isGreaterThan(refusedBefore);
        // and nothing of it reached B
        assertThat(pair.bobInbox().findByMessageId(id)).isEmpty();
        assertThat(heldAtB(id)).isEmpty();
    }

    @Test
    void aliceWritingAsHerselfIsStillSignedAndPasses() {
        // given alice's own address in the From, spelled with capitals as some clients do
        String id = newMessageId("a.example");

        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message("Alice <Alice@A.Example>", AuthHmacPair.BOB, "minutes", bare(id), "The minutes are attached.\nAlice\n"));

        // then bob reads it with B's pass
        ImapReader.Received mail = pair.bobInbox().awaitMessageId(id, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered to bob; A log:\n" + pair.a().logTail(40) + "\nB log:\n" + pair.b().logTail(40)));
        assertThat(mail.header("X-Auth-HMAC")).singleElement().asString().contains("d=a.example");
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
    }

    @Test
    void aliceWritingToAForwardingAddressOfHerDomainIsSignedAsHersAndPasses() {
        // given alice, logged in on A, who writes as herself to A's forwarding address
        String id = newMessageId("a.example");

        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(FORWARDER),
                SmtpSender.message(AuthHmacPair.ALICE, FORWARDER, "via the forward", bare(id), "Hello through the forward.\nAlice\n"));

        // then the forwarded copy keeps her SMTP AUTH and is signed as her mail: bob reads it with B's pass
        ImapReader.Received mail = pair.bobInbox().awaitMessageId(id, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered to bob; A log:\n" + pair.a().logTail(40) + "\nB log:\n" + pair.b().logTail(40)));
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
    }

    @Test
    void mailFromAnInHouseApplicationMarkedByTheShippedExampleIsSignedAsTheServersOwn() {
        // given the application's host, in authorizedAddresses, sending without authentication as noreply@a.example
        String id = newMessageId("a.example");
        long serverOwnBefore = counter("authhmac.sign.serverOwn");

        SmtpSender.mtaFrom(APPLICATION_HOST, pair.a().ports().smtp()).send("noreply@a.example", List.of(AuthHmacPair.BOB),
                SmtpSender.message("Ticket system <noreply@a.example>", AuthHmacPair.BOB, "ticket 17 closed", bare(id), "Ticket 17 is closed.\n"));

        // then the administrator's mark (SetMailAttribute org.authhmac.serverOwn) made A sign it, and bob reads it with B's pass
        ImapReader.Received mail = pair.bobInbox().awaitMessageId(id, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered to bob; A log:\n" + pair.a().logTail(40) + "\nB log:\n" + pair.b().logTail(40)));
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
        assertThat(counter("authhmac.sign.serverOwn")).isGreaterThan(serverOwnBefore);
    }

    private static String newMessageId(String domain) {
        return "<" + UUID.randomUUID() + "@" + domain + ">";
    }

    private static String bare(String id) {
        return id.substring(1, id.length() - 1);
    }

    private static long counter(String name) {
        return JamesMetrics.scrape(pair.a()).counter(name);
    }

    private static Optional<JsonNode> heldAtB(String messageId) {
        WebAdminClient admin = pair.b().webAdmin();
        return admin.mailKeys(QUARANTINE).stream().map(k -> admin.mail(QUARANTINE, k))
                .filter(m -> m.path("headers").toString().contains(messageId)).findFirst();
    }

    /** Waits until the mail is held in B's quarantine; fails at once when it is delivered to bob instead. */
    private static JsonNode awaitHeldAtBNotDelivered(String messageId) {
        return await("held at B", () -> heldAtB(messageId), messageId);
    }

    /** Polls for what is wanted, up to 60 s; fails at once when bob's INBOX gets the mail. */
    private static <T> T await(String what, Supplier<Optional<T>> wanted, String messageId) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<T> found = wanted.get();
            if (found.isPresent()) {
                return found.get();
            }
            List<ImapReader.Received> delivered = pair.bobInbox().findByMessageId(messageId);
            assertThat(delivered).as("delivered to bob's INBOX; its X-Auth-HMAC: %s, Authentication-Results: %s",
                    delivered.stream().map(r -> r.header("X-Auth-HMAC")).toList(),
                    delivered.stream().map(r -> r.header("Authentication-Results")).toList()).isEmpty();
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("not " + what + " within 60 s: " + messageId + "; A log:\n" + pair.a().logTail(60)
                + "\nB log:\n" + pair.b().logTail(60));
    }
}
