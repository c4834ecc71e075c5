package org.authhmac.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;

/**
 * The adversarial ratios again from thread CPU time, as {@link CpuTimeRatios} does for the suite: per shape, the
 * adversarial message and its benign twin run in one JVM, interleaved in slices of CPU time (the order reversed every
 * other round), and each round gives one ratio of cost per byte; the median over the rounds is reported. A change of
 * the machine's load between two slices of a round moves both alike, which JMH's one-after-the-other runs do not
 * offer. Each shape runs in a JVM of its own, as JMH forks one per benchmark, so that the code the JIT compiled for
 * one shape does not decide another's figures, with its heap touched at start-up (-XX:+AlwaysPreTouch: else the
 * first pass through a fresh heap pays a page fault per 4 KiB allocated, which a shape that allocates a few MiB per
 * message pays for seconds and its benign twin hardly at all). Arguments: [--quick] [--out file] [--shapes a,b] [--rounds n].
 */
public final class AdversarialCpuTime {
    private AdversarialCpuTime() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        Path out = Path.of("bench", "results", "adversarial-cpu-time.json");
        List<String> shapes = AdversarialMessages.SHAPES;
        int rounds = quick ? 3 : 9;
        String forkOf = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> { }
                case "--out" -> out = Path.of(args[++i]);
                case "--shapes" -> shapes = List.of(args[++i].split(","));
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--fork-of" -> forkOf = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (use [--quick] [--out file] [--shapes a,b] [--rounds n])");
            }
        }
        long warmNanos = quick ? 300_000_000L : 2_000_000_000L;
        long sliceNanos = quick ? 50_000_000L : 200_000_000L;
        if (forkOf != null) {
            System.out.println(new ObjectMapper().writeValueAsString(measure(forkOf, rounds, warmNanos, sliceNanos)));
            return;
        }
        double[] loadBefore = BenchMain.loadAverage();
        Instant started = Instant.now();
        List<Map<String, Object>> results = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String name : shapes) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch", "-cp", System.getProperty("java.class.path"), AdversarialCpuTime.class.getName(),
                    "--fork-of", name, "--rounds", Integer.toString(rounds)));
            if (quick) {
                command.add("--quick");
            }
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out1 = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(name + ": the forked JVM failed: " + out1);
            }
            String last = out1.substring(out1.lastIndexOf('\n') + 1);
            @SuppressWarnings("unchecked")
            Map<String, Object> row = json.readValue(last, Map.class);
            results.add(row);
            System.out.printf("%-26s %-12s adversarial %10.1f us  benign %10.1f us  cost per byte %6.2f x (%.2f-%.2f)%n",
                    name, row.get("verdict"), row.get("adversarialCpuMicrosPerMessage"), row.get("benignCpuMicrosPerMessage"),
                    row.get("costPerByteRatio"), row.get("costPerByteRatioMin"), row.get("costPerByteRatioMax"));
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("started", started.toString());
        report.put("generated", Instant.now().toString());
        report.put("method", "thread CPU time per message, per shape the adversarial message and its benign twin "
                + "interleaved in " + rounds + " rounds of one slice of " + sliceNanos / 1_000_000 + " ms CPU each, after "
                + warmNanos / 1_000_000 + " ms CPU of warm-up each; the ratio is the median over the rounds of "
                + "(adversarial CPU time per byte) / (benign CPU time per byte)");
        report.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        Map<String, Object> load = new LinkedHashMap<>();
        load.put("before", loadBefore);
        load.put("after", BenchMain.loadAverage());
        report.put("loadAverage", load);
        report.put("goal", "no adversarial shape costs more than " + BenchMain.ADVERSARIAL_GOAL
                + "x per byte what a benign message of the same size costs");
        report.put("shapes", results);
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), report);
        System.out.println("wrote " + out);
    }

    /** One shape in this JVM: its row of the report. */
    private static Map<String, Object> measure(String name, int rounds, long warmNanos, long sliceNanos) throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        AdversarialMessages.Shape shape = AdversarialMessages.shape(name);
        Verifier verifier = AdversarialMessages.verifier();
        CpuTimeRatios.Op adversarial = () -> verify(verifier, shape.adversarial());
        CpuTimeRatios.Op benign = () -> verify(verifier, shape.benign());
        Verdict v = verify(verifier, shape.adversarial());
        if (v.reason() != shape.expected()) {
            throw new IllegalStateException(name + ": expected " + shape.expected() + ", got " + v);
        }
        if (!(verify(verifier, shape.benign()) instanceof Verdict.Pass)) {
            throw new IllegalStateException(name + ": the benign message of the same size does not verify");
        }
        CpuTimeRatios.slice(threads, adversarial, warmNanos);
        CpuTimeRatios.slice(threads, benign, warmNanos);
        double[] a = new double[rounds];
        double[] b = new double[rounds];
        double[] ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            if (r % 2 == 0) {
                a[r] = CpuTimeRatios.slice(threads, adversarial, sliceNanos);
                b[r] = CpuTimeRatios.slice(threads, benign, sliceNanos);
            } else {
                b[r] = CpuTimeRatios.slice(threads, benign, sliceNanos);
                a[r] = CpuTimeRatios.slice(threads, adversarial, sliceNanos);
            }
            ratio[r] = (a[r] / shape.adversarial().length) / (b[r] / shape.benign().length);
        }
        double med = median(ratio);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("shape", name);
        row.put("verdict", shape.expected().token());
        row.put("adversarialBytes", shape.adversarial().length);
        row.put("benignBytes", shape.benign().length);
        row.put("adversarialCpuMicrosPerMessage", round(median(a) / 1000));
        row.put("benignCpuMicrosPerMessage", round(median(b) / 1000));
        row.put("costPerByteRatio", round(med));
        row.put("costPerByteRatioMin", round(Arrays.stream(ratio).min().orElseThrow()));
        row.put("costPerByteRatioMax", round(Arrays.stream(ratio).max().orElseThrow()));
        row.put("met", med <= BenchMain.ADVERSARIAL_GOAL);
        return row;
    }

    static Verdict verify(Verifier verifier, byte[] message) {
        return verifier.verify(message, 0, message.length, Fixtures.ACCEPTED_AT, List.of("bob@b.example")).get("bob@b.example");
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double round(double v) {
        double scale = Math.abs(v) >= 100 ? 10 : 1000;
        return Math.round(v * scale) / scale;
    }
}
