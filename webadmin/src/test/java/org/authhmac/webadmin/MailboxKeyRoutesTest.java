package org.authhmac.webadmin;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.james.core.Username;
import org.apache.james.jwt.JwtTokenVerifier;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.user.api.UsersRepository;
import org.apache.james.webadmin.RandomPortSupplier;
import org.apache.james.webadmin.WebAdminConfiguration;
import org.apache.james.webadmin.WebAdminServer;
import org.apache.james.webadmin.authentication.JwtFilter;
import org.apache.james.webadmin.authentication.NoAuthenticationFilter;
import org.apache.james.webadmin.mdc.LoggingRequestFilter;
import org.authhmac.protocol.client.MailboxKey;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyVaults;
import org.authhmac.vault.MailboxKeys;
import org.authhmac.vault.ManagedKeyVault;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key route on James's own WebAdmin server and JWT filter, called over HTTP: the secret comes back once, a second
 * PUT is refused unless it rotates, and a caller without an admin token gets nothing.
 */
class MailboxKeyRoutesTest {
    @TempDir
    Path dir;

    ManagedKeyVault vault;
    WebAdminServer server;
    KeyPair jwtKeys;
    UsersRepository users;
    final HttpClient http = HttpClient.newHttpClient();
    final Set<String> jamesUsers = Set.of("alice@b.example", "bob@b.example");

    /** WebAdminServer's constructor is protected: James builds it through Guice, the tests through this subclass. */
    static final class TestWebAdmin extends WebAdminServer {
        TestWebAdmin(MailboxKeyRoutes routes, org.apache.james.webadmin.authentication.AuthenticationFilter filter) {
            super(WebAdminConfiguration.builder().enabled().corsDisabled().host("127.0.0.1").port(new RandomPortSupplier()).build(),
                    List.of(routes), filter, new RecordingMetricFactory(), LoggingRequestFilter.create());
        }
    }

    @BeforeEach
    void start() throws Exception {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-only");
        vault = KeyVaults.openManaged(p, dir);
        users = (UsersRepository) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {UsersRepository.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "contains" -> jamesUsers.contains(((Username) args[0]).asString());
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        jwtKeys = g.generateKeyPair();
        JwtTokenVerifier verifier = new JwtTokenVerifier(() -> List.of(jwtKeys.getPublic()));
        JwtFilter filter = new JwtFilter(() -> verifier);
        server = new TestWebAdmin(new MailboxKeyRoutes(vault, users, filter), filter);
        server.start();
    }

    @AfterEach
    void stop() {
        server.destroy();
        vault.close();
    }

    /** An RS256 token as an admin's tooling makes it for James's WebAdmin (claim admin=true). */
    String token(boolean admin) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String claims = b64.encodeToString(("{\"sub\":\"admin@b.example\",\"admin\":" + admin + "}").getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(jwtKeys.getPrivate());
        s.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
        return header + "." + claims + "." + b64.encodeToString(s.sign());
    }

    HttpResponse<String> put(String path, String token, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort().getValue() + path))
                .PUT(HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (accept != null) {
            b.header("Accept", accept);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getPort().getValue() + path))
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void returnsTheKeyFileOnceThatTheClientReadsAndTheVaultHolds() throws Exception {
        HttpResponse<String> first = put("/auth-hmac/users/alice@b.example/key", token(true), null);

        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(first.headers().firstValue("Cache-Control")).contains("no-store");
        MailboxKey key = MailboxKey.parse(first.body());
        assertThat(key.mailbox()).isEqualTo("alice@b.example");
        assertThat(MailboxKeys.primaryKeyId(vault, "alice@b.example")).contains(key.keyIds().get(0));

        HttpResponse<String> second = put("/auth-hmac/users/alice@b.example/key", token(true), null);

        assertThat(second.statusCode()).isEqualTo(409);
        assertThat(second.body()).contains("already has key " + key.keyIds().get(0), "rotate=true").doesNotContain("secret=");
    }

    @Test
    void rotatesOnlyWhenAskedAndAnswersJsonWhenAskedFor() throws Exception {
        put("/auth-hmac/users/bob@b.example/key", token(true), null);

        HttpResponse<String> rotated = put("/auth-hmac/users/bob@b.example/key?rotate=true", token(true), "application/json");

        assertThat(rotated.statusCode()).isEqualTo(201);
        assertThat(rotated.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        assertThat(rotated.body()).contains("\"user\":\"bob@b.example\"", "\"secret\":\"", "\"replaced\":\"mbx-");
        assertThat(vault.keys()).filteredOn(k -> k.keyset().equals("user:bob@b.example")).extracting(KeyInfo::status)
                .containsExactlyInAnyOrder(org.authhmac.vault.KeyStatus.ACTIVE, org.authhmac.vault.KeyStatus.PRIMARY);
        HttpResponse<String> described = get("/auth-hmac/users/bob@b.example/key", token(true));
        assertThat(described.statusCode()).isEqualTo(200);
        assertThat(described.body()).contains("\"keyId\":\"mbx-").doesNotContain("secret");
    }

    @Test
    void refusesCallersWithoutAnAdminTokenAndIssuesNothing() throws Exception {
        HttpResponse<String> anonymous = put("/auth-hmac/users/alice@b.example/key", null, null);
        String[] parts = token(true).split("\\.");
        String otherClaims = Base64.getUrlEncoder().withoutPadding()
                .encodeToString("{\"sub\":\"mallory@b.example\",\"admin\":true}".getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> forged = put("/auth-hmac/users/alice@b.example/key", parts[0] + "." + otherClaims + "." + parts[2], null);
        HttpResponse<String> notAdmin = put("/auth-hmac/users/alice@b.example/key", token(false), null);

        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(notAdmin.statusCode()).isEqualTo(401);
        assertThat(anonymous.body() + forged.body() + notAdmin.body()).doesNotContain("secret");
        assertThat(vault.keys()).isEmpty();
    }

    @Test
    void refusesUnknownUsersAndAddressesAKeyCannotBeBoundTo() throws Exception {
        HttpResponse<String> unknown = put("/auth-hmac/users/mallory@b.example/key", token(true), null);
        HttpResponse<String> notAnAddress = put("/auth-hmac/users/alice/key", token(true), null);
        HttpResponse<String> none = get("/auth-hmac/users/alice@b.example/key", token(true));

        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(notAnAddress.statusCode()).isEqualTo(400);
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(vault.keys()).isEmpty();
    }

    @Test
    void keepsTheKeyInTheVaultAcrossARestartOfTheServer() throws Exception {
        String body = put("/auth-hmac/users/alice@b.example/key", token(true), null).body();
        vault.close();

        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-only");
        try (ManagedKeyVault reopened = KeyVaults.openManaged(p, dir)) {
            assertThat(MailboxKeys.primaryKeyId(reopened, "alice@b.example")).contains(MailboxKey.parse(body).keyIds().get(0));
        }
        vault = KeyVaults.openManaged(p, dir);
        assertThat(Files.exists(dir.resolve("keys.p12"))).isTrue();
    }

    @Test
    void answers403AndIssuesNothingWhenWebAdminHasNoAuthentication() throws Exception {
        // given WebAdmin as James runs it without jwt.enabled: no authentication filter at all
        NoAuthenticationFilter none = new NoAuthenticationFilter();
        WebAdminServer open = new TestWebAdmin(new MailboxKeyRoutes(vault, users, none), none);
        open.start();
        try {
            String base = "http://127.0.0.1:" + open.getPort().getValue() + "/auth-hmac/users/bob@b.example/key";
            // when anyone who reaches the port asks for bob's key, or for a rotation of it
            HttpResponse<String> issue = http.send(HttpRequest.newBuilder(URI.create(base)).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> rotate = http.send(HttpRequest.newBuilder(URI.create(base + "?rotate=true"))
                    .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

            // then the route refuses, says how to turn authentication on, and the vault holds no key
            assertThat(issue.statusCode()).isEqualTo(403);
            assertThat(rotate.statusCode()).isEqualTo(403);
            assertThat(issue.body()).contains("jwt.enabled").doesNotContain("secret");
            assertThat(rotate.body()).doesNotContain("secret");
            assertThat(vault.keys()).isEmpty();
        } finally {
            open.destroy();
        }
    }
}
