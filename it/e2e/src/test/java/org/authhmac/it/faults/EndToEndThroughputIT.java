package org.authhmac.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.JamesMetrics;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.SmtpSender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * End-to-end throughput: mails per second delivered from A to bob's INBOX on B, with james-conf as shipped
 * and with the same pipeline minus our mailets and matcher (generated from james-conf by removing every mailet whose
 * class or matcher is org.authhmac.*). A benchmark, not a test: it runs only with -Dauthhmac.e2e.throughput=true.
 *
 * <p>Why interleaved rounds: on a shared 2-core machine the load moves the rate of two runs made one after the other
 * by more than our mailets cost (ratios 0.82 to 0.97 in three such runs). So both pairs of servers start first and
 * stay up, and the mails go in rounds in the order bare, ours, ours, bare, repeated (ABBA: a load that rises or falls
 * steadily hits both the same); each round has the same number of mails over the same SMTP connections and is timed
 * from its first submission to its last mail in bob's INBOX. Each "ours" round is compared with the bare round next
 * to it, which gives one ratio per pair of rounds; their mean and 95% interval answer the 5% goal, or say that this
 * run cannot. -Dauthhmac.throughput.mails (2000 per pipeline), .rounds (6 per pipeline, even), .warmup (200 untimed
 * mails per pipeline first), .connections (4), .kb (10); .control=true runs both pairs without our mailets (an A/A check of the method).
 *
 * <p>"The p99 added latency per mail inside the pipeline" comes from the servers' own timers, read over WebAdmin's
 * /metrics (JamesMetrics): James times every mailet and matcher call by class name (ProcessorImpl, MatcherSplitter),
 * and our mailets time their own work (authhmac.sign.time, authhmac.verify.time). What the test can fail on: every
 * mail of every round reaches bob, and each of those timers ran exactly once per mail sent through the pipeline with
 * the extension, and never in the one without it. (James 3.8.1 sometimes stores a mail twice, see round(); such
 * copies are counted and reported, not failed on: they are James's, in both pipelines, and lose nothing.) The figures go to stdout and, as JSON, to
 * -Dauthhmac.throughput.json (bench/run --e2e merges that file into bench/results/latest.json).
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

    static final String BARE = "bare";
    static final String OURS = "auth-hmac";
    /** One block of rounds; repeated, it keeps each pipeline's rounds next to the other's. */
    static final List<String> ABBA = List.of(BARE, OURS, OURS, BARE);
    /** The goal: under 5% fewer mails per second with the extension. */
    static final double GOAL_RATIO = 0.95;

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

    /** The servers' registries of one pipeline, scraped after its last round. */
    record Metrics(JamesMetrics a, JamesMetrics b) {
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

    /** One timed round; cpuSeconds is what both James JVMs of that pipeline used during it. */
    record Round(int index, String pipeline, int mails, double submitSeconds, double deliveredSeconds, double cpuSeconds,
                 String loadBefore, String loadAfter, int duplicates, double cpuSecondsA) {
        double mailsPerSecond() {
            return mails / deliveredSeconds;
        }

        double cpuMillisPerMail() {
            return cpuSeconds * 1e3 / mails;
        }

        double cpuMillisPerMailA() {
            return cpuSecondsA * 1e3 / mails;
        }
    }

    /** Mean, range and two-sided 95% Student-t interval of the mean of a few per-round figures. */
    record Summary(int n, double mean, double min, double max, double low95, double high95) {
        private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
                2.056, 2.052, 2.048, 2.045, 2.042};

        static Summary of(List<Double> xs) {
            int n = xs.size();
            double mean = xs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double min = xs.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            double max = xs.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            if (n < 2) {
                return new Summary(n, mean, min, max, Double.NaN, Double.NaN);
            }
            double ss = xs.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum();
            double half = (n - 1 <= T975.length ? T975[n - 2] : 1.96) * Math.sqrt(ss / (n - 1) / n);
            return new Summary(n, mean, min, max, mean - half, mean + half);
        }

        Map<String, Object> json(int digits) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mean", round(mean, digits));
            m.put("min", round(min, digits));
            m.put("max", round(max, digits));
            m.put("low95", round(low95, digits));
            m.put("high95", round(high95, digits));
            m.put("n", n);
            return m;
        }
    }

    @Test
    void mailsPerSecondFromAToBWithAndWithoutTheExtension() throws Exception {
        int mails = Integer.getInteger("authhmac.throughput.mails", 2000);
        int roundsPerPipeline = Integer.getInteger("authhmac.throughput.rounds", 6);
        int warmup = Integer.getInteger("authhmac.throughput.warmup", 200);
        int connections = Integer.getInteger("authhmac.throughput.connections", 4);
        int kb = Integer.getInteger("authhmac.throughput.kb", 10);
        // an A/A check of the method: both pairs run the pipeline without our mailets, so the ratio should be 1
        boolean control = Boolean.getBoolean("authhmac.throughput.control");
        if (control) {
            System.out.println("CONTROL RUN (-Dauthhmac.throughput.control=true): the pair labelled " + OURS + " also runs without our mailets");
        }
        if (roundsPerPipeline < 2 || roundsPerPipeline % 2 != 0) {
            throw new IllegalArgumentException("authhmac.throughput.rounds must be even and at least 2 (ABBA blocks): " + roundsPerPipeline);
        }
        int perRound = mails / roundsPerPipeline;
        String body = ("0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 the quick fox.\n")
                .repeat(Math.max(1, kb * 1024 / 100));
        String loadAtStart = loadavg();

        List<Round> rounds = new ArrayList<>();
        Metrics bareMetrics;
        Metrics oursMetrics;
        String jvm;
        try (AuthHmacPair bare = start(BARE, true); AuthHmacPair ours = start(OURS, control)) {
            Map<String, AuthHmacPair> pairs = Map.of(BARE, bare, OURS, ours);
            // given both pipelines up and warm: one mail through the whole path (class loading, the first TPM
            // derivation), then an untimed round so that C2 has compiled the hot paths of both
            for (String p : List.of(BARE, OURS)) {
                String id = "warm-" + p + "-" + UUID.randomUUID().toString().substring(0, 8) + "@a.example";
                pairs.get(p).aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                        SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "warm-up", id, body));
                pairs.get(p).bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(60)).orElseThrow();
                if (warmup > 0) {
                    round(0, p, pairs.get(p), warmup, connections, body);
                }
            }
            // when the rounds go bare, ours, ours, bare, ...
            int index = 0;
            for (int block = 0; block < roundsPerPipeline / 2; block++) {
                for (String p : ABBA) {
                    Round r = round(++index, p, pairs.get(p), perRound, connections, body);
                    rounds.add(r);
                    System.out.printf("round %2d %-9s %d mails: submitted in %.2f s, all in bob's INBOX after %.2f s = %.2f mails/s, "
                                    + "James CPU %.2f ms/mail (A %.2f), %d stored twice; loadavg before %s after %s%n", r.index(), r.pipeline(), r.mails(),
                            r.submitSeconds(), r.deliveredSeconds(), r.mailsPerSecond(), r.cpuMillisPerMail(), r.cpuMillisPerMailA(), r.duplicates(),
                            r.loadBefore(), r.loadAfter());
                }
            }
            // every mail is in the INBOX, so every timer of the pipeline has been published
            bareMetrics = new Metrics(JamesMetrics.scrape(bare.a()), JamesMetrics.scrape(bare.b()));
            oursMetrics = new Metrics(JamesMetrics.scrape(ours.a()), JamesMetrics.scrape(ours.b()));
            jvm = String.join(" ", ProcessHandle.of(ours.a().pid()).flatMap(h -> h.info().arguments())
                    .map(args -> java.util.Arrays.stream(args).filter(x -> x.startsWith("-X")).toList()).orElse(List.of()));
        }
        String loadAtEnd = loadavg();

        // then: the ratio per pair of neighbouring rounds (ABBA keeps the i-th round of each pipeline next to the other's)
        List<Round> bareRounds = rounds.stream().filter(r -> r.pipeline().equals(BARE)).toList();
        List<Round> oursRounds = rounds.stream().filter(r -> r.pipeline().equals(OURS)).toList();
        List<Double> ratios = new ArrayList<>();
        List<Double> addedCpu = new ArrayList<>();
        List<Double> addedCpuA = new ArrayList<>();
        for (int i = 0; i < bareRounds.size(); i++) {
            ratios.add(oursRounds.get(i).mailsPerSecond() / bareRounds.get(i).mailsPerSecond());
            addedCpu.add(oursRounds.get(i).cpuMillisPerMail() - bareRounds.get(i).cpuMillisPerMail());
            addedCpuA.add(oursRounds.get(i).cpuMillisPerMailA() - bareRounds.get(i).cpuMillisPerMailA());
        }
        Summary ratio = Summary.of(ratios);
        Summary bareRate = Summary.of(bareRounds.stream().map(Round::mailsPerSecond).toList());
        Summary oursRate = Summary.of(oursRounds.stream().map(Round::mailsPerSecond).toList());
        Summary bareCpu = Summary.of(bareRounds.stream().map(Round::cpuMillisPerMail).toList());
        Summary oursCpu = Summary.of(oursRounds.stream().map(Round::cpuMillisPerMail).toList());
        Summary cpuAdded = Summary.of(addedCpu);
        Summary cpuAddedA = Summary.of(addedCpuA);
        String verdict = ratio.low95() > GOAL_RATIO ? "met: the whole 95% interval of the ratio is above " + GOAL_RATIO
                : ratio.high95() < GOAL_RATIO ? "missed: the whole 95% interval of the ratio is below " + GOAL_RATIO
                : "undecided: the 95% interval of the ratio contains " + GOAL_RATIO;
        System.out.printf("pipeline %s: mean %.2f mails/s (min %.2f, max %.2f), James CPU %.3f ms/mail; %s: mean %.2f mails/s (min %.2f, max %.2f), James CPU %.3f ms/mail%n",
                BARE, bareRate.mean(), bareRate.min(), bareRate.max(), bareCpu.mean(), OURS, oursRate.mean(), oursRate.min(), oursRate.max(), oursCpu.mean());
        System.out.printf("ratio %s/%s per pair of rounds: %s%n", OURS, BARE,
                String.join(", ", ratios.stream().map(x -> String.format("%.3f", x)).toList()));
        System.out.printf("ratio mean %.3f, min %.3f, max %.3f, 95%% interval %.3f .. %.3f (n=%d); ratio of the mean rates %.3f; goal >= %.2f %s%n",
                ratio.mean(), ratio.min(), ratio.max(), ratio.low95(), ratio.high95(), ratio.n(), oursRate.mean() / bareRate.mean(), GOAL_RATIO, verdict);
        System.out.printf("James CPU added per mail (A + B JVMs, %s minus %s, per pair of rounds): mean %.3f ms, 95%% interval %.3f .. %.3f%n",
                OURS, BARE, cpuAdded.mean(), cpuAdded.low95(), cpuAdded.high95());
        System.out.printf("  of which on A: mean %.3f ms, 95%% interval %.3f .. %.3f; on B: mean %.3f ms%n",
                cpuAddedA.mean(), cpuAddedA.low95(), cpuAddedA.high95(), cpuAdded.mean() - cpuAddedA.mean());
        System.out.printf("loadavg at start %s, at end %s%n", loadAtStart, loadAtEnd);

        List<Timed> added = oursMetrics.timers(ADDED);
        List<Timed> context = oursMetrics.timers(CONTEXT);
        for (Timed t : added) {
            System.out.printf("added latency %s %s: count %d, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms%n", t.stage().server(), t.timer().name(),
                    t.timer().count(), t.timer().p50Millis(), t.timer().p99Millis(), t.timer().maxQuantileSeconds() * 1e3);
        }
        for (Timed t : context) {
            System.out.printf("context %s %s: count %d, p50 %.3f ms, p99 %.3f ms%n", t.stage().server(), t.timer().name(),
                    t.timer().count(), t.timer().p50Millis(), t.timer().p99Millis());
        }
        // where the time goes: every timer that ran at least once per timed mail, in both pipelines side by side
        java.util.TreeSet<String> names = new java.util.TreeSet<>();
        for (Metrics m : List.of(bareMetrics, oursMetrics)) {
            for (JamesMetrics reg : List.of(m.a(), m.b())) {
                reg.startingWith("").stream().filter(x -> x.name().endsWith("_count") && x.labels().isEmpty() && x.value() >= perRound * roundsPerPipeline)
                        .forEach(x -> names.add((reg == m.a() ? "a " : "b ") + x.name().substring(0, x.name().length() - "_count".length())));
            }
        }
        for (String n : names) {
            String server = n.substring(0, 1);
            String timer = n.substring(2);
            String cells = "";
            for (Metrics m : List.of(bareMetrics, oursMetrics)) {
                cells += m.on(server).timer(timer).map(t -> String.format(" | %d, p50 %.3f ms, p99 %.3f ms", t.count(), t.p50Millis(), t.p99Millis())).orElse(" | -");
            }
            System.out.printf("timer %s %s (%s | %s)%s%n", server, timer, BARE, OURS, cells);
        }
        double sumP50 = added.stream().mapToDouble(t -> t.timer().p50Millis()).sum();
        double sumP99 = added.stream().mapToDouble(t -> t.timer().p99Millis()).sum();
        System.out.printf("added latency per mail (sum over our pipeline steps): p50 %.3f ms, sum of p99s %.3f ms%n", sumP50, sumP99);

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("generated", Instant.now().toString());
        out.put("test", "it/e2e org.authhmac.it.faults.EndToEndThroughputIT");
        out.put("what", "mails delivered from A (alice, submission) to bob's INBOX on B, two James 3.8.1 memory servers with swtpm, "
                + "james-conf as shipped vs the same pipeline without our mailets and matcher; both pairs up at once, interleaved rounds");
        out.put("design", "after " + warmup + " untimed mails per pipeline, " + roundsPerPipeline + " rounds per pipeline in the order "
                + "bare, auth-hmac, auth-hmac, bare (repeated); each round timed from its first submission to its last mail in bob's INBOX "
                + "(IMAP STATUS of bob's INBOX every 200 ms on one connection, then the round's Message-IDs checked); one ratio per pair of neighbouring rounds");
        out.put("control", control);
        out.put("mails", perRound * roundsPerPipeline);
        out.put("mailsPerRound", perRound);
        out.put("roundsPerPipeline", roundsPerPipeline);
        out.put("warmUpMailsPerPipeline", warmup + 1);
        out.put("connections", connections);
        out.put("messageSize", Map.of("value", kb, "unit", "KB"));
        out.put("jamesJvmOptions", jvm);
        out.put("loadAverageAtStart", loadAtStart);
        out.put("loadAverageAtEnd", loadAtEnd);
        for (String p : List.of(BARE, OURS)) {
            List<Round> rs = p.equals(BARE) ? bareRounds : oursRounds;
            Summary rate = p.equals(BARE) ? bareRate : oursRate;
            Map<String, Object> m = new LinkedHashMap<>();
            Map<String, Object> mps = new LinkedHashMap<>();
            mps.put("value", round(rate.mean(), 2));
            mps.put("unit", "mails/s (mean over rounds)");
            mps.putAll(rate.json(2));
            m.put("mailsPerSecond", mps);
            m.put("jamesCpuPerMail", Map.of("value", round((p.equals(BARE) ? bareCpu : oursCpu).mean(), 3),
                    "unit", "ms of CPU, both James JVMs (mean over rounds)"));
            m.put("timeInRounds", Map.of("value", round(rs.stream().mapToDouble(Round::deliveredSeconds).sum(), 1), "unit", "s"));
            out.put(p.equals(BARE) ? "withoutExtension" : "withExtension", m);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("value", round(ratio.mean(), 3));
        r.put("unit", "with/without mails per second, mean of the per-pair-of-rounds ratios");
        r.put("goal", ">= " + GOAL_RATIO);
        r.put("perPairOfRounds", ratios.stream().map(x -> round(x, 3)).toList());
        r.putAll(ratio.json(3));
        r.put("ofMeanRates", round(oursRate.mean() / bareRate.mean(), 3));
        r.put("verdict", verdict);
        out.put("ratio", r);
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("unit", "ms of CPU per mail, both James JVMs, with minus without, per pair of rounds");
        cpu.putAll(cpuAdded.json(3));
        cpu.put("onA", cpuAddedA.json(3));
        out.put("addedJamesCpuPerMail", cpu);
        List<Map<String, Object>> roundsJson = new ArrayList<>();
        for (Round x : rounds) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("round", x.index());
            m.put("pipeline", x.pipeline());
            m.put("mails", x.mails());
            m.put("submittedSeconds", round(x.submitSeconds(), 2));
            m.put("allDeliveredSeconds", round(x.deliveredSeconds(), 2));
            m.put("mailsPerSecond", round(x.mailsPerSecond(), 2));
            m.put("jamesCpuMillisPerMail", round(x.cpuMillisPerMail(), 3));
            m.put("jamesCpuMillisPerMailOnA", round(x.cpuMillisPerMailA(), 3));
            m.put("storedTwiceByJames", x.duplicates());
            m.put("loadAverageBefore", x.loadBefore());
            m.put("loadAverageAfter", x.loadAfter());
            roundsJson.add(m);
        }
        out.put("rounds", roundsJson);
        out.put("addedLatency", latencyJson(added, context, sumP50, sumP99));
        writeJson(out);

        if (control) {
            for (Metrics m : List.of(bareMetrics, oursMetrics)) {
                assertThat(m.a().timer("SignWithAuthHmac")).as("SignWithAuthHmac in a control run").isEmpty();
                assertThat(m.b().timer("AuthHmacFailed")).as("AuthHmacFailed in a control run").isEmpty();
            }
            return;
        }
        // and every one of our steps ran once per mail sent through the pipeline with the extension, never without it
        long perMail = 1L + warmup + (long) perRound * roundsPerPipeline;
        assertThat(oursMetrics.a().timer("SignWithAuthHmac")).as("James's timer of SignWithAuthHmac on A")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        assertThat(oursMetrics.a().timer("authhmac.sign.time")).as("authhmac.sign.time on A")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        assertThat(oursMetrics.a().counter("authhmac.sign.signed")).as("authhmac.sign.signed on A").isEqualTo(perMail);
        assertThat(oursMetrics.b().timer("AuthHmacFailed")).as("James's timer of the AuthHmacFailed matcher on B")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        assertThat(oursMetrics.b().timer("authhmac.verify.time")).as("authhmac.verify.time on B")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        assertThat(oursMetrics.b().counter("authhmac.verify.result.pass")).as("pass verdicts on B").isEqualTo(perMail);
        assertThat(oursMetrics.b().timer("SignForMailbox")).as("James's timer of SignForMailbox on B")
                .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
        for (String absent : List.of("SignWithAuthHmac", "authhmac.sign.time")) {
            assertThat(bareMetrics.a().timer(absent)).as(absent + " on A without the extension").isEmpty();
        }
        for (String absent : List.of("AuthHmacFailed", "authhmac.verify.time", "SignForMailbox")) {
            assertThat(bareMetrics.b().timer(absent)).as(absent + " on B without the extension").isEmpty();
        }
        assertThat(ratios).as("one ratio per pair of rounds").hasSize(roundsPerPipeline).allSatisfy(x -> assertThat(x).isPositive());
    }

    private static Map<String, Object> latencyJson(List<Timed> added, List<Timed> context, double sumP50, double sumP99) {
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("unit", "ms");
        latency.put("source", "James's DropWizard timers over WebAdmin /metrics, pipeline with the extension, all its rounds and warm-up; "
                + "quantiles from the default exponentially decaying reservoir (1,028 samples, weighted to the last 5 minutes), counts exact");
        latency.put("perMailSumOfP50", round(sumP50, 3));
        latency.put("perMailSumOfP99", round(sumP99, 3));
        latency.put("note", "per mail = the sum over our steps (A: SignWithAuthHmac; B: AuthHmacFailed, AuthHmacQuarantine if it ran, "
                + "SignForMailbox); a sum of p99s is conservative: one mail reaches it only if its slow moments coincide in every step");
        latency.put("steps", timersJson(added));
        latency.put("inside", timersJson(context));
        return latency;
    }

    private static void writeJson(Map<String, Object> out) throws Exception {
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

    private static String loadavg() throws java.io.IOException {
        return Files.readString(Path.of("/proc/loadavg")).trim();
    }

    /** CPU time used so far by both James JVMs of a pair (user + system, from /proc through ProcessHandle). */
    private static double cpuSeconds(AuthHmacPair pair) {
        return cpuSeconds(pair.a().pid()) + cpuSeconds(pair.b().pid());
    }

    private static double cpuSeconds(long pid) {
        return ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration())
                .orElseThrow(() -> new IllegalStateException("no CPU time for James pid " + pid)).toNanos() / 1e9;
    }

    private static AuthHmacPair start(String pipeline, boolean stripped) throws Exception {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "throughput-" + pipeline);
        Path bundle = JamesRuntime.javaxBundleJar();
        Path sending = JamesRuntime.repoPath("james-conf/sending");
        Path receiving = JamesRuntime.repoPath("james-conf/receiving");
        String sendingXml = Files.readString(sending.resolve("mailetcontainer.xml"));
        String receivingXml = Files.readString(receiving.resolve("mailetcontainer.xml"));
        return AuthHmacPair.start(root, new AuthHmacPair.Layout(sending, receiving), AuthHmacPair.VaultKind.TPM,
                a -> flightRecorder(a.extensionJar(bundle)
                        .confFile("mailetcontainer.xml", stripped ? withoutAuthHmac(sendingXml) : sendingXml)
                        .properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES).jvmOption(FULL_JIT), pipeline, "A"),
                b -> flightRecorder(b.extensionJar(bundle)
                        .confFile("mailetcontainer.xml", stripped ? withoutAuthHmac(receivingXml) : receivingXml)
                        .properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES).jvmOption(FULL_JIT), pipeline, "B"),
                port -> port);
    }

    /** -Dauthhmac.throughput.jfr=DIR: a JFR recording (profile settings) of the server, DIR/<pipeline>-<A|B>.jfr. */
    private static void flightRecorder(JamesServerProcess.Builder server, String pipeline, String side) {
        String dir = System.getProperty("authhmac.throughput.jfr");
        if (dir == null) {
            return;
        }
        Path file = Path.of(dir).toAbsolutePath().resolve(pipeline + "-" + side + ".jfr");
        try {
            Files.createDirectories(file.getParent());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        server.jvmOption("-XX:StartFlightRecording=settings=profile,filename=" + file);
    }

    /** Sends mails over the connections (batches of 50 per SMTP session) and waits until all are in bob's INBOX. */
    private static Round round(int index, String pipeline, AuthHmacPair pair, int mails, int connections, String body) throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        java.util.Set<String> ids = new java.util.HashSet<>();
        List<List<String>> perConnection = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            List<String> messages = new ArrayList<>();
            for (int i = c * mails / connections; i < (c + 1) * mails / connections; i++) {
                String id = "tp-" + tag + "-" + index + "-" + i + "@a.example";
                ids.add("<" + id + ">");
                messages.add(SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "tp " + index + " " + i, id, body));
            }
            perConnection.add(messages);
        }
        // the previous round (maybe the other pipeline's) has drained; leave its servers a moment to finish their cleanup
        Thread.sleep(1000);
        // bob reads and deletes what he has, so every round starts on an empty INBOX in both pipelines: the memory
        // server's search index scans every stored message's header block on each delivery, a cost that grows with
        // the mailbox and with the header bytes per message, and no production index has
        pair.bobInbox().takeAll("Message-ID");
        try (Store imap = statusSession(pair)) {
            return timed(index, pipeline, pair, imap, ids, perConnection, mails);
        }
    }

    /**
     * One IMAP connection for the whole round, asking STATUS (MESSAGES) of a folder it never selects. Polling with a
     * session that SELECTs and CLOSEs INBOX (ImapReader.count) leaks one mailbox listener per poll in James 3.8.1
     * (see ImapReader.takeAll), and every later delivery then notifies all of them: B slows down by the number of polls
     * so far, and a pipeline whose rounds are longer is polled more often. The runs of 06:18 and 06:27 UTC did that.
     */
    private static Store statusSession(AuthHmacPair pair) throws MessagingException {
        Properties props = new Properties();
        props.put("mail.imap.connectiontimeout", "10000");
        props.put("mail.imap.timeout", "60000");
        props.put("mail.imap.statuscachetimeout", "0"); // Angus caches STATUS answers for 1 s by default
        Store store = Session.getInstance(props).getStore("imap");
        store.connect("127.0.0.1", pair.b().ports().imap(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD);
        return store;
    }

    private static int inboxCount(Store imap) throws MessagingException {
        return imap.getFolder("INBOX").getMessageCount();
    }

    private static Round timed(int index, String pipeline, AuthHmacPair pair, Store imap, java.util.Set<String> ids,
                               List<List<String>> perConnection, int mails) throws Exception {
        int connections = perConnection.size();
        int before = inboxCount(imap);
        String loadBefore = loadavg();
        double cpuBefore = cpuSeconds(pair);
        double cpuBeforeA = cpuSeconds(pair.a().pid());
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        try {
            List<Future<?>> sessions = new ArrayList<>();
            for (List<String> messages : perConnection) {
                sessions.add(pool.submit(() -> {
                    SmtpSender alice = pair.aliceSubmission();
                    for (int start = 0; start < messages.size(); start += 50) {
                        alice.sendAll(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), messages.subList(start, Math.min(messages.size(), start + 50)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : sessions) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        double submitted = (System.nanoTime() - t0) / 1e9;
        // done when every Message-ID of the round is in the INBOX. The count says when to look: James 3.8.1 may store a
        // mail twice (its in-VM event bus can throw ConcurrentModificationException after LocalDelivery stored the mail,
        // while an IMAP session registers a listener; MailDispatcher then retries the store), so count alone can run ahead.
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        double delivered;
        java.util.Set<String> missing = ids;
        int count;
        do {
            Thread.sleep(200);
            count = inboxCount(imap);
            delivered = (System.nanoTime() - t0) / 1e9;
            if (count - before >= mails) {
                missing = new java.util.HashSet<>(ids);
                missing.removeAll(pair.bobInbox().messageIds());
            }
        } while (!missing.isEmpty() && System.nanoTime() < deadline);
        double cpu = cpuSeconds(pair) - cpuBefore;
        double cpuA = cpuSeconds(pair.a().pid()) - cpuBeforeA;
        String loadAfter = loadavg();
        assertThat(missing).as(pipeline + " round " + index + ": Message-IDs not in bob's INBOX").isEmpty();
        return new Round(index, pipeline, mails, submitted, delivered, cpu, loadBefore, loadAfter, count - before - mails, cpuA);
    }
}
