package org.authhmac.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.authhmac.testing.pkcs11.SoftHsm;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the whole suite in one JMH run (so that the ratios compare figures measured side by side) with the GC
 * profiler, and writes bench/results/latest.json: every figure with its unit, the ratios, the goals, JVM, CPU and
 * load average. Arguments: [--quick] [--out file] [--include regex] [--no-tpm] [--cpu-time cpu-time.json].
 */
public final class BenchMain {
    static final String[] SIZES = {"1KB", "10KB", "100KB", "1MB"};
    /** No adversarial shape may cost more than this many times per byte what a benign message of its size costs. */
    static final double ADVERSARIAL_GOAL = 3.0;

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        boolean noTpm = false;
        Path cpuTimeFile = null;
        Path out = Path.of("bench", "results", "latest.json");
        String include = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--out" -> out = Path.of(args[++i]);
                case "--include" -> include = args[++i];
                case "--no-tpm" -> noTpm = true;
                case "--cpu-time" -> cpuTimeFile = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (use [--quick] [--out file] [--include regex] [--no-tpm] [--cpu-time file])");
            }
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        String name = out.getFileName().toString();
        Path raw = out.resolveSibling(name.equals("latest.json") ? "jmh-raw.json" : name.replaceFirst("\\.json$", "") + "-jmh-raw.json");
        double[] loadBefore = loadAverage();
        Instant started = Instant.now();
        ChainedOptionsBuilder options = new OptionsBuilder();
        if (include == null) {
            // The adversarial shapes have a run of their own (bench/run --adversarial): they do not change the goals.
            options.include("org\\.authhmac\\.bench\\..*Benchmark\\..*").exclude("AdversarialBenchmark");
        } else {
            options.include(include);
        }
        options
                .addProfiler(GCProfiler.class)
                .resultFormat(ResultFormatType.JSON)
                .result(raw.toString())
                .shouldFailOnError(true);
        List<String> vaults = new ArrayList<>();
        if (!noTpm) {
            vaults.addAll(List.of("tpm-nodelay", "tpm-nagle", "tss-tcp-nagle"));
        }
        vaults.add("pkcs12");
        if (SoftHsm.available()) {
            vaults.add("pkcs11");
        }
        options.param("vault", vaults.toArray(String[]::new));
        if (quick) {
            options.forks(1).warmupIterations(2).warmupTime(TimeValue.milliseconds(300))
                    .measurementIterations(2).measurementTime(TimeValue.milliseconds(300));
        }
        Collection<RunResult> results = new Runner(options.build()).run();
        Map<String, Object> cpuTime = null;
        if (cpuTimeFile != null && Files.isRegularFile(cpuTimeFile)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> read = new ObjectMapper().readValue(cpuTimeFile.toFile(), Map.class);
            cpuTime = read;
        }
        Map<String, Object> report = report(results, quick, started, loadBefore, loadAverage(), cpuTime);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), report);
        System.out.println("wrote " + out + " (JMH raw results: " + raw + ")");
    }

    static Map<String, Object> report(Collection<RunResult> results, boolean quick, Instant started,
                                      double[] loadBefore, double[] loadAfter, Map<String, Object> cpuTime) {
        List<Map<String, Object>> figures = new ArrayList<>();
        Map<String, Double> opsPerSecond = new LinkedHashMap<>();
        Map<String, AdversarialMessages.Shape> shapes = new LinkedHashMap<>();
        for (RunResult r : results) {
            String bench = r.getParams().getBenchmark();
            String name = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1);
            Map<String, String> params = new LinkedHashMap<>();
            for (String key : r.getParams().getParamsKeys()) {
                params.put(key, r.getParams().getParam(key));
            }
            Result<?> primary = r.getPrimaryResult();
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("benchmark", name);
            f.put("params", params);
            f.put("mode", r.getParams().getMode().shortLabel());
            f.put("score", round(primary.getScore()));
            f.put("error", Double.isNaN(primary.getScoreError()) ? null : round(primary.getScoreError()));
            f.put("unit", primary.getScoreUnit());
            f.put("samples", primary.getSampleCount());
            if (params.containsKey("size")) {
                f.put("messageBytes", Messages.mime(Messages.bytes(params.get("size"))).length);
            }
            if (params.containsKey("shape")) {
                AdversarialMessages.Shape shape = shapes.computeIfAbsent(params.get("shape"), AdversarialMessages::shape);
                f.put("messageBytes", name.endsWith(".benign") ? shape.benign().length : shape.adversarial().length);
            }
            alloc(r).ifPresent(a -> f.put("allocation", Map.of("value", round(a), "unit", "B/op")));
            figures.add(f);
            if (primary.getScoreUnit().equals("ops/s")) {
                opsPerSecond.put(name + key(params), primary.getScore());
            }
        }
        List<Map<String, Object>> adversarial = adversarialRatios(shapes, opsPerSecond);

        List<Map<String, Object>> ratios = new ArrayList<>();
        for (String size : SIZES) {
            ratio(ratios, opsPerSecond, "sign / limit", "MailBenchmark.sign", "MailBenchmark.limit", size);
            ratio(ratios, opsPerSecond, "verify / limit", "MailBenchmark.verify", "MailBenchmark.limit", size);
            ratio(ratios, opsPerSecond, "sign / DKIM sign", "MailBenchmark.sign", "MailBenchmark.dkimSign", size);
            ratio(ratios, opsPerSecond, "verify / DKIM verify", "MailBenchmark.verify", "MailBenchmark.dkimVerify", size);
        }

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cpuRatios = cpuTime == null ? List.of() : (List<Map<String, Object>>) cpuTime.get("ratios");
        List<Map<String, Object>> goals = new ArrayList<>();
        goal(goals, "10 KB signing reaches at least 50% of the limit's messages/s", ratioOf(ratios, "sign / limit", "10KB"),
                ratioOf(cpuRatios, "sign / limit", "10KB"), 0.5);
        goal(goals, "10 KB verifying reaches at least 50% of the limit's messages/s", ratioOf(ratios, "verify / limit", "10KB"),
                ratioOf(cpuRatios, "verify / limit", "10KB"), 0.5);
        goal(goals, "10 KB signing at least 50 times DKIM rsa-2048 signing", ratioOf(ratios, "sign / DKIM sign", "10KB"),
                ratioOf(cpuRatios, "sign / DKIM sign", "10KB"), 50);
        Double small = allocOf(figures, "MailBenchmark.relaxedBodyHash", "1KB");
        Double large = allocOf(figures, "MailBenchmark.relaxedBodyHash", "1MB");
        Map<String, Object> alloc = new LinkedHashMap<>();
        alloc.put("goal", "relaxed canonicalization allocates nothing per byte (-prof gc, B/op from 1 KB to 1 MB)");
        if (small != null && large != null) {
            double perByte = (large - small) / (Messages.bytes("1MB") - Messages.bytes("1KB"));
            alloc.put("value", Map.of("1KB", round(small), "1MB", round(large), "bytesAllocatedPerBodyByte", perByte, "unit", "B/op"));
            // Less than one byte allocated per 1,000 body bytes: what remains is per-message set-up and JIT noise.
            alloc.put("met", perByte < 0.001);
        } else {
            alloc.put("met", null);
        }
        goals.add(alloc);

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("generated", Instant.now().toString());
        report.put("started", started.toString());
        report.put("mode", quick ? "quick (short iterations: indicative only)" : "full");
        report.put("jvm", Map.of(
                "name", System.getProperty("java.vm.name"),
                "vendor", System.getProperty("java.vm.vendor"),
                "version", System.getProperty("java.runtime.version")));
        report.put("cpu", cpu());
        Map<String, Object> load = new LinkedHashMap<>();
        load.put("before", loadBefore);
        load.put("after", loadAfter);
        load.put("note", "1, 5 and 15 minute load averages of the machine; above the core count the figures are noisy");
        report.put("loadAverage", load);
        report.put("ratios", ratios);
        if (!adversarial.isEmpty()) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("goal", "no adversarial shape costs more than " + ADVERSARIAL_GOAL + "x per byte what a benign message of the same size costs");
            a.put("shapes", adversarial);
            report.put("adversarial", a);
        }
        report.put("cpuTime", cpuTime);
        report.put("goals", goals);
        report.put("figures", figures);
        return report;
    }

    private static String key(Map<String, String> params) {
        return params.containsKey("size") ? "@" + params.get("size") : params.containsKey("shape") ? "@" + params.get("shape") : "";
    }

    /** Per shape: CPU cost per byte of the adversarial message over that of the benign one of the same size. */
    private static List<Map<String, Object>> adversarialRatios(Map<String, AdversarialMessages.Shape> shapes,
                                                               Map<String, Double> ops) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (AdversarialMessages.Shape shape : shapes.values()) {
            Double a = ops.get("AdversarialBenchmark.adversarial@" + shape.name());
            Double b = ops.get("AdversarialBenchmark.benign@" + shape.name());
            if (a == null || b == null) {
                continue;
            }
            double ratio = (b * shape.benign().length) / (a * shape.adversarial().length);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("shape", shape.name());
            r.put("verdict", shape.expected().token());
            r.put("adversarialBytes", shape.adversarial().length);
            r.put("benignBytes", shape.benign().length);
            r.put("adversarialMessagesPerSecond", round(a));
            r.put("benignMessagesPerSecond", round(b));
            r.put("costPerByteRatio", round(ratio));
            r.put("met", ratio <= ADVERSARIAL_GOAL);
            out.add(r);
        }
        return out;
    }

    private static void ratio(List<Map<String, Object>> out, Map<String, Double> ops, String name, String ours,
                              String reference, String size) {
        Double a = ops.get(ours + "@" + size);
        Double b = ops.get(reference + "@" + size);
        if (a == null || b == null) {
            return;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", name);
        r.put("size", size);
        r.put("value", round(a / b));
        r.put("unit", "ratio of messages/s");
        out.add(r);
    }

    private static Double ratioOf(List<Map<String, Object>> ratios, String name, String size) {
        return ratios.stream().filter(r -> r.get("name").equals(name) && r.get("size").equals(size))
                .map(r -> (Double) r.get("value")).findFirst().orElse(null);
    }

    /** A goal judged on both measurements: JMH's wall-clock throughput and the CPU-time run. */
    private static void goal(List<Map<String, Object>> goals, String text, Double jmh, Double cpu, double threshold) {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("goal", text);
        g.put("threshold", threshold);
        g.put("valueJmh", jmh);
        g.put("metJmh", jmh == null ? null : jmh >= threshold);
        g.put("valueCpuTime", cpu);
        g.put("metCpuTime", cpu == null ? null : cpu >= threshold);
        goals.add(g);
    }

    private static Double allocOf(List<Map<String, Object>> figures, String benchmark, String size) {
        for (Map<String, Object> f : figures) {
            @SuppressWarnings("unchecked")
            Map<String, String> params = (Map<String, String>) f.get("params");
            if (f.get("benchmark").equals(benchmark) && size.equals(params.get("size")) && f.get("allocation") != null) {
                @SuppressWarnings("unchecked")
                Map<String, Object> a = (Map<String, Object>) f.get("allocation");
                return (Double) a.get("value");
            }
        }
        return null;
    }

    private static Optional<Double> alloc(RunResult r) {
        return r.getSecondaryResults().entrySet().stream()
                .filter(e -> e.getKey().endsWith("gc.alloc.rate.norm"))
                .map(e -> e.getValue().getScore())
                .findFirst();
    }

    private static double round(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return v;
        }
        double scale = Math.abs(v) >= 100 ? 10 : 1000;
        return Math.round(v * scale) / scale;
    }

    private static Map<String, Object> cpu() {
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("availableProcessors", Runtime.getRuntime().availableProcessors());
        cpu.put("arch", System.getProperty("os.arch"));
        cpu.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && !cpu.containsKey("model")) {
                    cpu.put("model", line.substring(line.indexOf(':') + 1).trim());
                }
                if (line.startsWith("flags") && !cpu.containsKey("shaExtensions")) {
                    cpu.put("shaExtensions", List.of(line.split("\\s+")).contains("sha_ni"));
                }
            }
        } catch (IOException e) {
            cpu.put("model", "unknown (" + e.getMessage() + ")");
        }
        return cpu;
    }

    static double[] loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return new double[] {Double.parseDouble(parts[0]), Double.parseDouble(parts[1]), Double.parseDouble(parts[2])};
        } catch (IOException | RuntimeException e) {
            return new double[0];
        }
    }
}
