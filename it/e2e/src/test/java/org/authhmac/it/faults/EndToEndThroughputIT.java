package org.authhmac.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.it.AuthHmacPair;
import org.authhmac.it.JamesMetrics;
import org.authhmac.it.JamesRuntime;
import org.authhmac.it.SmtpSender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Issue 6, "End-to-end throughput": mails per second delivered from A to bob's INBOX on B, first with the same
 * pipeline minus our mailets and matcher (generated from james-conf by removing every mailet whose class or matcher
 * is org.authhmac.*), then with james-conf as shipped. A benchmark, not a test: it runs only with
 * -Dauthhmac.e2e.throughput=true; -Dauthhmac.throughput.mails (2000), .connections (4), .kb (10).
 *
 * <p>"The p99 added latency per mail inside the pipeline" comes from the servers' own timers, read over WebAdmin's
 * /metrics (JamesMetrics): James times every mailet and matcher call by class name (ProcessorImpl, MatcherSplitter),
 * and our mailets time their own work (authhmac.sign.time, authhmac.verify.time). What the test can fail on: each
 * of those timers must have run exactly once per mail (warm-up included) in the run with the extension, and never
 * in the run without it. The figures go to stdout and, as JSON, to -Dauthhmac.throughput.json (bench/run --e2e
 * merges that file into bench/results/latest.json).
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

    /**
     * The harness starts James with C1 only (quick start-up for short tests); a throughput figure needs the JIT a
     * production server runs, so this later flag overrides it (HotSpot takes the last occurrence of a -XX flag).
     */
    static final String FULL_JIT = "-XX:TieredStopAtLevel=4";

    /** Where our pipeline steps run, and the timer James (or our code) keeps for each. */
    record Stage(String server, String timer, String what) {
    }

    /** James's own timers around our mailets and matcher: their sum per mail is what the extension adds. */
    static final List<Stage> ADDED = List.of(
            new Stage("a", "SignWithAuthHmac", "James's timer of the signing mailet (A, relay processor)"),
            new Stage("b", "AuthHmacFailed", "James's timer of the verifying matcher (B, auth-hmac-verify processor)"),
            new Stage("b", "AuthHmacQuarantine", "James's timer of the quarantine mailet (B; runs only for matched mail)"),
            new Stage("b", "SignForMailbox", "James's timer of the mailbox-signing mailet (B, auth-hmac-deliver processor)"));
    /** Our own timers inside those steps, and James's delivery mailets for scale. */
    static final List<Stage> CONTEXT = List.of(
            new Stage("a", "authhmac.sign.time", "our timer inside SignWithAuthHmac: key lookup, 7-bit, saveChanges, sign, prepend"),
            new Stage("b", "authhmac.verify.time", "our timer inside AuthHmacFailed: verification of all pending recipients"),
            new Stage("b", "authhmac.mailbox.sign.time", "our timer inside SignForMailbox"),
            new Stage("a", "RemoteDelivery", "James: RemoteDelivery mailet (queues to outgoing)"),
            new Stage("b", "LocalDelivery", "James: LocalDelivery mailet (in-memory mailbox)"));

    record Timed(Stage stage, JamesMetrics.Timer timer) {
    }

    record Run(String mode, int mails, double submitSeconds, double deliveredSeconds, String loadBefore, String loadAfter,
               JamesMetrics a, JamesMetrics b, String jamesJvmOptions) {
        double mailsPerSecond() {
            return mails / deliveredSeconds;
        }

        JamesMetrics on(String server) {
            return server.equals("a") ? a : b;
        }

        List<Timed> timers(List<Stage> stages) {
            List<Timed> out = new ArrayList<>();
            for (Stage s : stages) {
                on(s.server()).timer(s.timer()).ifPresent(t -> out.add(new Timed(s, t)));
            }
            return out;
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

        List<Timed> added = ours.timers(ADDED);
        List<Timed> context = ours.timers(CONTEXT);
        for (Timed t : added) {
            System.out.printf("added latency %s %s: count %d, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms%n", t.stage().server(), t.timer().name(),
                    t.timer().count(), t.timer().p50Millis(), t.timer().p99Millis(), t.timer().maxQuantileSeconds() * 1e3);
        }
        for (Timed t : context) {
            System.out.printf("context %s %s: count %d, p50 %.3f ms, p99 %.3f ms%n", t.stage().server(), t.timer().name(),
                    t.timer().count(), t.timer().p50Millis(), t.timer().p99Millis());
        }
        double sumP50 = added.stream().mapToDouble(t -> t.timer().p50Millis()).sum();
        double sumP99 = added.stream().mapToDouble(t -> t.timer().p99Millis()).sum();
        System.out.printf("added latency per mail (sum over our pipeline steps): p50 %.3f ms, sum of p99s %.3f ms%n", sumP50, sumP99);
        writeJson(mails, connections, kb, bare, ours, ratio, added, context, sumP50, sumP99);

        // then every one of our steps ran once per mail (the warm-up mail included) with the extension, and never without it
        long perMail = mails + 1L;
        assertThat(ours.a().timer("SignWithAuthHmac")).as("James's timer of SignWithAuthHmac on A")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        assertThat(ours.a().timer("authhmac.sign.time")).as("authhmac.sign.time on A")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        assertThat(ours.a().counter("authhmac.sign.signed")).as("authhmac.sign.signed on A").isEqualTo(perMail);
        assertThat(ours.b().timer("AuthHmacFailed")).as("James's timer of the AuthHmacFailed matcher on B")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        assertThat(ours.b().timer("authhmac.verify.time")).as("authhmac.verify.time on B")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        assertThat(ours.b().counter("authhmac.verify.result.pass")).as("pass verdicts on B").isEqualTo(perMail);
        assertThat(ours.b().timer("SignForMailbox")).as("James's timer of SignForMailbox on B")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        for (String absent : List.of("SignWithAuthHmac", "authhmac.sign.time")) {
            assertThat(bare.a().timer(absent)).as(absent + " on A without the extension").isEmpty();
        }
        for (String absent : List.of("AuthHmacFailed", "authhmac.verify.time", "SignForMailbox")) {
            assertThat(bare.b().timer(absent)).as(absent + " on B without the extension").isEmpty();
        }
        assertThat(ratio).isPositive();
    }

    private static void writeJson(int mails, int connections, int kb, Run bare, Run ours, double ratio,
                                  List<Timed> added, List<Timed> context, double sumP50, double sumP99) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("generated", Instant.now().toString());
        out.put("test", "it/e2e org.authhmac.it.faults.EndToEndThroughputIT");
        out.put("what", "mails delivered from A (alice, submission) to bob's INBOX on B, two James 3.8.1 memory servers with swtpm, "
                + "james-conf as shipped vs the same pipeline without our mailets and matcher; one run of each, bare first");
        out.put("mails", mails);
        out.put("connections", connections);
        out.put("messageSize", Map.of("value", kb, "unit", "KB"));
        out.put("jamesJvmOptions", ours.jamesJvmOptions());
        for (Run r : List.of(bare, ours)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mailsPerSecond", Map.of("value", round(r.mailsPerSecond(), 2), "unit", "mails/s"));
            m.put("submitted", Map.of("value", round(r.submitSeconds(), 1), "unit", "s"));
            m.put("allDelivered", Map.of("value", round(r.deliveredSeconds(), 1), "unit", "s"));
            m.put("loadAverageBefore", r.loadBefore());
            m.put("loadAverageAfter", r.loadAfter());
            out.put(r == bare ? "withoutExtension" : "withExtension", m);
        }
        out.put("ratio", Map.of("value", round(ratio, 3), "unit", "with/without mails per second", "goal", ">= 0.95"));
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("unit", "ms");
        latency.put("source", "James's DropWizard timers over WebAdmin /metrics; quantiles from the default exponentially "
                + "decaying reservoir (1,028 samples, weighted to the last 5 minutes), counts exact");
        latency.put("perMailSumOfP50", round(sumP50, 3));
        latency.put("perMailSumOfP99", round(sumP99, 3));
        latency.put("note", "per mail = the sum over our steps (A: SignWithAuthHmac; B: AuthHmacFailed, AuthHmacQuarantine if it ran, "
                + "SignForMailbox); a sum of p99s is conservative: one mail reaches it only if its slow moments coincide in every step");
        latency.put("steps", timersJson(added));
        latency.put("inside", timersJson(context));
        out.put("addedLatency", latency);
        Path file = Path.of(System.getProperty("authhmac.throughput.json",
                Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work")).resolveSibling("e2e-throughput.json").toString()));
        Files.createDirectories(file.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), out);
        System.out.println("figures written to " + file.toAbsolutePath());
    }

    private static List<Map<String, Object>> timersJson(List<Timed> timers) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Timed t : timers) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("server", t.stage().server().toUpperCase());
            m.put("timer", t.timer().name());
            m.put("what", t.stage().what());
            m.put("count", t.timer().count());
            m.put("p50", round(t.timer().p50Millis(), 4));
            m.put("p99", round(t.timer().p99Millis(), 4));
            m.put("p999", round(t.timer().maxQuantileSeconds() * 1e3, 4));
            out.add(m);
        }
        return out;
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static Run run(String mode, boolean stripped, int mails, int connections, int kb) throws Exception {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "throughput-" + mode);
        Path bundle = JamesRuntime.javaxBundleJar();
        Path sending = SwtpmKillsDuringMailRunIT.repo("james-conf/sending");
        Path receiving = SwtpmKillsDuringMailRunIT.repo("james-conf/receiving");
        String sendingXml = Files.readString(sending.resolve("mailetcontainer.xml"));
        String receivingXml = Files.readString(receiving.resolve("mailetcontainer.xml"));
        try (AuthHmacPair pair = AuthHmacPair.start(root, new AuthHmacPair.Layout(sending, receiving), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(bundle).confFile("mailetcontainer.xml", stripped ? withoutAuthHmac(sendingXml) : sendingXml)
                        .properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES).jvmOption(FULL_JIT),
                b -> b.extensionJar(bundle).confFile("mailetcontainer.xml", stripped ? withoutAuthHmac(receivingXml) : receivingXml)
                        .properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES).jvmOption(FULL_JIT),
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
            // every mail is in the INBOX, so every timer of the pipeline has been published
            String jvm = String.join(" ", ProcessHandle.of(pair.a().pid()).flatMap(h -> h.info().arguments())
                    .map(args -> java.util.Arrays.stream(args).filter(x -> x.startsWith("-X")).toList()).orElse(List.of()));
            return new Run(mode, mails, submitted, delivered, loadBefore, loadAfter, JamesMetrics.scrape(pair.a()), JamesMetrics.scrape(pair.b()), jvm);
        }
    }
}
