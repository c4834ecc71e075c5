package org.authhmac.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.it.AuthHmacPair;
import org.authhmac.it.JamesRuntime;
import org.authhmac.it.SmtpSender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Issue 6, "End-to-end throughput": mails per second delivered from A to bob's INBOX on B, first with the same
 * pipeline minus our mailets and matcher (generated from james-conf by removing every mailet whose class or matcher
 * is org.authhmac.*), then with james-conf as shipped. A benchmark, not a test: it runs only with
 * -Dauthhmac.e2e.throughput=true; -Dauthhmac.throughput.mails (2000), .connections (4), .kb (10).
 */
@EnabledIfSystemProperty(named = "authhmac.e2e.throughput", matches = "true")
class EndToEndThroughputIT {
    private static final Pattern OUR_MAILET = Pattern.compile(
            "<mailet\\s[^>]*org\\.authhmac\\.[^>]*?(/>|>.*?</mailet>)", Pattern.DOTALL);

    /** A mailetcontainer.xml without our mailets and matchers: the rest of the pipeline unchanged. */
    static String withoutAuthHmac(String mailetContainer) {
        Matcher m = OUR_MAILET.matcher(mailetContainer);
        String stripped = m.replaceAll("");
        if (stripped.equals(mailetContainer)) {
            throw new IllegalStateException("no org.authhmac mailet found to remove");
        }
        return stripped;
    }

    record Run(String mode, int mails, double submitSeconds, double deliveredSeconds, String loadBefore, String loadAfter) {
        double mailsPerSecond() {
            return mails / deliveredSeconds;
        }
    }

    @Test
    void mailsPerSecondFromAToBWithAndWithoutTheExtension() throws Exception {
        int mails = Integer.getInteger("authhmac.throughput.mails", 2000);
        int connections = Integer.getInteger("authhmac.throughput.connections", 4);
        int kb = Integer.getInteger("authhmac.throughput.kb", 10);
        Run bare = run("bare", true, mails, connections, kb);
        Run ours = run("auth-hmac", false, mails, connections, kb);
        double ratio = ours.mailsPerSecond() / bare.mailsPerSecond();
        for (Run r : List.of(bare, ours)) {
            System.out.printf("throughput %s: %d mails of %d KB over %d connections: submitted in %.1f s, all in bob's INBOX after %.1f s = %.1f mails/s; loadavg before %s after %s%n",
                    r.mode(), r.mails(), kb, connections, r.submitSeconds(), r.deliveredSeconds(), r.mailsPerSecond(), r.loadBefore(), r.loadAfter());
        }
        System.out.printf("throughput ratio auth-hmac/bare = %.3f (loss %.1f %%)%n", ratio, (1 - ratio) * 100);
        assertThat(ratio).isPositive();
    }

    private static Run run(String mode, boolean stripped, int mails, int connections, int kb) throws Exception {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "throughput-" + mode);
        Path bundle = JamesRuntime.javaxBundleJar();
        Path sending = SwtpmKillsDuringMailRunIT.repo("james-conf/sending");
        Path receiving = SwtpmKillsDuringMailRunIT.repo("james-conf/receiving");
        String sendingXml = Files.readString(sending.resolve("mailetcontainer.xml"));
        String receivingXml = Files.readString(receiving.resolve("mailetcontainer.xml"));
        try (AuthHmacPair pair = AuthHmacPair.start(root, new AuthHmacPair.Layout(sending, receiving), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(bundle).confFile("mailetcontainer.xml", stripped ? withoutAuthHmac(sendingXml) : sendingXml),
                b -> b.extensionJar(bundle).confFile("mailetcontainer.xml", stripped ? withoutAuthHmac(receivingXml) : receivingXml),
                port -> port)) {
            String run = UUID.randomUUID().toString().substring(0, 8);
            String body = ("0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 the quick fox.\n")
                    .repeat(Math.max(1, kb * 1024 / 100));
            // warm-up: one mail through the whole path, so both servers have loaded their classes and keys
            pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                    SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "warm-up", "warm-" + run + "@a.example", body));
            pair.bobInbox().awaitMessageId("<warm-" + run + "@a.example>", Duration.ofSeconds(60)).orElseThrow();
            int before = pair.bobInbox().count();

            String loadBefore = Files.readString(Path.of("/proc/loadavg")).trim();
            long t0 = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(connections);
            List<Future<?>> sessions = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                int from = c * mails / connections;
                int to = (c + 1) * mails / connections;
                sessions.add(pool.submit(() -> {
                    SmtpSender alice = pair.aliceSubmission();
                    for (int start = from; start < to; start += 50) {
                        List<String> batch = new ArrayList<>();
                        for (int i = start; i < Math.min(to, start + 50); i++) {
                            batch.add(SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "tp " + i, "tp-" + run + "-" + i + "@a.example", body));
                        }
                        alice.sendAll(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), batch);
                    }
                }));
            }
            for (Future<?> f : sessions) {
                f.get();
            }
            pool.shutdown();
            double submitted = (System.nanoTime() - t0) / 1e9;
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            int count = before;
            while (count - before < mails && System.nanoTime() < deadline) {
                Thread.sleep(500);
                count = pair.bobInbox().count();
            }
            double delivered = (System.nanoTime() - t0) / 1e9;
            String loadAfter = Files.readString(Path.of("/proc/loadavg")).trim();
            assertThat(count - before).as(mode + ": mails in bob's INBOX").isEqualTo(mails);
            return new Run(mode, mails, submitted, delivered, loadBefore, loadAfter);
        }
    }
}
