package org.authhmac.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ratios again, from CPU time instead of wall-clock time: on a machine shared with other builds, a benchmark
 * thread waits for a core for a varying share of each JMH iteration, which moves wall-clock figures by far more
 * than the differences measured. Here the five operations run in one JVM, interleaved in short slices, and each is
 * charged only the CPU time of its own thread (ThreadMXBean); the median slice per operation is reported.
 * Arguments: [--quick] [--out file] [--sizes 10KB,1KB] (--sizes: only those sizes, for before/after checks).
 */
public final class CpuTimeRatios {
    private static volatile int sink;

    interface Op {
        Object run() throws Exception;
    }

    private CpuTimeRatios() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        List<String> sizes = List.of(BenchMain.SIZES);
        Path out = Path.of("bench", "results", "cpu-time.json");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--sizes")) {
                sizes = List.of(args[++i].split(","));
            }
            if (args[i].equals("--out")) {
                out = Path.of(args[++i]);
            }
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long warmNanos = quick ? 300_000_000L : 2_000_000_000L;
        long sliceNanos = quick ? 50_000_000L : 150_000_000L;
        int rounds = quick ? 3 : 7;

        Map<String, Object> bySize = new LinkedHashMap<>();
        List<Map<String, Object>> ratios = new ArrayList<>();
        MailBenchmark b = new MailBenchmark();
        for (String size : sizes) {
            MessageState m = new MessageState();
            m.size = size;
            m.generate();
            MailBenchmark.Limit limit = new MailBenchmark.Limit();
            limit.setup(m);
            MailBenchmark.Ours ours = new MailBenchmark.Ours();
            ours.setup(m);
            MailBenchmark.Dkim dkim = new MailBenchmark.Dkim();
            dkim.setup(m);
            Map<String, Op> ops = new LinkedHashMap<>();
            ops.put("limit", () -> b.limit(m, limit));
            ops.put("sign", () -> b.sign(m, ours));
            ops.put("verify", () -> b.verify(ours));
            ops.put("dkimSign", () -> b.dkimSign(m, dkim));
            ops.put("dkimVerify", () -> b.dkimVerify(dkim));
            try {
                for (Op op : ops.values()) {
                    slice(threads, op, warmNanos);
                }
                Map<String, List<Double>> samples = new LinkedHashMap<>();
                for (int r = 0; r < rounds; r++) {
                    for (Map.Entry<String, Op> e : ops.entrySet()) {
                        samples.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(slice(threads, e.getValue(), sliceNanos));
                    }
                }
                Map<String, Object> figures = new LinkedHashMap<>();
                Map<String, Double> median = new LinkedHashMap<>();
                samples.forEach((name, list) -> {
                    double med = median(list);
                    median.put(name, med);
                    figures.put(name, Map.of("cpuMicrosPerMessage", round(med / 1000), "messagesPerCpuSecond", round(1e9 / med)));
                });
                bySize.put(size, figures);
                ratios.add(ratio("sign / limit", size, median.get("limit") / median.get("sign")));
                ratios.add(ratio("verify / limit", size, median.get("limit") / median.get("verify")));
                ratios.add(ratio("sign / DKIM sign", size, median.get("dkimSign") / median.get("sign")));
                ratios.add(ratio("verify / DKIM verify", size, median.get("dkimVerify") / median.get("verify")));
                System.out.println(size + ": " + figures);
            } finally {
                ours.close();
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("method", "thread CPU time per message, median of " + rounds + " interleaved slices of "
                + sliceNanos / 1_000_000 + " ms CPU after " + warmNanos / 1_000_000 + " ms CPU of warm-up per operation");
        report.put("loadAverage", BenchMain.loadAverage());
        report.put("ratios", ratios);
        report.put("figures", bySize);
        Files.createDirectories(out.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), report);
        System.out.println("wrote " + out);
    }

    /** Runs the operation for about {@code cpuNanos} of this thread's CPU time; returns CPU nanoseconds per call. */
    static double slice(ThreadMXBean threads, Op op, long cpuNanos) throws Exception {
        long start = threads.getCurrentThreadCpuTime();
        long calls = 0;
        int batch = 1;
        long used;
        do {
            for (int i = 0; i < batch; i++) {
                sink += System.identityHashCode(op.run());
            }
            calls += batch;
            used = threads.getCurrentThreadCpuTime() - start;
            if (used < cpuNanos / 100 && batch < 1 << 16) {
                batch *= 2; // keep the clock reads rare compared with the work measured
            }
        } while (used < cpuNanos);
        return (double) used / calls;
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static Map<String, Object> ratio(String name, String size, double value) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", name);
        r.put("size", size);
        r.put("value", round(value));
        r.put("unit", "ratio of messages per CPU second");
        return r;
    }

    private static double round(double v) {
        double scale = Math.abs(v) >= 100 ? 10 : 1000;
        return Math.round(v * scale) / scale;
    }
}
