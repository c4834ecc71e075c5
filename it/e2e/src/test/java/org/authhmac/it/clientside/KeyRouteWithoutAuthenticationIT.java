package org.authhmac.it.clientside;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The mailbox-key route registered on a real James 3.8.1 whose WebAdmin has no authentication (webadmin.properties
 * without jwt.enabled, as docs/INSTALL.md's first steps run it): nobody gets a key from it, and James says why.
 */
class KeyRouteWithoutAuthenticationIT {
    static final String BOB = "bob@b.example";

    static Path root;
    static JamesServerProcess james;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startJamesWithoutWebAdminAuthentication() throws Exception {
        root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "open-webadmin-" + ProcessHandle.current().pid())
                .toAbsolutePath();
        MailboxSigningIT.deleteRecursively(root);
        Files.createDirectories(root);
        JamesServerProcess.Builder builder = JamesServerProcess.builder("b", root.resolve("james-b"))
                .baseConf().confLayer(JamesRuntime.repoPath("james-conf/receiving"))
                .properties("auth-hmac.properties", Map.of(
                        "vault.backend", "pkcs12",
                        "pkcs12.file", "auth-hmac-keys.p12",
                        "pkcs12.password", "test-only-not-a-secret"))
                .properties("webadmin.properties", Map.of("extensions.routes", "org.authhmac.webadmin.MailboxKeyRoutes"))
                .extensionJar(JamesRuntime.javaxBundleJar());
        if (!MailboxSigningIT.bundleHasRoute(JamesRuntime.javaxBundleJar())) {
            builder.extensionJar(MailboxSigningIT.webAdminJar());
        }
        james = builder.build();
        james.prepare();
        // the partner key the shipped receiving configuration verifies a.example with
        AuthHmacPair.generatePartnerKey(james);
        james.launch();
        james.awaitHealthy(Duration.ofSeconds(120));
        james.webAdmin().addDomain("b.example");
        james.webAdmin().addUser(BOB, "user-secret");
    }

    @AfterAll
    static void stop() {
        if (james != null) {
            james.stop();
        }
    }

    static HttpResponse<String> anonymous(String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + james.ports().webAdmin() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anAnonymousCallerGetsNeitherANewKeyNorARotatedOneAndJamesSaysWhy() throws Exception {
        HttpResponse<String> issue = anonymous("PUT", "/auth-hmac/users/" + BOB + "/key");
        HttpResponse<String> rotate = anonymous("PUT", "/auth-hmac/users/" + BOB + "/key?rotate=true");

        assertThat(issue.statusCode()).as(issue.body()).isEqualTo(403);
        assertThat(rotate.statusCode()).as(rotate.body()).isEqualTo(403);
        assertThat(issue.body() + rotate.body()).contains("jwt.enabled").doesNotContain("secret=");
        Path keyset = james.confDir().resolve("auth-hmac-keyset.properties");
        assertThat(Files.exists(keyset) ? Files.readString(keyset) : "").doesNotContain("user:" + BOB);
        assertThat(james.logs()).contains("WebAdmin has no authentication");
    }
}
