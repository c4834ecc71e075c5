package org.authhmac.it.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesMetrics;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.RawSmtpClient;
import org.authhmac.testing.james.RelaySmtpServer;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Who receives a signature, on a real pair (James 3.8.1, swtpm, james-conf/ as shipped; A's /metrics route on). A's
 * gateway is a relay on loopback that forwards b.example's recipients to B and is itself the destination of
 * c.example (a third domain, no partner of A). A signature bound to b.example with rc=1 is a one-time ticket into a
 * b.example mailbox: it must reach b.example's recipients only, or carol could spend it on a b.example mailbox before
 * A's delivery to bob goes through.
 */
class SignatureCopiesOnRealJamesIT {
    static final String QUARANTINE = "memory://var/mail/auth-hmac-quarantine";
    static final String CAROL = "carol@c.example";
    static final String CFO = "cfo@b.example";
    static final Pattern SIGNATURE_FIELD = Pattern.compile("(?im)^X-Auth-HMAC:");

    private static RelaySmtpServer relay;
    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() {
        relay = new RelaySmtpServer(message -> message).forwardOnly(r -> r.toLowerCase().endsWith("@" + AuthHmacPair.B_DOMAIN));
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "signature-copies-pair");
        pair = AuthHmacPair.start(root,
                new AuthHmacPair.Layout(JamesRuntime.repoPath("james-conf/sending"), JamesRuntime.repoPath("james-conf/receiving")),
                AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()).properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES),
                b -> b.extensionJar(JamesRuntime.javaxBundleJar()),
                bSmtp -> {
                    relay.forwardTo(bSmtp);
                    return relay.port();
                });
        pair.b().webAdmin().addUser(CFO, "cfo-secret");
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
    void bobsCopyCarriesOnlyItsOwnSignatureAndPassesWhileTheThirdDomainsCopyLeavesUnsigned() {
        // given alice's mail to bob at partner b.example and to carol at c.example
        String id = newMessageId();
        long splitBefore = counter("authhmac.sign.split");
        long copiesBefore = counter("authhmac.sign.splitCopies");

        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB, CAROL),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB + ", " + CAROL, "board minutes", bare(id), "The minutes.\nAlice\n"));

        // then bob reads his copy with B's pass, signed only for b.example, for one mailbox
        ImapReader.Received bobs = pair.bobInbox().awaitMessageId(id, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered to bob; A log:\n" + pair.a().logTail(40) + "\nB log:\n" + pair.b().logTail(40)));
        assertThat(bobs.header("X-Auth-HMAC")).singleElement().asString().contains("d=a.example", "r=b.example", "rc=1");
        assertThat(bobs.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
        // and carol's copy left A without any signature
        RelaySmtpServer.Transaction carols = await("carol's copy at c.example", () -> transactionFor(CAROL, id));
        assertThat(carols.recipients()).containsExactly(CAROL);
        assertThat(SIGNATURE_FIELD.matcher(headerBlock(carols.message())).find()).as("an X-Auth-HMAC field in carol's copy").isFalse();
        // and nothing is lost or doubled: each recipient got exactly one copy
        assertThat(relay.received()).filteredOn(t -> t.message().contains(id)).flatExtracting(RelaySmtpServer.Transaction::recipients)
                .containsExactlyInAnyOrder(AuthHmacPair.BOB, CAROL);
        assertThat(pair.bobInbox().findByMessageId(id)).hasSize(1);
        assertThat(counter("authhmac.sign.split")).isEqualTo(splitBefore + 1);
        assertThat(counter("authhmac.sign.splitCopies")).isEqualTo(copiesBefore + 1);
        // and carol's copy came back from the spool as it was queued: it passed untouched, its digest unchanged
        assertThat(pair.a().logs()).doesNotContain("recipients or message changed since");
    }

    @Test
    void carolSendingHerCopyOnToAnotherBMailboxGetsNoPassThere() {
        // given alice's mail to bob and carol, delivered
        String id = newMessageId();
        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB, CAROL),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB + ", " + CAROL, "payment run", bare(id), "Approved.\nAlice\n"));
        RelaySmtpServer.Transaction carols = await("carol's copy at c.example", () -> transactionFor(CAROL, id));

        // when carol sends her copy byte for byte to B's port 25, for the CFO
        RawSmtpClient.Reply reply = new RawSmtpClient(pair.b().ports().smtp())
                .send(CAROL, List.of(CFO), carols.message().getBytes(StandardCharsets.UTF_8));

        // then B holds it as unsigned mail claiming a.example: no signature of A's came with it
        assertThat(reply.accepted()).as("B's reply %s", reply).isTrue();
        JsonNode held = await("held at B", () -> heldAtB(id, CFO));
        assertThat(WebAdminClient.attribute(held, "org.authhmac.result")).isEqualTo("none");
        assertThat(WebAdminClient.attribute(held, "org.authhmac.reason")).isEqualTo("no-signature");
        assertThat(new ImapReader(pair.b().ports().imap(), CFO, "cfo-secret").findByMessageId(id)).isEmpty();
        // and bob's genuine copy passed
        ImapReader.Received bobs = pair.bobInbox().awaitMessageId(id, Duration.ofSeconds(60)).orElseThrow();
        assertThat(bobs.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
    }

    private static Optional<RelaySmtpServer.Transaction> transactionFor(String recipient, String messageId) {
        return relay.received().stream().filter(t -> t.recipients().contains(recipient) && t.message().contains(messageId)).findFirst();
    }

    private static Optional<JsonNode> heldAtB(String messageId, String recipient) {
        WebAdminClient admin = pair.b().webAdmin();
        return admin.mailKeys(QUARANTINE).stream().map(k -> admin.mail(QUARANTINE, k))
                .filter(m -> m.path("headers").toString().contains(messageId) && m.toString().contains(recipient)).findFirst();
    }

    private static String headerBlock(String message) {
        int end = message.indexOf("\r\n\r\n");
        return end < 0 ? message : message.substring(0, end + 2);
    }

    private static long counter(String name) {
        return JamesMetrics.scrape(pair.a()).counter(name);
    }

    private static String newMessageId() {
        return "<" + UUID.randomUUID() + "@a.example>";
    }

    private static String bare(String id) {
        return id.substring(1, id.length() - 1);
    }

    /** Polls for what is wanted, up to 60 s. */
    private static <T> T await(String what, Supplier<Optional<T>> wanted) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<T> found = wanted.get();
            if (found.isPresent()) {
                return found.get();
            }
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("not seen within 60 s: " + what + "; A log:\n" + pair.a().logTail(40) + "\nB log:\n" + pair.b().logTail(40));
    }
}
