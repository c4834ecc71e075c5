package org.authhmac.it.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.protocol.UncheckedSigning;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Attacks through the From field on a real pair (James 3.8.1, swtpm, james-conf/ as shipped): a From that one
 * reader takes for a partner address and another does not, and a partner signature over somebody else's From.
 * Each mail must be verified by B, and none may be delivered with {@code auth-hmac=pass}.
 */
class FromFieldAttacksIT {
    static final String QUARANTINE = "memory://var/mail/auth-hmac-quarantine";
    static final String MALLORY = "mallory@evil.example";

    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "from-field-pair");
        pair = AuthHmacPair.start(root,
                new AuthHmacPair.Layout(JamesRuntime.repoPath("james-conf/sending"), JamesRuntime.repoPath("james-conf/receiving")),
                AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()), b -> b.extensionJar(JamesRuntime.javaxBundleJar()),
                bSmtp -> bSmtp);
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    void anUnsignedMailWhoseFromIsAGroupNamingThePartnerIsHeldNotDeliveredUnchecked() {
        // given a forger on B's port 25, envelope sender outside every partner domain, From in RFC 5322 group
        // syntax: jakarta.mail reads one address whose domain is "a.example;", Python's email and mime4j read ceo@a.example
        String id = "<" + UUID.randomUUID() + "@evil.example>";
        String forged = SmtpSender.message("Board:ceo@a.example;", AuthHmacPair.BOB, "wire the money today",
                id.substring(1, id.length() - 1), "Please pay invoice 4711 today.\nThe CEO\n");

        // when it arrives at B
        SmtpSender.mta(pair.b().ports().smtp()).send(MALLORY, List.of(AuthHmacPair.BOB), forged);

        // then B verified it and held it: none / no-signature, with B's Authentication-Results, not in bob's INBOX
        JsonNode held = awaitHeldNotDelivered(id);
        assertThat(WebAdminClient.attribute(held, "org.authhmac.result")).isEqualTo("none");
        assertThat(WebAdminClient.attribute(held, "org.authhmac.reason")).isEqualTo("no-signature");
        assertThat(held.path("headers").toString()).contains("Authentication-Results", "auth-hmac=none");
        assertThat(pair.bobInbox().findByMessageId(id)).isEmpty();
    }

    @Test
    void aPartnerSignatureOverAFromOfTheReceivingDomainGetsNoPass() throws Exception {
        // given a partner server that signs whatever it is given (A's own SignWithAuthHmac and the protocol's Signer
        // refuse to: the From must be in d=), here From: "CEO" <ceo@b.example> under the A-B key, d=a.example, sent on to B
        String id = "<" + UUID.randomUUID() + "@a.example>";
        String message = SmtpSender.message("\"CEO\" <ceo@b.example>", AuthHmacPair.BOB, "new bank details",
                id.substring(1, id.length() - 1), "From now on pay to account 6666.\nThe CEO\n");
        String signed = UncheckedSigning.signed(message, new SignRequest(AuthHmacPair.FIRST_KEY_ID, AuthHmacPair.A_DOMAIN,
                AuthHmacPair.B_DOMAIN, Instant.now()), StaticPeriodKeys.of(AuthHmacPair.FIRST_KEY_ID, pair.partnerSecretForTests()));
        SmtpSender.mta(pair.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), signed);

        // then B records no pass for it: the signature is A's, the From is b.example; it is held, and the
        // Authentication-Results names the From domain that was checked
        JsonNode held = awaitHeldNotDelivered(id);
        assertThat(WebAdminClient.attribute(held, "org.authhmac.result")).isIn("fail", "permerror");
        assertThat(held.path("headers").toString()).contains("header.from=b.example").doesNotContain("auth-hmac=pass");
        assertThat(pair.bobInbox().findByMessageId(id)).isEmpty();
    }

    /** Waits until the mail is either held in B's quarantine or in bob's INBOX; fails at once when delivered. */
    private static JsonNode awaitHeldNotDelivered(String messageId) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        WebAdminClient admin = pair.b().webAdmin();
        while (System.nanoTime() < deadline) {
            Optional<JsonNode> held = admin.mailKeys(QUARANTINE).stream().map(k -> admin.mail(QUARANTINE, k))
                    .filter(m -> m.path("headers").toString().contains(messageId)).findFirst();
            if (held.isPresent()) {
                return held.get();
            }
            List<ImapReader.Received> delivered = pair.bobInbox().findByMessageId(messageId);
            assertThat(delivered).as("delivered to bob's INBOX instead of being held; its Authentication-Results: %s",
                    delivered.stream().map(r -> r.header("Authentication-Results")).toList()).isEmpty();
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("neither held nor delivered within 60 s: " + messageId + "; B log:\n" + pair.b().logTail(60));
    }
}
