package org.authhmac.testcontainers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.SmtpSender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

/** A sending and a receiving James on one network, each with its own TPM holding the same partner key. */
@ExtendWith(ContainerRuntime.class)
@Testcontainers
class SendingAndReceivingPairIT {
    @Container
    static AuthHmacJames b = AuthHmacJames.receiving("b.example")
            .withPartner("a.example", "a-b")
            .withUser("bob@b.example", "bob-secret");

    @Container
    static AuthHmacJames a = AuthHmacJames.sending("a.example")
            .relayingTo(b)
            .withUser("alice@a.example", "alice-secret");

    @Test
    void aliceMailSignedByAReachesBobWithPass() {
        // given alice writes to bob through her server's submission port
        String id = UUID.randomUUID() + "@a.example";
        String message = SmtpSender.message("alice@a.example", "bob@b.example", "quarterly figures", id, "In the shared folder.\n");

        // when A signs it and relays it to B
        SmtpSender.submission(a.submissionPort(), "alice@a.example", "alice-secret")
                .send("alice@a.example", List.of("bob@b.example"), message);

        // then bob reads it on B, verified: X-Auth-HMAC from A, auth-hmac=pass from B
        ImapReader.Received read = new ImapReader(b.imapPort(), "bob@b.example", "bob-secret")
                .awaitMessageId("<" + id + ">", Duration.ofSeconds(90)).orElseThrow();
        assertThat(read.header("Authentication-Results")).anySatisfy(v -> assertThat(v).contains("auth-hmac=pass"));
    }
}
