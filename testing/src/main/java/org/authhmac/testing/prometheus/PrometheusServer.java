package org.authhmac.testing.prometheus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.authhmac.testing.FreePorts;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Prometheus server on a free loopback port that scrapes the given targets (James WebAdmin {@code /metrics}
 * routes) every {@code scrapeInterval}, and answers PromQL through its HTTP API as Grafana asks it. The binary is
 * {@code -Dauthhmac.it.prometheus=<path>} or {@code prometheus} on the PATH (Debian: {@code apt-get install
 * prometheus}; scripts/ensure-tools installs it).
 *
 * <p>When it is missing the test is skipped on a developer machine and fails in CI (environment variable CI=true), as
 * with swtpm and redis-server.
 */
public final class PrometheusServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final int port;
    private final Process process;
    private final Thread hook;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private PrometheusServer(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
        this.hook = new Thread(process::destroyForcibly, "kill-prometheus-" + port);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The binary this JVM would start, if there is one. */
    public static Optional<Path> binary() {
        String configured = System.getProperty("authhmac.it.prometheus");
        if (configured != null) {
            return Optional.of(Path.of(configured)).filter(Files::isExecutable);
        }
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(d, "prometheus");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    public static boolean installed() {
        return binary().isPresent();
    }

    /** Skips the calling test when prometheus is missing, except in CI, where it fails. */
    public static void requireInstalled() {
        if (installed()) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("prometheus is not installed, and CI=true: the Prometheus tests must run in CI "
                    + "(apt-get install prometheus, or -Dauthhmac.it.prometheus=<binary>)");
        }
        Assumptions.abort("prometheus is not installed (apt-get install prometheus); skipping outside CI");
    }

    /**
     * Starts Prometheus with its data in {@code dir} (emptied first), scraping {@code /metrics} of each target
     * ({@code host:port}, one job per name) every {@code scrapeInterval}; returns once it answers {@code /-/ready}.
     */
    public static PrometheusServer start(Path dir, Duration scrapeInterval, Map<String, String> targetsByJob) {
        requireInstalled();
        Path abs = dir.toAbsolutePath();
        int port = FreePorts.next();
        try {
            deleteRecursively(abs);
            Files.createDirectories(abs);
            Files.writeString(abs.resolve("prometheus.yml"), config(scrapeInterval, targetsByJob));
            Process p = new ProcessBuilder(List.of(binary().orElseThrow().toString(),
                    "--config.file=" + abs.resolve("prometheus.yml"),
                    "--storage.tsdb.path=" + abs.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + port))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(abs.resolve("prometheus.log").toFile()))
                    .start();
            PrometheusServer server = new PrometheusServer(abs, port, p);
            server.awaitReady(Duration.ofSeconds(30));
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start prometheus", e);
        }
    }

    /** The scrape configuration as an operator writes it for James (docs/OPERATIONS.md, "Watching your partners"). */
    static String config(Duration scrapeInterval, Map<String, String> targetsByJob) {
        String interval = scrapeInterval.toMillis() + "ms";
        StringBuilder y = new StringBuilder("global:\n  scrape_interval: " + interval + "\n  evaluation_interval: " + interval
                + "\nscrape_configs:\n");
        targetsByJob.forEach((job, target) -> y.append("  - job_name: '").append(job).append("'\n")
                .append("    metrics_path: /metrics\n")
                .append("    static_configs:\n")
                .append("      - targets: ['").append(target).append("']\n"));
        return y.toString();
    }

    public int port() {
        return port;
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public Path logFile() {
        return dir.resolve("prometheus.log");
    }

    /** An instant query through {@code /api/v1/query}: the {@code data.result} array (empty when nothing matches). */
    public JsonNode query(String promql) {
        JsonNode body = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        if (!"success".equals(body.path("status").asText())) {
            throw new IllegalStateException("Prometheus refused " + promql + ": " + body);
        }
        return body.path("data").path("result");
    }

    /** The first value of an instant query, if it returned any series. */
    public Optional<Double> value(String promql) {
        JsonNode result = query(promql);
        if (result.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Double.parseDouble(result.get(0).path("value").get(1).asText()));
    }

    /** Waits until every target's last scrape succeeded. */
    public void awaitTargetsUp(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            JsonNode targets = get("/api/v1/targets").path("data").path("activeTargets");
            last = targets.toString();
            boolean allUp = !targets.isEmpty();
            for (JsonNode t : targets) {
                allUp &= "up".equals(t.path("health").asText());
            }
            if (allUp) {
                return;
            }
            sleep(Duration.ofMillis(200));
        }
        throw new IllegalStateException("Prometheus targets not up within " + timeout + ": " + last);
    }

    /**
     * Prometheus's own graph page for these expressions (one graph each, ending now, over {@code range}): what an
     * operator opens to look at one query without Grafana.
     */
    public URI graphPage(List<String> exprs, Duration range) {
        List<String> params = new ArrayList<>();
        for (int i = 0; i < exprs.size(); i++) {
            params.add("g" + i + ".expr=" + URLEncoder.encode(exprs.get(i), StandardCharsets.UTF_8));
            params.add("g" + i + ".tab=0");
            params.add("g" + i + ".range_input=" + range.toSeconds() + "s");
        }
        return url().resolve("/graph?" + String.join("&", params));
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("prometheus exited with " + process.exitValue() + ":\n" + logTail());
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(url().resolve("/-/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            sleep(Duration.ofMillis(100));
        }
        throw new IllegalStateException("prometheus not ready within " + timeout + ":\n" + logTail());
    }

    private JsonNode get(String pathAndQuery) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url() + pathAndQuery)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + pathAndQuery + " on Prometheus", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(logFile());
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** SIGTERM, then SIGKILL after 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // hook already running
        }
    }

    /** Convenience for one job per James server: {@code name -> 127.0.0.1:<webadmin port>}. */
    public static Map<String, String> loopbackTargets(Map<String, Integer> webAdminPortsByName) {
        Map<String, String> out = new LinkedHashMap<>();
        webAdminPortsByName.forEach((name, p) -> out.put(name, "127.0.0.1:" + p));
        return out;
    }
}
