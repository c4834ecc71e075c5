package org.authhmac.testcontainers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

/** One receiving James in a container: the test is its partner a.example and signs with the key the container exported. */
@ExtendWith(ContainerRuntime.class)
@Testcontainers
class ReceivingJamesIT {
    static final String BOB = "bob@b.example";
    static final String BOB_PASSWORD = "bob-secret";
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";

    @Container
    static AuthHmacJames james = AuthHmacJames.receiving("b.example")
            .withPartner("a.example", "a-b")
            .withUser(BOB, BOB_PASSWORD);

    @Test
    void mailSignedWithTheExportedPartnerKeyReachesBobWithPass() throws Exception {
        // given alice's mail, signed by the test for b.example with the key the container's vault holds
        String id = UUID.randomUUID() + "@a.example";
        String message = SmtpSender.message("alice@a.example", BOB, "signed by the test", id, "Hello Bob.\n");
        PartnerKey key = james.exportedKey("a-b");
        List<String> signature = new Signer(SignerSettings.defaults()).sign(
                new ByteArrayInputStream(message.getBytes(StandardCharsets.UTF_8)),
                List.of(new SignRequest(key.keyId(), "a.example", "b.example", Instant.now())), key.periodKeys());

        // when it is sent over SMTP to bob@b.example
        SmtpSender.mta(james.smtpPort()).send("alice@a.example", List.of(BOB), signature.get(0) + "\r\n" + message);

        // then bob reads it over IMAP with James's verdict pass
        ImapReader.Received read = new ImapReader(james.imapPort(), BOB, BOB_PASSWORD)
                .awaitMessageId("<" + id + ">", Duration.ofSeconds(60)).orElseThrow();
        assertThat(read.header("Authentication-Results")).anySatisfy(v -> assertThat(v).contains("auth-hmac=pass"));
    }

    @Test
    void anUnsignedForgeryIsHeldInTheQuarantine() {
        // given a mail claiming alice@a.example without any signature
        String id = UUID.randomUUID() + "@a.example";
        String forged = SmtpSender.message("alice@a.example", BOB, "pay to account 6666", id, "Urgent.\n");

        // when it is sent to bob
        SmtpSender.mta(james.smtpPort()).send("alice@a.example", List.of(BOB), forged);

        // then WebAdmin lists it in the quarantine, as none, and bob's INBOX never gets it
        JsonNode held = awaitHeld(james.webAdmin(), id);
        assertThat(WebAdminClient.attribute(held, "org.authhmac.result")).isEqualTo("none");
        assertThat(new ImapReader(james.imapPort(), BOB, BOB_PASSWORD).findByMessageId("<" + id + ">")).isEmpty();
    }

    static JsonNode awaitHeld(WebAdminClient admin, String messageId) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<JsonNode> held = admin.mailKeys(QUARANTINE).stream().map(k -> admin.mail(QUARANTINE, k))
                    .filter(m -> m.path("headers").toString().contains(messageId)).findFirst();
            if (held.isPresent()) {
                return held.get();
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("not in " + QUARANTINE + " after 60 s: " + messageId);
    }
}
