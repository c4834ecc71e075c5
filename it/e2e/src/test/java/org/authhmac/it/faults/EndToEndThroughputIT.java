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
import org.authhmac.testing.redis.RedisServer;
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
 *
 * <p>The same method compares other pairs of pipelines: mailsPerSecondWithTheReplayCacheInRedisAndInMemory runs two
 * pairs with our mailets, B's replay cache in memory in one and in Redis in the other (bench/run-e2e --run
 * --replay-cache). Run one comparison at a time: -Dit.test=EndToEndThroughputIT#theTestMethod.
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

    /**
     * One timed round; cpuSeconds is what both James JVMs of that pipeline used during it, serviceCpuSeconds what the
     * services beside them (Redis) used.
     */
    record Round(int index, String pipeline, int mails, double submitSeconds, double deliveredSeconds, double cpuSeconds,
                 String loadBefore, String loadAfter, int duplicates, double cpuSecondsA, double serviceCpuSeconds) {
        double mailsPerSecond() {
            return mails / deliveredSeconds;
        }

        double cpuMillisPerMail() {
            return cpuSeconds * 1e3 / mails;
        }

        double cpuMillisPerMailA() {
            return cpuSecondsA * 1e3 / mails;
        }

        double serviceCpuMillisPerMail() {
            return serviceCpuSeconds * 1e3 / mails;
        }
    }

    /** A process beside the two James that a pipeline uses (Redis): its CPU time is counted apart from James's. */
    record Service(String name, long pid) {
    }

    /** Starts one pipeline's pair of servers. */
    @FunctionalInterface
    interface PairStarter {
        AuthHmacPair start() throws Exception;
    }

    /** One side of a comparison: its name in rounds and output, its key in the JSON, what it runs, how it starts. */
    record Pipeline(String name, String jsonKey, String what, List<Service> services, PairStarter starter) {
    }

    /**
     * Two pipelines measured side by side by the same method: the candidate's mails per second over the baseline's.
     * A goal, when there is one, is a least ratio; the JSON goes to -Dauthhmac.throughput.json or, without it, to
     * jsonFile beside the e2e work folder.
     */
    record Comparison(String what, Pipeline baseline, Pipeline candidate, java.util.OptionalDouble goal, String jsonFile) {
        /** One block of rounds; repeated, it keeps each pipeline's rounds next to the other's. */
        List<Pipeline> abba() {
            return List.of(baseline, candidate, candidate, baseline);
        }
    }

    /** The run's size: -Dauthhmac.throughput.mails, .rounds, .warmup, .connections, .kb (see the class comment). */
    record Settings(int mails, int roundsPerPipeline, int warmup, int connections, int kb) {
        static Settings fromSystemProperties() {
            Settings s = new Settings(Integer.getInteger("authhmac.throughput.mails", 2000),
                    Integer.getInteger("authhmac.throughput.rounds", 6), Integer.getInteger("authhmac.throughput.warmup", 200),
                    Integer.getInteger("authhmac.throughput.connections", 4), Integer.getInteger("authhmac.throughput.kb", 10));
            if (s.roundsPerPipeline() < 2 || s.roundsPerPipeline() % 2 != 0) {
                throw new IllegalArgumentException("authhmac.throughput.rounds must be even and at least 2 (ABBA blocks): " + s.roundsPerPipeline());
            }
            return s;
        }

        int perRound() {
            return mails / roundsPerPipeline;
        }

        /** Every mail one pipeline's servers saw: the first warm-up mail, the warm-up round, the timed rounds. */
        long perPipeline() {
            return 1L + warmup + (long) perRound() * roundsPerPipeline;
        }

        String body() {
            return ("0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 the quick fox.\n")
                    .repeat(Math.max(1, kb * 1024 / 100));
        }
    }

    /** What a run measured, once both pairs have stopped. */
    record Run(Comparison comparison, Settings settings, List<Round> rounds, Metrics baselineMetrics, Metrics candidateMetrics,
               String jvm, String loadAtStart, String loadAtEnd) {
        List<Round> of(Pipeline p) {
            return rounds.stream().filter(r -> r.pipeline().equals(p.name())).toList();
        }

        /** The candidate's rate over the baseline's, per pair of neighbouring rounds (ABBA keeps the i-th of each together). */
        List<Double> ratios() {
            return perPair((base, cand) -> cand.mailsPerSecond() / base.mailsPerSecond());
        }

        List<Double> perPair(java.util.function.BiFunction<Round, Round, Double> f) {
            List<Round> base = of(comparison.baseline());
            List<Round> cand = of(comparison.candidate());
            List<Double> out = new ArrayList<>();
            for (int i = 0; i < base.size(); i++) {
                out.add(f.apply(base.get(i), cand.get(i)));
            }
            return out;
        }

        Summary summary(Pipeline p, java.util.function.ToDoubleFunction<Round> figure) {
            return Summary.of(of(p).stream().map(figure::applyAsDouble).toList());
        }

        Metrics metrics(Pipeline p) {
            return p == comparison.baseline() ? baselineMetrics : candidateMetrics;
        }

        String verdict() {
            Summary ratio = Summary.of(ratios());
            if (comparison.goal().isEmpty()) {
                return "no goal";
            }
            double goal = comparison.goal().getAsDouble();
            return ratio.low95() > goal ? "met: the whole 95% interval of the ratio is above " + goal
                    : ratio.high95() < goal ? "missed: the whole 95% interval of the ratio is below " + goal
                    : "undecided: the 95% interval of the ratio contains " + goal;
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
        // an A/A check of the method: both pairs run the pipeline without our mailets, so the ratio should be 1
        boolean control = Boolean.getBoolean("authhmac.throughput.control");
        if (control) {
            System.out.println("CONTROL RUN (-Dauthhmac.throughput.control=true): the pair labelled " + OURS + " also runs without our mailets");
        }
        Settings settings = Settings.fromSystemProperties();
        Pipeline bare = new Pipeline(BARE, "withoutExtension", "james-conf without our mailets and matcher", List.of(),
                () -> start(BARE, true, Map.of()));
        Pipeline ours = new Pipeline(OURS, "withExtension", "james-conf as shipped", List.of(),
                () -> start(OURS, control, Map.of()));
        Comparison comparison = new Comparison("james-conf as shipped vs the same pipeline without our mailets and matcher",
                bare, ours, java.util.OptionalDouble.of(GOAL_RATIO), "e2e-throughput.json");

        // when the rounds go bare, ours, ours, bare, ...
        Run run = measure(comparison, settings);

        // then
        Metrics bareMetrics = run.baselineMetrics();
        Metrics oursMetrics = run.candidateMetrics();
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
        double sumP50 = added.stream().mapToDouble(t -> t.timer().p50Millis()).sum();
        double sumP99 = added.stream().mapToDouble(t -> t.timer().p99Millis()).sum();
        System.out.printf("added latency per mail (sum over our pipeline steps): p50 %.3f ms, sum of p99s %.3f ms%n", sumP50, sumP99);

        Map<String, Object> out = json(run);
        out.put("control", control);
        out.put("addedLatency", latencyJson(added, context, sumP50, sumP99));
        writeJson(out, comparison);

        if (control) {
            for (Metrics m : List.of(bareMetrics, oursMetrics)) {
                assertThat(m.a().timer("SignWithAuthHmac")).as("SignWithAuthHmac in a control run").isEmpty();
                assertThat(m.b().timer("AuthHmacFailed")).as("AuthHmacFailed in a control run").isEmpty();
            }
            return;
        }
        // and every one of our steps ran once per mail sent through the pipeline with the extension, never without it
        long perMail = settings.perPipeline();
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
        assertThat(run.ratios()).as("one ratio per pair of rounds").hasSize(settings.roundsPerPipeline()).allSatisfy(x -> assertThat(x).isPositive());
    }

    static final String MEMORY = "memory";
    static final String REDIS = "redis";
    static final String PARTNERS = "auth-hmac-partners.properties";
    /** The cache's default key prefix: every key it writes starts with it, each signature's entry with PREFIX + "sig:". */
    static final String REPLAY_CACHE_PREFIX = "authhmac:rc:";

    /**
     * Both pairs run james-conf as shipped, with our mailets and a TPM each; the candidate's B keeps its replay cache in a
     * redis-server on this host, run as docs/OPERATIONS.md advises (appendonly yes, appendfsync everysec). What the test
     * can fail on: every mail of both pairs reaches bob with a pass, each B asked its replay cache once per mail and
     * got "fresh" each time, never an error; Redis holds exactly one signature entry per mail of the candidate, so
     * none of the baseline's.
     */
    @Test
    void mailsPerSecondWithTheReplayCacheInRedisAndInMemory() throws Exception {
        Settings settings = Settings.fromSystemProperties();
        try (RedisServer redis = RedisServer.startAppendOnly("everysec")) {
            long redisMemoryAtStart = redisInfo(redis, "memory", "used_memory");
            Pipeline inMemory = new Pipeline(MEMORY, "replayCacheInMemory", "james-conf as shipped: replayCache.store=memory (the default)",
                    List.of(), () -> start(MEMORY, false, Map.of()));
            Pipeline inRedis = new Pipeline(REDIS, "replayCacheInRedis", "james-conf as shipped, B with replayCache.store=redis and "
                    + "replayCache.redis.uri=redis://127.0.0.1:PORT/0 (a redis-server " + redisInfoText(redis, "server", "redis_version")
                    + " on this host, appendonly yes, appendfsync everysec)",
                    List.of(new Service("redis-server", redis.pid())),
                    () -> start(REDIS, false, Map.of("replayCache.store", "redis", "replayCache.redis.uri", redis.uri())));
            Comparison comparison = new Comparison("james-conf as shipped, B's replay cache in Redis vs in memory",
                    inMemory, inRedis, java.util.OptionalDouble.empty(), "e2e-replay-cache.json");

            // when the rounds go memory, redis, redis, memory, ...
            Run run = measure(comparison, settings);

            // then: the cache's own timer on each B, and what Redis holds
            long perMail = settings.perPipeline();
            long signatureKeys = countKeys(redis, REPLAY_CACHE_PREFIX + "sig:*");
            long redisMemoryAtEnd = redisInfo(redis, "memory", "used_memory");
            Map<String, Object> out = json(run);
            Map<String, Object> latency = new LinkedHashMap<>();
            latency.put("unit", "ms");
            latency.put("source", "B's DropWizard timer authhmac.replayCache.time (one replay cache answer: the Lua script's round trip to Redis, "
                    + "or the in-memory map) and James's timer of the AuthHmacFailed matcher, over WebAdmin /metrics, all rounds and warm-up; "
                    + "quantiles from the default exponentially decaying reservoir (1,028 samples, weighted to the last 5 minutes), counts exact");
            for (Pipeline p : List.of(inMemory, inRedis)) {
                Map<String, Object> m = new LinkedHashMap<>();
                for (String timer : List.of("authhmac.replayCache.time", "AuthHmacFailed", "authhmac.verify.time")) {
                    run.metrics(p).b().timer(timer).ifPresent(t -> {
                        m.put(timer, Map.of("count", t.count(), "p50", round(t.p50Millis(), 4), "p99", round(t.p99Millis(), 4),
                                "p999", round(t.maxQuantileSeconds() * 1e3, 4)));
                        System.out.printf("%s B %s: count %d, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms%n", p.name(), timer, t.count(),
                                t.p50Millis(), t.p99Millis(), t.maxQuantileSeconds() * 1e3);
                    });
                }
                latency.put(p.jsonKey(), m);
            }
            JamesMetrics.Timer memoryCache = run.baselineMetrics().b().timer("authhmac.replayCache.time").orElseThrow();
            JamesMetrics.Timer redisCache = run.candidateMetrics().b().timer("authhmac.replayCache.time").orElseThrow();
            latency.put("addedP50", round(redisCache.p50Millis() - memoryCache.p50Millis(), 4));
            latency.put("addedP99", round(redisCache.p99Millis() - memoryCache.p99Millis(), 4));
            latency.put("note", "added = Redis minus memory, of authhmac.replayCache.time on B: what one answer from Redis costs the mail "
                    + "over one from memory; a mail asks once (one signature, one recipient)");
            out.put("replayCacheLatency", latency);
            Map<String, Object> stored = new LinkedHashMap<>();
            stored.put("persistence", "appendonly " + redis.command("CONFIG", "GET", "appendonly").lines().skip(1).findFirst().orElse("?")
                    + ", appendfsync " + redis.command("CONFIG", "GET", "appendfsync").lines().skip(1).findFirst().orElse("?"));
            // Redis's own time inside the script, per call: what of the cache's answer is not the round trip and the client
            List<String> scriptStats = redis.command("INFO", "commandstats").lines()
                    .filter(l -> l.startsWith("cmdstat_evalsha:") || l.startsWith("cmdstat_eval:")).map(String::trim).toList();
            stored.put("commandStats", scriptStats);
            scriptStats.forEach(l -> System.out.println("Redis " + l));
            stored.put("signatureKeys", signatureKeys);
            stored.put("keys", Long.parseLong(redis.command("DBSIZE")));
            stored.put("usedMemoryGrowthBytes", redisMemoryAtEnd - redisMemoryAtStart);
            stored.put("usedMemoryGrowthBytesPerEntry", signatureKeys == 0 ? 0 : round((double) (redisMemoryAtEnd - redisMemoryAtStart) / signatureKeys, 0));
            stored.put("note", "INFO memory used_memory after the run minus before it, over the entries written: a rough figure (allocator, "
                    + "Lua script cache), for entries of one recipient each");
            out.put("redis", stored);
            System.out.printf("replay cache answer on B, p50 %.3f ms in memory, %.3f ms in Redis (added %.3f ms); p99 %.3f / %.3f ms%n",
                    memoryCache.p50Millis(), redisCache.p50Millis(), redisCache.p50Millis() - memoryCache.p50Millis(),
                    memoryCache.p99Millis(), redisCache.p99Millis());
            System.out.printf("Redis: %d signature keys, %s keys in all, used_memory +%d bytes%n", signatureKeys, stored.get("keys"),
                    redisMemoryAtEnd - redisMemoryAtStart);
            writeJson(out, comparison);

            for (Pipeline p : List.of(inMemory, inRedis)) {
                JamesMetrics b = run.metrics(p).b();
                assertThat(b.counter("authhmac.verify.result.pass")).as(p.name() + ": pass verdicts on B").isEqualTo(perMail);
                assertThat(b.timer("authhmac.replayCache.time")).as(p.name() + ": replay cache answers on B")
                        .hasValueSatisfying(t -> assertThat(t.count()).isEqualTo(perMail));
                assertThat(b.counter("authhmac.replayCache.fresh")).as(p.name() + ": fresh answers on B").isEqualTo(perMail);
                assertThat(b.counter("authhmac.replayCache.error")).as(p.name() + ": replay cache errors on B").isZero();
            }
            assertThat(signatureKeys).as("signature entries in Redis: one per mail of the " + REDIS + " pair, none of the " + MEMORY + " pair's")
                    .isEqualTo(perMail);
            assertThat(run.ratios()).as("one ratio per pair of rounds").hasSize(settings.roundsPerPipeline()).allSatisfy(x -> assertThat(x).isPositive());
        }
    }

    private static long countKeys(RedisServer redis, String pattern) {
        long n = 0;
        String cursor = "0";
        do {
            String[] reply = redis.command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000").split("\n", -1);
            cursor = reply[0];
            n += java.util.Arrays.stream(reply).skip(1).filter(k -> !k.isEmpty()).count();
        } while (!cursor.equals("0"));
        return n;
    }

    private static String redisInfoText(RedisServer redis, String section, String field) {
        return redis.command("INFO", section).lines().filter(l -> l.startsWith(field + ":")).findFirst()
                .map(l -> l.substring(field.length() + 1).trim())
                .orElseThrow(() -> new IllegalStateException("no " + field + " in INFO " + section));
    }

    private static long redisInfo(RedisServer redis, String section, String field) {
        return Long.parseLong(redisInfoText(redis, section, field));
    }

    /** Both pairs up at once, warm, then the rounds in ABBA blocks; the pairs are stopped when it returns. */
    private static Run measure(Comparison c, Settings s) throws Exception {
        String body = s.body();
        String loadAtStart = loadavg();
        List<Round> rounds = new ArrayList<>();
        Pipeline baseline = c.baseline();
        Pipeline candidate = c.candidate();
        try (AuthHmacPair basePair = baseline.starter().start(); AuthHmacPair candPair = candidate.starter().start()) {
            Map<String, AuthHmacPair> pairs = Map.of(baseline.name(), basePair, candidate.name(), candPair);
            // given both pipelines up and warm: one mail through the whole path (class loading, the first TPM
            // derivation), then an untimed round so that C2 has compiled the hot paths of both
            for (Pipeline p : List.of(baseline, candidate)) {
                String id = "warm-" + p.name() + "-" + UUID.randomUUID().toString().substring(0, 8) + "@a.example";
                pairs.get(p.name()).aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                        SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "warm-up", id, body));
                pairs.get(p.name()).bobInbox().awaitMessageId("<" + id + ">", Duration.ofSeconds(60)).orElseThrow();
                if (s.warmup() > 0) {
                    round(0, p, pairs.get(p.name()), s.warmup(), s.connections(), body);
                }
            }
            int index = 0;
            for (int block = 0; block < s.roundsPerPipeline() / 2; block++) {
                for (Pipeline p : c.abba()) {
                    Round r = round(++index, p, pairs.get(p.name()), s.perRound(), s.connections(), body);
                    rounds.add(r);
                    System.out.printf("round %2d %-9s %d mails: submitted in %.2f s, all in bob's INBOX after %.2f s = %.2f mails/s, "
                                    + "James CPU %.2f ms/mail (A %.2f), services %.2f ms/mail, %d stored twice; loadavg before %s after %s%n",
                            r.index(), r.pipeline(), r.mails(), r.submitSeconds(), r.deliveredSeconds(), r.mailsPerSecond(), r.cpuMillisPerMail(),
                            r.cpuMillisPerMailA(), r.serviceCpuMillisPerMail(), r.duplicates(), r.loadBefore(), r.loadAfter());
                }
            }
            // every mail is in the INBOX, so every timer of the pipeline has been published
            Metrics baseMetrics = new Metrics(JamesMetrics.scrape(basePair.a()), JamesMetrics.scrape(basePair.b()));
            Metrics candMetrics = new Metrics(JamesMetrics.scrape(candPair.a()), JamesMetrics.scrape(candPair.b()));
            String jvm = String.join(" ", ProcessHandle.of(candPair.a().pid()).flatMap(h -> h.info().arguments())
                    .map(args -> java.util.Arrays.stream(args).filter(x -> x.startsWith("-X")).toList()).orElse(List.of()));
            Run run = new Run(c, s, rounds, baseMetrics, candMetrics, jvm, loadAtStart, loadavg());
            print(run);
            return run;
        }
    }

    /** The figures both comparisons share, on stdout: rates, ratios, CPU, and where the time goes per timer. */
    private static void print(Run run) {
        Pipeline base = run.comparison().baseline();
        Pipeline cand = run.comparison().candidate();
        for (Pipeline p : List.of(base, cand)) {
            Summary rate = run.summary(p, Round::mailsPerSecond);
            System.out.printf("pipeline %s: mean %.2f mails/s (min %.2f, max %.2f), James CPU %.3f ms/mail%s%n",
                    p.name(), rate.mean(), rate.min(), rate.max(), run.summary(p, Round::cpuMillisPerMail).mean(),
                    p.services().isEmpty() ? "" : String.format(", %s CPU %.3f ms/mail", String.join(" + ",
                            p.services().stream().map(Service::name).toList()), run.summary(p, Round::serviceCpuMillisPerMail).mean()));
        }
        Summary ratio = Summary.of(run.ratios());
        double ofMeans = run.summary(cand, Round::mailsPerSecond).mean() / run.summary(base, Round::mailsPerSecond).mean();
        System.out.printf("ratio %s/%s per pair of rounds: %s%n", cand.name(), base.name(),
                String.join(", ", run.ratios().stream().map(x -> String.format("%.3f", x)).toList()));
        System.out.printf("ratio mean %.3f, min %.3f, max %.3f, 95%% interval %.3f .. %.3f (n=%d); ratio of the mean rates %.3f; %s%n",
                ratio.mean(), ratio.min(), ratio.max(), ratio.low95(), ratio.high95(), ratio.n(), ofMeans,
                run.comparison().goal().isPresent() ? "goal >= " + run.comparison().goal().getAsDouble() + " " + run.verdict() : "no goal");
        Summary cpuAdded = Summary.of(run.perPair((b, c) -> c.cpuMillisPerMail() - b.cpuMillisPerMail()));
        Summary cpuAddedA = Summary.of(run.perPair((b, c) -> c.cpuMillisPerMailA() - b.cpuMillisPerMailA()));
        System.out.printf("James CPU added per mail (A + B JVMs, %s minus %s, per pair of rounds): mean %.3f ms, 95%% interval %.3f .. %.3f%n",
                cand.name(), base.name(), cpuAdded.mean(), cpuAdded.low95(), cpuAdded.high95());
        System.out.printf("  of which on A: mean %.3f ms, 95%% interval %.3f .. %.3f; on B: mean %.3f ms%n",
                cpuAddedA.mean(), cpuAddedA.low95(), cpuAddedA.high95(), cpuAdded.mean() - cpuAddedA.mean());
        System.out.printf("loadavg at start %s, at end %s%n", run.loadAtStart(), run.loadAtEnd());
        // where the time goes: every timer that ran at least once per timed mail, in both pipelines side by side
        int timed = run.settings().perRound() * run.settings().roundsPerPipeline();
        java.util.TreeSet<String> names = new java.util.TreeSet<>();
        for (Metrics m : List.of(run.baselineMetrics(), run.candidateMetrics())) {
            for (JamesMetrics reg : List.of(m.a(), m.b())) {
                reg.startingWith("").stream().filter(x -> x.name().endsWith("_count") && x.labels().isEmpty() && x.value() >= timed)
                        .map(x -> x.name().substring(0, x.name().length() - "_count".length()))
                        // a gauge may end in _count too (jvm_threads_count): a timer is the name with quantiles
                        .filter(n -> reg.startingWith(n).stream().anyMatch(y -> y.name().equals(n) && y.labels().contains("quantile")))
                        .forEach(n -> names.add((reg == m.a() ? "a " : "b ") + n));
            }
        }
        for (String n : names) {
            String server = n.substring(0, 1);
            String timer = n.substring(2);
            String cells = "";
            for (Metrics m : List.of(run.baselineMetrics(), run.candidateMetrics())) {
                cells += m.on(server).timer(timer).map(t -> String.format(" | %d, p50 %.3f ms, p99 %.3f ms", t.count(), t.p50Millis(), t.p99Millis())).orElse(" | -");
            }
            System.out.printf("timer %s %s (%s | %s)%s%n", server, timer, base.name(), cand.name(), cells);
        }
    }

    /** The JSON both comparisons share; each test adds its own figures. */
    private static Map<String, Object> json(Run run) {
        Comparison c = run.comparison();
        Settings s = run.settings();
        Pipeline base = c.baseline();
        Pipeline cand = c.candidate();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("generated", Instant.now().toString());
        out.put("test", "it/e2e org.authhmac.it.faults.EndToEndThroughputIT");
        out.put("what", "mails delivered from A (alice, submission) to bob's INBOX on B, two James 3.8.1 memory servers with swtpm, "
                + c.what() + "; both pairs up at once, interleaved rounds");
        out.put("design", "after " + s.warmup() + " untimed mails per pipeline, " + s.roundsPerPipeline() + " rounds per pipeline in the order "
                + String.join(", ", c.abba().stream().map(Pipeline::name).toList()) + " (repeated); each round timed from its first submission "
                + "to its last mail in bob's INBOX (IMAP STATUS of bob's INBOX every 200 ms on one connection, then the round's Message-IDs "
                + "checked); one ratio per pair of neighbouring rounds");
        out.put("mails", s.perRound() * s.roundsPerPipeline());
        out.put("mailsPerRound", s.perRound());
        out.put("roundsPerPipeline", s.roundsPerPipeline());
        out.put("warmUpMailsPerPipeline", s.warmup() + 1);
        out.put("connections", s.connections());
        out.put("messageSize", Map.of("value", s.kb(), "unit", "KB"));
        out.put("jamesJvmOptions", run.jvm());
        out.put("loadAverageAtStart", run.loadAtStart());
        out.put("loadAverageAtEnd", run.loadAtEnd());
        for (Pipeline p : List.of(base, cand)) {
            Summary rate = run.summary(p, Round::mailsPerSecond);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("what", p.what());
            Map<String, Object> mps = new LinkedHashMap<>();
            mps.put("value", round(rate.mean(), 2));
            mps.put("unit", "mails/s (mean over rounds)");
            mps.putAll(rate.json(2));
            m.put("mailsPerSecond", mps);
            m.put("jamesCpuPerMail", Map.of("value", round(run.summary(p, Round::cpuMillisPerMail).mean(), 3),
                    "unit", "ms of CPU, both James JVMs (mean over rounds)"));
            if (!p.services().isEmpty()) {
                m.put("serviceCpuPerMail", Map.of("value", round(run.summary(p, Round::serviceCpuMillisPerMail).mean(), 3),
                        "unit", "ms of CPU of " + String.join(", ", p.services().stream().map(Service::name).toList()) + " (mean over rounds)"));
            }
            m.put("timeInRounds", Map.of("value", round(run.of(p).stream().mapToDouble(Round::deliveredSeconds).sum(), 1), "unit", "s"));
            out.put(p.jsonKey(), m);
        }
        Summary ratio = Summary.of(run.ratios());
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("value", round(ratio.mean(), 3));
        r.put("unit", cand.name() + "/" + base.name() + " mails per second, mean of the per-pair-of-rounds ratios");
        c.goal().ifPresent(g -> r.put("goal", ">= " + g));
        r.put("perPairOfRounds", run.ratios().stream().map(x -> round(x, 3)).toList());
        r.putAll(ratio.json(3));
        r.put("ofMeanRates", round(run.summary(cand, Round::mailsPerSecond).mean() / run.summary(base, Round::mailsPerSecond).mean(), 3));
        if (c.goal().isPresent()) {
            r.put("verdict", run.verdict());
        }
        out.put("ratio", r);
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("unit", "ms of CPU per mail, both James JVMs, " + cand.name() + " minus " + base.name() + ", per pair of rounds");
        cpu.putAll(Summary.of(run.perPair((b, x) -> x.cpuMillisPerMail() - b.cpuMillisPerMail())).json(3));
        cpu.put("onA", Summary.of(run.perPair((b, x) -> x.cpuMillisPerMailA() - b.cpuMillisPerMailA())).json(3));
        if (!base.services().isEmpty() || !cand.services().isEmpty()) {
            cpu.put("withServices", Summary.of(run.perPair((b, x) -> x.cpuMillisPerMail() + x.serviceCpuMillisPerMail()
                    - b.cpuMillisPerMail() - b.serviceCpuMillisPerMail())).json(3));
        }
        out.put("addedJamesCpuPerMail", cpu);
        List<Map<String, Object>> roundsJson = new ArrayList<>();
        for (Round x : run.rounds()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("round", x.index());
            m.put("pipeline", x.pipeline());
            m.put("mails", x.mails());
            m.put("submittedSeconds", round(x.submitSeconds(), 2));
            m.put("allDeliveredSeconds", round(x.deliveredSeconds(), 2));
            m.put("mailsPerSecond", round(x.mailsPerSecond(), 2));
            m.put("jamesCpuMillisPerMail", round(x.cpuMillisPerMail(), 3));
            m.put("jamesCpuMillisPerMailOnA", round(x.cpuMillisPerMailA(), 3));
            if (x.serviceCpuSeconds() > 0) {
                m.put("serviceCpuMillisPerMail", round(x.serviceCpuMillisPerMail(), 3));
            }
            m.put("storedTwiceByJames", x.duplicates());
            m.put("loadAverageBefore", x.loadBefore());
            m.put("loadAverageAfter", x.loadAfter());
            roundsJson.add(m);
        }
        out.put("rounds", roundsJson);
        return out;
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

    private static void writeJson(Map<String, Object> out, Comparison comparison) throws Exception {
        Path file = Path.of(System.getProperty("authhmac.throughput.json",
                Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work")).resolveSibling(comparison.jsonFile()).toString()));
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

    private static double cpuSeconds(List<Service> services) {
        return services.stream().mapToDouble(x -> cpuSeconds(x.pid())).sum();
    }

    private static double cpuSeconds(long pid) {
        return ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration())
                .orElseThrow(() -> new IllegalStateException("no CPU time for pid " + pid)).toNanos() / 1e9;
    }

    /** A pair with james-conf as shipped, or without our mailets (stripped); B's partner file with these keys set. */
    private static AuthHmacPair start(String pipeline, boolean stripped, Map<String, String> receivingPartners) throws Exception {
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
                b -> {
                    if (!receivingPartners.isEmpty()) {
                        b.properties(PARTNERS, receivingPartners);
                    }
                    flightRecorder(b.extensionJar(bundle)
                            .confFile("mailetcontainer.xml", stripped ? withoutAuthHmac(receivingXml) : receivingXml)
                            .properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES).jvmOption(FULL_JIT), pipeline, "B");
                },
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
    private static Round round(int index, Pipeline pipeline, AuthHmacPair pair, int mails, int connections, String body) throws Exception {
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

    private static Round timed(int index, Pipeline pipeline, AuthHmacPair pair, Store imap, java.util.Set<String> ids,
                               List<List<String>> perConnection, int mails) throws Exception {
        int connections = perConnection.size();
        int before = inboxCount(imap);
        String loadBefore = loadavg();
        double cpuBefore = cpuSeconds(pair);
        double cpuBeforeA = cpuSeconds(pair.a().pid());
        double serviceCpuBefore = cpuSeconds(pipeline.services());
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
        double serviceCpu = cpuSeconds(pipeline.services()) - serviceCpuBefore;
        String loadAfter = loadavg();
        assertThat(missing).as(pipeline.name() + " round " + index + ": Message-IDs not in bob's INBOX").isEmpty();
        return new Round(index, pipeline.name(), mails, submitted, delivered, cpu, loadBefore, loadAfter, count - before - mails, cpuA, serviceCpu);
    }
}
