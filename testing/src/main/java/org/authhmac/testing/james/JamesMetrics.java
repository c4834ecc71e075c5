package org.authhmac.testing.james;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * James's DropWizard metric registry read from outside, as a Prometheus scraper reads it: James 3.8.1 ships
 * {@code org.apache.james.webadmin.dropwizard.MetricsRoutes}, which WebAdmin serves at {@code /metrics} when
 * {@code webadmin.properties} lists it in {@code extensions.routes} (James's documented way to expose metrics).
 * No JMX port is needed, so two servers on one host never collide and nothing listens beyond WebAdmin's
 * loopback port.
 *
 * <p>Timers ({@code MetricFactory.timer}: ours, and James's per-mailet and per-matcher timers, named after the
 * mailet's or matcher's class) come out as Prometheus summaries in seconds with quantiles 0.5 ... 0.999 and a
 * count; meters ({@code MetricFactory.generate}) as counters. The quantiles come from DropWizard's default
 * reservoir (exponentially decaying, 1,028 samples, weighted to the last five minutes), the count is exact.
 */
public final class JamesMetrics {
    /** The webadmin.properties values that turn the route on: pass them to {@code Builder.properties}. */
    public static final Map<String, String> WEBADMIN_PROPERTIES =
            Map.of("extensions.routes", "org.apache.james.webadmin.dropwizard.MetricsRoutes");

    /** One line of the Prometheus text format: a sample name, its label block as written, and its value. */
    public record Sample(String name, String labels, double value) {
    }

    /** A DropWizard timer as scraped: how many times it ran, and its quantiles in seconds. */
    public record Timer(String name, long count, double p50Seconds, double p99Seconds, double maxQuantileSeconds) {
        public double p50Millis() {
            return p50Seconds * 1e3;
        }

        public double p99Millis() {
            return p99Seconds * 1e3;
        }
    }

    private final List<Sample> samples;

    private JamesMetrics(List<Sample> samples) {
        this.samples = samples;
    }

    /** Scrapes one server's {@code /metrics}; fails if the route is not turned on. */
    public static JamesMetrics scrape(JamesServerProcess server) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.ports().webAdmin() + "/metrics"))
                .timeout(Duration.ofSeconds(30)).GET().build();
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET /metrics on James " + server.name() + ": HTTP " + r.statusCode()
                        + " (is extensions.routes=MetricsRoutes in webadmin.properties?)");
            }
            return parse(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("GET /metrics on James " + server.name() + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JamesMetrics parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            line = line.trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            String key = line.substring(0, space).trim();
            double value = Double.parseDouble(line.substring(space + 1).trim());
            int brace = key.indexOf('{');
            out.add(brace < 0 ? new Sample(key, "", value) : new Sample(key.substring(0, brace), key.substring(brace), value));
        }
        return new JamesMetrics(List.copyOf(out));
    }

    /** The Prometheus name DropWizard's exporter gives a registry name (dots and dashes become underscores). */
    static String prometheusName(String dropwizardName) {
        return dropwizardName.replaceAll("[^a-zA-Z0-9_:]", "_");
    }

    /** A timer by its registry name (for example {@code authhmac.sign.time} or {@code SignWithAuthHmac}), if it ever ran. */
    public Optional<Timer> timer(String dropwizardName) {
        String n = prometheusName(dropwizardName);
        Optional<Double> count = value(n + "_count", "");
        if (count.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Timer(dropwizardName, count.get().longValue(),
                quantile(n, "0.5"), quantile(n, "0.99"), quantile(n, "0.999")));
    }

    /** A meter's count by its registry name; 0 when it was never marked (DropWizard registers it on first use). */
    public long counter(String dropwizardName) {
        String n = prometheusName(dropwizardName);
        return value(n + "_total", "").or(() -> value(n, "")).map(Double::longValue).orElse(0L);
    }

    /** Every sample whose name starts with the prefix (for printing what a run left behind). */
    public List<Sample> startingWith(String prefix) {
        return samples.stream().filter(s -> s.name().startsWith(prefix)).toList();
    }

    private double quantile(String name, String q) {
        return samples.stream()
                .filter(s -> s.name().equals(name) && s.labels().contains("quantile=\"" + q + "\""))
                .map(Sample::value).findFirst()
                .orElseThrow(() -> new IllegalStateException("no quantile " + q + " for timer " + name));
    }

    private Optional<Double> value(String name, String labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels))
                .map(Sample::value).findFirst();
    }
}
