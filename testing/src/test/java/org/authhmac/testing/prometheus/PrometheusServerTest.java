package org.authhmac.testing.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrometheusServerTest {
    @TempDir
    Path dir;

    @Test
    void scrapesATargetAndAnswersQueriesOnItsSamples() throws Exception {
        // given a target that serves what James's /metrics serves for one partner gauge and one meter
        HttpServer target = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        target.createContext("/metrics", exchange -> {
            byte[] body = ("# TYPE authhmac_partner_a_example_offset_p99 gauge\n"
                    + "authhmac_partner_a_example_offset_p99 200.0\n"
                    + "# TYPE authhmac_partner_a_example_verdict_pass_verified_total counter\n"
                    + "authhmac_partner_a_example_verdict_pass_verified_total 3.0\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        target.start();
        try (PrometheusServer prometheus = PrometheusServer.start(dir, Duration.ofMillis(500),
                Map.of("james-b", "127.0.0.1:" + target.getAddress().getPort()))) {
            // when it has scraped the target
            prometheus.awaitTargetsUp(Duration.ofSeconds(30));

            // then a query by name returns the value, and the partner can be read back out of the name
            assertThat(prometheus.value("authhmac_partner_a_example_offset_p99")).contains(200.0);
            assertThat(prometheus.query("label_replace({__name__=~\"authhmac_partner_.+_offset_p99\"}, \"partner\", \"$1\", "
                    + "\"__name__\", \"authhmac_partner_(.+)_offset_p99\")").get(0).path("metric").path("partner").asText())
                    .isEqualTo("a_example");
            assertThat(prometheus.query("nothing_by_this_name")).isEmpty();
            assertThat(prometheus.graphPage(List.of("up"), Duration.ofMinutes(5)).toString())
                    .startsWith(prometheus.url() + "/graph?g0.expr=up&g0.tab=0");
        } finally {
            target.stop(0);
        }
    }
}
