package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.SigningClockOffset;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.authhmac.testing.james.WebAdminJwt;
import org.authhmac.testing.prometheus.PrometheusServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What an operator sees of each partner's health, on real James pairs (james-conf/ as shipped, swtpm, B's WebAdmin with
 * JWT, {@code extensions.routes} with James's {@code MetricsRoutes} and our {@code PartnerHealthRoutes} on B and
 * {@code MetricsRoutes} on A): the {@code AuthHmacPartners} health check, {@code GET /auth-hmac/partners}, and the
 * Grafana dashboard's queries on a real Prometheus scraping both servers' {@code /metrics}.
 *
 * <p>The first pair's A signs with a clock 200 s fast (SigningClockOffset: only the signing mailet's clock moves), which
 * B accepts (maxFutureSkew 300 s) and flags (past 50% of it). The key rotation runs on a pair of its own with true
 * clocks, so that its health can come back to healthy. Prometheus is needed for the dashboard test: skipped without
 * it, failed under CI=true. {@code -Dauthhmac.partnerHealth.screenshot=<png>} (with chromium) keeps mail flowing for
 * {@code -Dauthhmac.partnerHealth.screenshotMinutes} (default 4) and takes a picture of Prometheus's graph page.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PartnerHealthIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final Duration SKEW = Duration.ofSeconds(200);
    static final String ROUTES = "org.apache.james.webadmin.dropwizard.MetricsRoutes,org.authhmac.webadmin.PartnerHealthRoutes";
    static final String METRICS_ONLY = "org.apache.james.webadmin.dropwizard.MetricsRoutes";
    static final Pattern AHEAD = Pattern.compile("its clock runs (-?\\d+) s ahead");
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static Path root;
    private static AuthHmacPair skewed;
    private static PrometheusServer prometheus;

    @BeforeAll
    static void startSkewedPairAndPrometheus() {
        root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "partner-health").toAbsolutePath();
        skewed = startPair(root.resolve("skewed"), SigningClockOffset.of(SKEW, root.resolve("skewed")));
        if (PrometheusServer.installed()) {
            // from the start, so that the graphs have the whole run
            prometheus = PrometheusServer.start(root.resolve("prometheus"), Duration.ofSeconds(1), PrometheusServer.loopbackTargets(
                    Map.of("james-a", skewed.a().ports().webAdmin(), "james-b", skewed.b().ports().webAdmin())));
        }
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (skewed != null) {
            skewed.close();
        }
    }

    static AuthHmacPair startPair(Path dir, Consumer<JamesServerProcess.Builder> tweakA) {
        WebAdminJwt jwt = WebAdminJwt.generate();
        return AuthHmacPair.start(dir, E2eLayout.current(), AuthHmacPair.VaultKind.TPM,
                a -> {
                    a.extensionJar(JamesRuntime.javaxBundleJar()).properties("webadmin.properties", Map.of("extensions.routes", METRICS_ONLY));
                    tweakA.accept(a);
                },
                b -> b.extensionJar(JamesRuntime.javaxBundleJar()).webAdminJwt(jwt, "admin@b.example")
                        .properties("webadmin.properties", Map.of("extensions.routes", ROUTES)),
                bSmtp -> bSmtp);
    }

    @Test
    @Order(1)
    void aPartnerWhoseClockRunsTwoHundredSecondsFastIsDegradedBeforeAnyMailIsHeld() throws Exception {
        // given B, healthy about its partners before any mail, and nothing held
        assertThat(partnersCheck(skewed).path("status").asText()).isEqualTo("healthy");
        assertThat(skewed.b().webAdmin().repositorySize(QUARANTINE)).isZero();

        // when alice sends bob one mail through A, whose signing clock runs 200 s fast
        String first = send(skewed, "first from a fast clock");
        long sentAt = System.nanoTime();

        // then B's health is degraded, naming a.example and its offset, within seconds
        JsonNode degraded = awaitPartnersCheck(skewed, "degraded", Duration.ofSeconds(60));
        long delayMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt);
        String cause = degraded.path("cause").asText();
        assertThat(cause).contains("partner a.example", "maxFutureSkew 300 s", "NTP");
        long offsetInCause = aheadSeconds(cause);
        assertThat(offsetInCause).isBetween(199L, 201L);
        // and the mail itself passed: bob has it with auth-hmac=pass, nothing is held
        ImapReader.Received mail = skewed.bobInbox().awaitMessageId(first, Duration.ofSeconds(60))
                .orElseThrow(() -> new AssertionError("not delivered; B log:\n" + skewed.b().logTail(40)));
        assertThat(mail.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
        assertThat(skewed.b().webAdmin().repositorySize(QUARANTINE)).as("held mail").isZero();

        // when two more arrive
        String second = send(skewed, "second from a fast clock");
        String third = send(skewed, "third from a fast clock");
        skewed.bobInbox().awaitMessageId(second, Duration.ofSeconds(60)).orElseThrow();
        skewed.bobInbox().awaitMessageId(third, Duration.ofSeconds(60)).orElseThrow();

        // then the route reports a.example degraded, its offset over the three passes within 1 s of 200 s
        JsonNode a = partner(skewed, "a.example");
        assertThat(a.path("status").asText()).isEqualTo("degraded");
        JsonNode offsets = a.path("offsetSeconds");
        assertThat(offsets.path("samples").asInt()).isEqualTo(3);
        for (String figure : List.of("p01", "p50", "p99", "min", "max")) {
            assertThat(offsets.path(figure).asLong()).as(figure).isBetween(199L, 201L);
        }
        assertThat(a.path("verdicts").toString()).contains("\"result\":\"pass\",\"reason\":\"verified\",\"count\":3");
        assertThat(a.path("keyIds").get(0).path("keyId").asText()).isEqualTo("k1");
        assertThat(a.path("keyIds").get(0).path("heldHere").asBoolean()).isTrue();
        assertThat(skewed.b().webAdmin().repositorySize(QUARANTINE)).as("held mail").isZero();
        System.out.printf("partner health: first skewed mail to degraded health %d ms; offset in the health check %d s; "
                + "route after 3 passes: %s%n", delayMillis, offsetInCause, offsets);
    }

    @Test
    @Order(2)
    void everyQueryOfTheDashboardReturnsDataFromPrometheusScrapingThePair() throws Exception {
        PrometheusServer.requireInstalled();
        // given some of everything the dashboard shows: passes (test 1 and one more), a forgery held with its notice
        String passed = send(skewed, "one more from a fast clock");
        String forged = "<" + UUID.randomUUID() + "@a.example>";
        SmtpSender.mta(skewed.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "forged", forged.substring(1, forged.length() - 1), "Pay.\n"));
        skewed.b().awaitRepositoryMailKey(QUARANTINE, forged);
        skewed.bobInbox().awaitMessageId(passed, Duration.ofSeconds(60)).orElseThrow();
        prometheus.awaitTargetsUp(Duration.ofSeconds(30));

        // when Prometheus answers each panel's query, as Grafana asks it with every instance selected
        Map<String, String> queries = dashboardQueries();
        assertThat(queries).hasSizeGreaterThanOrEqualTo(12);
        Map<String, String> empty = new LinkedHashMap<>(queries);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!empty.isEmpty() && System.nanoTime() < deadline) {
            empty.entrySet().removeIf(q -> !prometheus.query(q.getValue()).isEmpty());
            Thread.sleep(1000);
        }

        // then every one returns data
        assertThat(empty).as("dashboard queries without data").isEmpty();
        String offset = "label_replace({__name__=~\"authhmac_partner_.+_offset_p50\"}, \"partner\", \"$1\", \"__name__\", "
                + "\"authhmac_partner_(.+)_offset_p50\")";
        assertThat(prometheus.query(offset).get(0).path("metric").path("partner").asText()).isEqualTo("a_example");
        assertThat(prometheus.value("authhmac_partner_a_example_offset_p50").orElseThrow()).isBetween(199.0, 201.0);
        assertThat(prometheus.value("authhmac_partner_a_example_degraded").orElseThrow()).isEqualTo(1.0);
        System.out.printf("partner health: %d dashboard queries answered by Prometheus %s%n", queries.size(), prometheus.url());
    }

    @Test
    @Order(3)
    void screenshotOfPrometheusGraphsWhileMailFlows() throws Exception {
        String png = System.getProperty("authhmac.partnerHealth.screenshot");
        Assumptions.assumeTrue(png != null, "-Dauthhmac.partnerHealth.screenshot=<png> takes the picture");
        PrometheusServer.requireInstalled();
        long minutes = Long.getLong("authhmac.partnerHealth.screenshotMinutes", 4);
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        for (int i = 0; System.nanoTime() < end; i++) {
            send(skewed, "flow " + i);
            if (i % 8 == 7) {
                SmtpSender.mta(skewed.b().ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                        SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "forged " + i, UUID.randomUUID() + "@a.example", "Pay.\n"));
            }
            Thread.sleep(5000);
        }
        Map<String, String> queries = dashboardQueries();
        URI page = prometheus.graphPage(List.of(
                "{__name__=~\"authhmac_partner_.+_offset_(p50|p99|max)\"}",
                queries.get("Results per partner: A")), Duration.ofMinutes(minutes + 1));
        Path out = Path.of(png).toAbsolutePath();
        Files.createDirectories(out.getParent());
        Process chromium = new ProcessBuilder("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--window-size=1280,1800", "--virtual-time-budget=20000", "--screenshot=" + out, page.toString())
                .redirectErrorStream(true).redirectOutput(root.resolve("chromium.log").toFile()).start();
        assertThat(chromium.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.size(out)).isGreaterThan(10_000);
        System.out.printf("partner health: screenshot of %s in %s%n", page, out);
    }

    @Test
    @Order(4)
    void aKeyPromotedOnTheSenderBeforeTheReceiverImportedItIsNamedUntilTheImport() throws Exception {
        try (AuthHmacPair pair = startPair(root.resolve("rotation"), a -> { })) {
            // given a first mail under k1: passes, and B is healthy about a.example
            pair.bobInbox().awaitMessageId(send(pair, "under k1"), Duration.ofSeconds(60)).orElseThrow();
            assertThat(partnersCheck(pair).path("status").asText()).isEqualTo("healthy");

            // when A's operator adds k2 and promotes it at once, before B's operator imported it
            Path export = pair.root().resolve("a-b-k2.secret");
            pair.cli().run(AuthHmacPair.authHmacConfig(pair.a()), "keys", "rotate", "add", "--keyset", AuthHmacPair.KEYSET,
                    "--key-id", "k2", "--export", export.toString());
            pair.cli().run(AuthHmacPair.authHmacConfig(pair.a()), "keys", "rotate", "promote", "--key-id", "k2");
            // A's vault re-reads its keyset file about once a second
            Thread.sleep(2500);
            String held = send(pair, "under k2, before B has it");

            // then B holds it as unknown-key, and its health names the partner, the key id and the import
            JsonNode mail = pair.b().webAdmin().mail(QUARANTINE, pair.b().awaitRepositoryMailKey(QUARANTINE, held));
            assertThat(WebAdminClient.attribute(mail, "org.authhmac.reason")).isEqualTo("unknown-key");
            JsonNode degraded = awaitPartnersCheck(pair, "degraded", Duration.ofSeconds(30));
            assertThat(degraded.path("cause").asText()).contains("partner a.example", "key id(s) k2",
                    "auth-hmac keys import --keyset a-b");
            JsonNode k2 = keySeen(partner(pair, "a.example"), "k2");
            assertThat(k2.path("heldHere").asBoolean()).isFalse();

            // when B's operator imports the file, James running
            pair.cli().run(AuthHmacPair.authHmacConfig(pair.b()), "keys", "import", "--keyset", AuthHmacPair.KEYSET,
                    "--from", export.toString());
            Files.delete(export);

            // then B's health is healthy again, without a restart, and new mail under k2 passes
            awaitPartnersCheck(pair, "healthy", Duration.ofSeconds(30));
            assertThat(keySeen(partner(pair, "a.example"), "k2").path("heldHere").asBoolean()).isTrue();
            String after = send(pair, "under k2, after the import");
            ImapReader.Received passed = pair.bobInbox().awaitMessageId(after, Duration.ofSeconds(60))
                    .orElseThrow(() -> new AssertionError("not delivered; B log:\n" + pair.b().logTail(40)));
            assertThat(passed.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass", "header.s=k2"));
            assertThat(partnersCheck(pair).path("status").asText()).isEqualTo("healthy");
        }
    }

    /** Alice's mail to bob through A's submission port; returns its Message-ID as bob's INBOX shows it. */
    static String send(AuthHmacPair pair, String subject) {
        String id = UUID.randomUUID() + "@a.example";
        pair.aliceSubmission().send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, subject, id, "Hello Bob\n"));
        return "<" + id + ">";
    }

    /** B's {@code GET /healthcheck/checks/AuthHmacPartners} (public, as every James health check). */
    static JsonNode partnersCheck(AuthHmacPair pair) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
                URI.create(pair.b().webAdminUrl() + "/healthcheck/checks/AuthHmacPartners")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET /healthcheck/checks/AuthHmacPartners: %s", r.body()).isIn(200, 503);
        return JSON.readTree(r.body());
    }

    static JsonNode awaitPartnersCheck(AuthHmacPair pair, String status, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = partnersCheck(pair);
            if (status.equals(last.path("status").asText())) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("AuthHmacPartners not " + status + " within " + timeout + ": " + last + "\nB log:\n" + pair.b().logTail(30));
    }

    /** One partner from B's {@code GET /auth-hmac/partners}, with the admin's token. */
    static JsonNode partner(AuthHmacPair pair, String domain) throws IOException {
        HttpResponse<String> r = pair.b().webAdmin().send("GET", "/auth-hmac/partners", null);
        assertThat(r.statusCode()).as("GET /auth-hmac/partners: %s", r.body()).isEqualTo(200);
        for (JsonNode p : JSON.readTree(r.body())) {
            if (domain.equals(p.path("domain").asText())) {
                return p;
            }
        }
        throw new AssertionError("no partner " + domain + " in " + r.body());
    }

    static JsonNode keySeen(JsonNode partner, String keyId) {
        for (JsonNode k : partner.path("keyIds")) {
            if (keyId.equals(k.path("keyId").asText())) {
                return k;
            }
        }
        throw new AssertionError("no key id " + keyId + " in " + partner);
    }

    static long aheadSeconds(String cause) {
        Matcher m = AHEAD.matcher(cause);
        assertThat(m.find()).as("offset in %s", cause).isTrue();
        return Long.parseLong(m.group(1));
    }

    /**
     * Every target of james-conf/monitoring/auth-hmac-dashboard.json, keyed "panel title: refId", with the variables as
     * Grafana fills them: all instances selected ({@code instance=~".*"}), and {@code $__rate_interval} as Grafana makes
     * it for a 15 s scrape interval (four of them: 1m).
     */
    static Map<String, String> dashboardQueries() throws IOException {
        JsonNode dashboard = JSON.readTree(JamesRuntime.repoPath("james-conf/monitoring/auth-hmac-dashboard.json").toFile());
        Map<String, String> out = new LinkedHashMap<>();
        List<JsonNode> panels = new ArrayList<>();
        dashboard.path("panels").forEach(p -> {
            panels.add(p);
            p.path("panels").forEach(panels::add);
        });
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                out.put(panel.path("title").asText() + ": " + target.path("refId").asText(),
                        target.path("expr").asText().replace("$instance", ".*").replace("$__rate_interval", "1m"));
            }
        }
        return out;
    }
}
