package org.authhmac.webadmin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.apache.james.jwt.JwtTokenVerifier;
import org.apache.james.metrics.api.NoopGaugeRegistry;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.webadmin.RandomPortSupplier;
import org.apache.james.webadmin.WebAdminConfiguration;
import org.apache.james.webadmin.WebAdminServer;
import org.apache.james.webadmin.authentication.AuthenticationFilter;
import org.apache.james.webadmin.authentication.JwtFilter;
import org.apache.james.webadmin.authentication.NoAuthenticationFilter;
import org.apache.james.webadmin.mdc.LoggingRequestFilter;
import org.authhmac.james.PartnerHealth;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The partners route on James's own WebAdmin server and JWT filter, called over HTTP, over a {@link PartnerHealth}
 * fed as the receiving matcher feeds it: what an admin reads for a partner whose clock runs ahead, for one that signs
 * with a key this server lacks, and that nothing else comes out.
 */
class PartnerHealthRoutesTest {
    static final Instant NOW = Instant.parse("2026-06-01T10:00:00Z");
    static final byte[] A_B_SECRET = InMemoryKeyVault.primary("a-b k1");
    static final ObjectMapper JSON = new ObjectMapper();

    final HttpClient http = HttpClient.newHttpClient();
    PartnerHealth health;
    WebAdminServer server;
    KeyPair jwtKeys;

    /** WebAdminServer's constructor is protected: James builds it through Guice, the tests through this subclass. */
    static final class TestWebAdmin extends WebAdminServer {
        TestWebAdmin(PartnerHealthRoutes routes, AuthenticationFilter filter) {
            super(WebAdminConfiguration.builder().enabled().corsDisabled().host("127.0.0.1").port(new RandomPortSupplier()).build(),
                    List.of(routes), filter, new RecordingMetricFactory(), LoggingRequestFilter.create());
        }
    }

    @BeforeEach
    void start() throws Exception {
        InMemoryKeyVault vault = new InMemoryKeyVault().add("k1", "a-b", KeyStatus.PRIMARY, A_B_SECRET);
        PartnerPolicyFile partners = PartnerPolicyFile.of(TestPartners.of(
                "partner.a.example.keyset=a-b", "partner.a.example.maxFutureSkew=5m",
                "partner.c.example.keyset=a-c"));
        health = new PartnerHealth(partners, vault, new RecordingMetricFactory(), new NoopGaugeRegistry(),
                Clock.fixed(NOW, ZoneOffset.UTC));
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        jwtKeys = g.generateKeyPair();
        JwtTokenVerifier verifier = new JwtTokenVerifier(() -> List.of(jwtKeys.getPublic()));
        JwtFilter filter = new JwtFilter(() -> verifier);
        server = new TestWebAdmin(new PartnerHealthRoutes(health), filter);
        server.start();
    }

    @AfterEach
    void stop() {
        server.destroy();
    }

    /** An RS256 token as an admin's tooling makes it for James's WebAdmin (claim admin=true). */
    String token() throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String claims = b64.encodeToString("{\"sub\":\"admin@b.example\",\"admin\":true}".getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(jwtKeys.getPrivate());
        s.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
        return header + "." + claims + "." + b64.encodeToString(s.sign());
    }

    HttpResponse<String> call(String method, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort().getValue() + "/auth-hmac/partners"))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A signature header of a.example under {@code keyId}, signed {@code offsetSeconds} after {@link #NOW}. */
    static SignatureHeader signedBy(String keyId, long offsetSeconds) {
        return new SignatureHeader(1, "hmac-sha256", "a.example", keyId, NOW.getEpochSecond() + offsetSeconds, 900,
                "relaxed/relaxed", List.of("from", "to", "subject"), "A".repeat(43) + "=", "b.example",
                "n0nce-n0nce-n0nce", "B".repeat(43) + "=");
    }

    @Test
    void showsAPartnerWhoseClockRunsAheadAsDegradedWithItsOffsetVerdictsAndKeys() throws Exception {
        // given three passes from a.example whose clock runs 200 s ahead (past 50% of maxFutureSkew 300 s)
        for (int i = 0; i < 3; i++) {
            health.observe("a.example", List.of(new Verdict.Pass(signedBy("k1", 200))), NOW.minusSeconds(i));
        }

        // when the admin asks
        HttpResponse<String> r = call("GET", token());

        // then a.example is degraded, with the figures the health check judged, and c.example has no figures yet
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
        JsonNode partners = JSON.readTree(r.body());
        assertThat(partners).hasSize(2);
        JsonNode a = partners.get(0);
        assertThat(a.path("domain").asText()).isEqualTo("a.example");
        assertThat(a.path("keyset").asText()).isEqualTo("a-b");
        assertThat(a.path("status").asText()).isEqualTo("degraded");
        assertThat(a.path("problems").get(0).asText()).contains("a.example", "202 s ahead", "maxFutureSkew 300 s");
        JsonNode offsets = a.path("offsetSeconds");
        assertThat(offsets.path("samples").asInt()).isEqualTo(3);
        assertThat(offsets.path("p50").asLong()).isEqualTo(201);
        assertThat(offsets.path("max").asLong()).isEqualTo(202);
        assertThat(offsets.path("min").asLong()).isEqualTo(200);
        assertThat(a.path("lastPass").asText()).isEqualTo(NOW.toString());
        assertThat(a.path("verdicts").get(0).path("result").asText()).isEqualTo("pass");
        assertThat(a.path("verdicts").get(0).path("reason").asText()).isEqualTo("verified");
        assertThat(a.path("verdicts").get(0).path("count").asLong()).isEqualTo(3);
        assertThat(a.path("keyIds").get(0).path("keyId").asText()).isEqualTo("k1");
        assertThat(a.path("keyIds").get(0).path("heldHere").asBoolean()).isTrue();
        JsonNode c = partners.get(1);
        assertThat(c.path("domain").asText()).isEqualTo("c.example");
        assertThat(c.path("status").asText()).isEqualTo("healthy");
        assertThat(c.path("offsetSeconds").isNull()).isTrue();
        assertThat(c.path("lastPass").isNull()).isTrue();
    }

    @Test
    void namesAKeyIdThisServerDoesNotHoldAndTheImportThatMends() throws Exception {
        // given a.example signing with k2, promoted on its side before it was imported here
        health.observe("a.example", List.of(new Verdict.PermError(Reason.UNKNOWN_KEY, Optional.of(signedBy("k2", 1)),
                "unknown key id k2")), NOW);

        // when the admin asks
        JsonNode a = JSON.readTree(call("GET", token()).body()).get(0);

        // then the partner is degraded for k2, counted as permerror / unknown-key, and no pass gave it an offset
        assertThat(a.path("status").asText()).isEqualTo("degraded");
        assertThat(a.path("problems").get(0).asText()).contains("key id(s) k2", "auth-hmac keys import --keyset a-b");
        assertThat(a.path("keyIds").get(0).path("keyId").asText()).isEqualTo("k2");
        assertThat(a.path("keyIds").get(0).path("heldHere").asBoolean()).isFalse();
        assertThat(a.path("verdicts").get(0).path("result").asText()).isEqualTo("permerror");
        assertThat(a.path("verdicts").get(0).path("reason").asText()).isEqualTo("unknown-key");
        assertThat(a.path("offsetSeconds").isNull()).isTrue();
    }

    @Test
    void carriesNoSecretOfTheVault() throws Exception {
        health.observe("a.example", List.of(new Verdict.Pass(signedBy("k1", 0))), NOW);

        String body = call("GET", token()).body();

        assertThat(body).doesNotContain(Base64.getEncoder().encodeToString(A_B_SECRET),
                Base64.getUrlEncoder().withoutPadding().encodeToString(A_B_SECRET), HexFormat.of().formatHex(A_B_SECRET));
        // nor the signature's MAC or body hash: figures and key ids only
        assertThat(body).doesNotContain("BBBB", "AAAA", "n0nce");
    }

    @Test
    void answersOnlyAnAdminAndOnlyToGet() throws Exception {
        HttpResponse<String> anonymous = call("GET", null);
        HttpResponse<String> delete = call("DELETE", token());
        HttpResponse<String> post = call("POST", token());

        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.body()).doesNotContain("a.example");
        assertThat(delete.statusCode()).isEqualTo(404);
        assertThat(post.statusCode()).isEqualTo(404);
    }

    @Test
    void answersWithoutATokenWhereWebAdminHasNoAuthenticationAsJamesOwnRoutesDo() throws Exception {
        NoAuthenticationFilter none = new NoAuthenticationFilter();
        WebAdminServer open = new TestWebAdmin(new PartnerHealthRoutes(health), none);
        open.start();
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + open.getPort().getValue() + "/auth-hmac/partners")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(r.body()).get(0).path("domain").asText()).isEqualTo("a.example");
        } finally {
            open.destroy();
        }
    }
}
