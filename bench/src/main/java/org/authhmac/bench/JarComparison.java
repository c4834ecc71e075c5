package org.authhmac.bench;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.authhmac.protocol.BodyHash;
import org.authhmac.protocol.Canonicalization;

/**
 * Before/after of two (or more) protocol jars in one JVM: each jar is loaded with this module's classes in a class
 * loader of its own, and the operations of all jars run interleaved in slices of thread CPU time, as in
 * {@link CpuTimeRatios}. Both builds then see the same machine state, which separate JVMs on a shared machine do
 * not. Prints the median CPU time per operation, the ratios to the limit and the bytes allocated per operation.
 * Arguments: size ops rounds jar... e.g. {@code 10KB limit,sign,verify,body,prose,base64 7 before.jar after.jar}.
 * sign and verify take the in-place path (fd72b3b and later) or, in an older jar, the stream path the mailets used then.
 * With size {@code adversarial} the operations are the shapes of {@link AdversarialMessages} (verifying the shape's
 * message) and {@code shape/benign} (its benign twin), e.g. {@code adversarial tiny-fields-known-key,tiny-fields-known-key/benign
 * 9 before.jar after.jar}; then the cost per byte of each shape over its twin is printed per jar too.
 */
public final class JarComparison {
    private static volatile int sink;

    private JarComparison() {
    }

    /** The operations of one jar; instantiated inside that jar's class loader. */
    public static final class Driver implements Function<String, Map<String, Callable<Object>>> {
        @Override
        public Map<String, Callable<Object>> apply(String size) {
            if (size.equals("adversarial")) {
                Map<String, Callable<Object>> ops = new LinkedHashMap<>();
                org.authhmac.protocol.Verifier verifier = AdversarialMessages.verifier();
                for (String name : AdversarialMessages.SHAPES) {
                    AdversarialMessages.Shape shape = AdversarialMessages.shape(name);
                    ops.put(name, () -> AdversarialCpuTime.verify(verifier, shape.adversarial()));
                    ops.put(name + "/benign", () -> AdversarialCpuTime.verify(verifier, shape.benign()));
                }
                return ops;
            }
            try {
                MessageState m = new MessageState();
                m.size = size;
                m.generate();
                MailBenchmark b = new MailBenchmark();
                MailBenchmark.Ours ours = new MailBenchmark.Ours();
                ours.setup(m);
                MailBenchmark.Limit limit = new MailBenchmark.Limit();
                limit.setup(m);
                // The two parts of the body: the quoted-printable prose and the base64 attachment.
                String s = new String(m.message, StandardCharsets.ISO_8859_1);
                int ps = s.indexOf("quoted-printable\r\n\r\n") + 20;
                int pe = s.indexOf("\r\n--" + Messages.BOUNDARY, ps) + 2;
                byte[] prose = Arrays.copyOfRange(m.message, ps, pe);
                int as = s.indexOf("\r\n\r\n", s.indexOf("Content-Disposition")) + 4;
                byte[] base64 = Arrays.copyOfRange(m.message, as, s.indexOf("--" + Messages.BOUNDARY, as));
                MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
                Map<String, Callable<Object>> ops = new LinkedHashMap<>();
                ops.put("limit", () -> b.limit(m, limit));
                if (inPlace()) {
                    ops.put("sign", () -> b.sign(m, ours));
                    ops.put("verify", () -> b.verify(ours));
                } else {
                    // A build from before the in-place methods (fd72b3b): the stream path, which is what the mailets
                    // and the matcher called then.
                    ops.put("sign", () -> ours.signer.sign(new ByteArrayInputStream(m.message), ours.request, ours.vault));
                    ops.put("verify", () -> ours.verifier.verify(new ByteArrayInputStream(ours.signed), Fixtures.ACCEPTED_AT,
                            "bob@b.example"));
                }
                ops.put("body", () -> b.relaxedBodyHash(m));
                ops.put("prose", () -> BodyHash.of(Canonicalization.RELAXED, new ByteArrayInputStream(prose)));
                ops.put("base64", () -> BodyHash.of(Canonicalization.RELAXED, new ByteArrayInputStream(base64)));
                ops.put("shaProse", () -> sha256.digest(prose));
                ops.put("shaBase64", () -> sha256.digest(base64));
                return ops;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Whether the protocol jar of this class loader has {@code Signer.sign(byte[], int, int, ...)}. */
    static boolean inPlace() {
        for (java.lang.reflect.Method method : org.authhmac.protocol.Signer.class.getMethods()) {
            if (method.getName().equals("sign") && method.getParameterTypes()[0] == byte[].class) {
                return true;
            }
        }
        return false;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            throw new IllegalArgumentException("usage: JarComparison size ops rounds jar...");
        }
        String size = args[0];
        List<String> ops = List.of(args[1].split(","));
        int rounds = Integer.parseInt(args[2]);
        // This module's class path without its own protocol jar: each loader gets one of the jars compared.
        List<URL> common = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!Path.of(entry).getFileName().toString().startsWith("auth-hmac-protocol")) {
                common.add(Path.of(entry).toUri().toURL());
            }
        }
        Map<String, Map<String, Callable<Object>>> builds = new LinkedHashMap<>();
        for (String jar : List.of(args).subList(3, args.length)) {
            List<URL> urls = new ArrayList<>();
            urls.add(Path.of(jar).toUri().toURL());
            urls.addAll(common);
            ClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
            Thread.currentThread().setContextClassLoader(loader);
            @SuppressWarnings("unchecked")
            Function<String, Map<String, Callable<Object>>> driver = (Function<String, Map<String, Callable<Object>>>)
                    loader.loadClass(Driver.class.getName()).getConstructor().newInstance();
            builds.put(Path.of(jar).getFileName().toString(), driver.apply(size));
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (Map<String, Callable<Object>> build : builds.values()) {
            for (String op : ops) {
                CpuTimeRatios.slice(threads, build.get(op)::call, 1_500_000_000L);
            }
        }
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        List<Map.Entry<String, Map<String, Callable<Object>>>> order = new ArrayList<>(builds.entrySet());
        for (int r = 0; r < rounds; r++) {
            // Every other round in reverse order, so that no build always runs right after another's slices.
            List<Map.Entry<String, Map<String, Callable<Object>>>> thisRound = new ArrayList<>(order);
            if (r % 2 == 1) {
                java.util.Collections.reverse(thisRound);
            }
            for (Map.Entry<String, Map<String, Callable<Object>>> build : thisRound) {
                for (String op : ops) {
                    samples.computeIfAbsent(build.getKey() + " " + op, k -> new ArrayList<>())
                            .add(CpuTimeRatios.slice(threads, build.getValue().get(op)::call, 150_000_000L));
                }
            }
        }
        System.out.println("size " + size + ", load average " + Files.readString(Path.of("/proc/loadavg")).trim());
        Map<String, Double> median = new LinkedHashMap<>();
        samples.forEach((k, list) -> {
            double[] v = list.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            median.put(k, v[v.length / 2]);
            System.out.printf("%-50s %10.3f us (min %.3f, max %.3f)%n", k, v[v.length / 2] / 1000, v[0] / 1000, v[v.length - 1] / 1000);
        });
        // Paired: per round, each build's time over the first build's, so that drift in the machine's load
        // (the same in both slices of a round) cancels; median of those ratios and the rounds where it was faster.
        String first = order.get(0).getKey();
        for (String build : builds.keySet()) {
            if (build.equals(first)) {
                continue;
            }
            for (String op : ops) {
                List<Double> a = samples.get(first + " " + op);
                List<Double> b = samples.get(build + " " + op);
                double[] ratio = new double[a.size()];
                int faster = 0;
                for (int i = 0; i < ratio.length; i++) {
                    ratio[i] = b.get(i) / a.get(i);
                    faster += ratio[i] < 1 ? 1 : 0;
                }
                Arrays.sort(ratio);
                System.out.printf("%-50s %10.3f x %s (paired median; faster in %d of %d rounds)%n",
                        build + " " + op, ratio[ratio.length / 2], first, faster, ratio.length);
            }
        }
        for (Map.Entry<String, Map<String, Callable<Object>>> build : builds.entrySet()) {
            for (String op : ops) {
                Callable<Object> c = build.getValue().get(op);
                // About 0.3 s of CPU per operation, at most 20,000 calls.
                int calls = (int) Math.max(20, Math.min(20_000, 3e8 / median.get(build.getKey() + " " + op)));
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < calls; i++) {
                    sink += System.identityHashCode(c.call());
                }
                System.out.printf("%-50s %10.0f B/op%n", build.getKey() + " " + op,
                        (threads.getCurrentThreadAllocatedBytes() - before) / (double) calls);
            }
        }
        if (size.equals("adversarial")) {
            for (String build : builds.keySet()) {
                for (String op : ops) {
                    if (!op.endsWith("/benign") && median.containsKey(build + " " + op + "/benign")) {
                        AdversarialMessages.Shape shape = AdversarialMessages.shape(op);
                        double perByte = (median.get(build + " " + op) / shape.adversarial().length)
                                / (median.get(build + " " + op + "/benign") / shape.benign().length);
                        System.out.printf("%-40s %s: cost per byte %.2f x benign%n", build, op, perByte);
                    }
                }
            }
        }
        for (String build : builds.keySet()) {
            Double limit = median.get(build + " limit");
            for (String op : List.of("sign", "verify")) {
                if (limit != null && median.containsKey(build + " " + op)) {
                    System.out.printf("%-40s %s / limit = %.3f%n", build, op, limit / median.get(build + " " + op));
                }
            }
        }
    }
}
