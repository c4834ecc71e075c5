package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.SmtpSender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The infrastructure alone, before any of our mailets: two real James 3.8.1 servers on loopback relay mail to each
 * other through RemoteDelivery's gateway, and the recipient reads it over IMAP. If this fails, every other e2e
 * failure is about the harness, not about X-Auth-HMAC.
 */
class TwoJamesServersIT {
    private static JamesServerProcess a;
    private static JamesServerProcess b;

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "plain-pair");
        a = JamesServerProcess.builder("a", root.resolve("a")).baseConf().build();
        b = JamesServerProcess.builder("b", root.resolve("b")).baseConf().build();
        a.gatewayTo(b.ports().smtp()).prepare();
        b.gatewayTo(a.ports().smtp()).prepare();
        long t0 = System.nanoTime();
        a.launch();
        b.launch();
        a.awaitHealthy(Duration.ofSeconds(90));
        b.awaitHealthy(Duration.ofSeconds(90));
        System.out.printf("two James 3.8.1 servers healthy in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        a.webAdmin().addDomain("a.example");
        a.webAdmin().addUser("alice@a.example", "alice-secret");
        b.webAdmin().addDomain("b.example");
        b.webAdmin().addUser("bob@b.example", "bob-secret");
    }

    @AfterAll
    static void stopPair() {
        if (a != null) {
            a.stop();
        }
        if (b != null) {
            b.stop();
        }
    }

    @Test
    void mailSubmittedOnAIsRelayedToBAndReadOverImap() {
        // given a message submitted by alice on A with SMTP AUTH
        String id = UUID.randomUUID() + "@a.example";
        SmtpSender.submission(a.ports().submission(), "alice@a.example", "alice-secret")
                .send("alice@a.example", List.of("bob@b.example"),
                        SmtpSender.message("alice@a.example", "bob@b.example", "plain relay", id, "hello bob"));

        // then bob finds it in his INBOX on B
        var received = new ImapReader(b.ports().imap(), "bob@b.example", "bob-secret").awaitMessageId("<" + id + ">", Duration.ofSeconds(30));
        assertThat(received).as("message relayed A -> B").isPresent();
        assertThat(received.get().body()).contains("hello bob");
    }

    @Test
    void serverToServerPortRefusesToRelayForStrangers() {
        // given a stranger connecting to B's port 25 (no AUTH) from loopback, which B does not trust
        String id = UUID.randomUUID() + "@elsewhere.example";
        SmtpSender stranger = SmtpSender.mta(b.ports().smtp());

        // then B refuses the recipient at RCPT time: a peer on the same host is not an authorized relay
        assertThatThrownBy(() -> stranger.send("x@elsewhere.example", List.of("someone@c.example"),
                SmtpSender.message("x@elsewhere.example", "someone@c.example", "open relay?", id, "no")))
                .rootCause().hasMessageContaining("relaying denied");
    }
}
