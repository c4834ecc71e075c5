package org.authhmac.testing.james;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * James WebAdmin over plain HTTP, as an administrator's curl would use it: with {@code Authorization: Bearer …} when
 * the server's WebAdmin requires a JWT.
 */
public final class WebAdminClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final URI base;
    private final Optional<String> bearerToken;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public WebAdminClient(URI base) {
        this(base, Optional.empty());
    }

    /** @param bearerToken an admin JWT for a WebAdmin with {@code jwt.enabled=true}, or empty */
    public WebAdminClient(URI base, Optional<String> bearerToken) {
        this.base = base;
        this.bearerToken = bearerToken;
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(pathAndQuery));
        bearerToken.ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b;
    }

    public URI base() {
        return base;
    }

    public void addDomain(String domain) {
        expect(send("PUT", "/domains/" + enc(domain), null), 204);
    }

    public void addUser(String user, String password) {
        expect(send("PUT", "/users/" + enc(user), "{\"password\":\"" + password + "\"}"), 204);
    }

    /**
     * An ordinary James forward ({@code PUT /address/forwards/{base}/targets/{target}}): mail for {@code base} goes
     * to {@code target} instead. James requires {@code base} to be a user.
     */
    public void addForward(String base, String target) {
        expect(send("PUT", "/address/forwards/" + enc(base) + "/targets/" + enc(target), null), 204);
    }

    public HttpResponse<String> healthcheck() {
        return send("GET", "/healthcheck", null);
    }

    /**
     * WebAdmin addresses a repository by its path, URL-encoded: {@code memory://var/mail/auth-hmac-quarantine/} is
     * {@code var%2Fmail%2Fauth-hmac-quarantine%2F}. James keeps the path as the configuration spelled it (with or
     * without the trailing slash), so the path is looked up in James's own list.
     */
    String repositoryId(String repositoryUrl) {
        String path = repositoryUrl.replaceFirst("^[a-z0-9]+://", "");
        String bare = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        HttpResponse<String> r = send("GET", "/mailRepositories", null);
        expect(r, 200);
        for (JsonNode repo : json(r.body())) {
            String known = repo.path("repository").asText();
            if (known.equals(bare) || known.equals(bare + "/")) {
                return repo.path("path").asText();
            }
        }
        return enc(path);
    }

    /** Keys of the mails in a repository, for example {@code memory://var/mail/auth-hmac-quarantine/}. */
    public List<String> mailKeys(String repositoryUrl) {
        HttpResponse<String> r = send("GET", "/mailRepositories/" + repositoryId(repositoryUrl) + "/mails?limit=10000", null);
        if (r.statusCode() == 404) {
            return List.of();
        }
        expect(r, 200);
        List<String> keys = new ArrayList<>();
        json(r.body()).forEach(n -> keys.add(n.asText()));
        return keys;
    }

    /** Size of a repository; 0 when James has not created it yet (no mail was ever stored there). */
    public long repositorySize(String repositoryUrl) {
        HttpResponse<String> r = send("GET", "/mailRepositories/" + repositoryId(repositoryUrl), null);
        if (r.statusCode() == 404) {
            return 0;
        }
        expect(r, 200);
        return json(r.body()).path("size").asLong();
    }

    /** A stored mail with its attributes and headers (WebAdmin's additionalFields). */
    public JsonNode mail(String repositoryUrl, String key) {
        HttpRequest request = request(("/mailRepositories/" + repositoryId(repositoryUrl) + "/mails/"
                        + enc(key) + "?additionalFields=attributes,headers,textBody"))
                .header("Accept", "application/json").timeout(Duration.ofSeconds(60)).GET().build();
        HttpResponse<String> r = send(request);
        expect(r, 200);
        return json(r.body());
    }

    /**
     * A stored mail with only the given additional fields ({@code headers}, {@code attributes}, ...): for mail whose
     * body WebAdmin cannot parse into {@code textBody} (malformed MIME).
     */
    public JsonNode mail(String repositoryUrl, String key, String additionalFields) {
        HttpRequest request = request(("/mailRepositories/" + repositoryId(repositoryUrl) + "/mails/"
                        + enc(key) + "?additionalFields=" + additionalFields))
                .header("Accept", "application/json").timeout(Duration.ofSeconds(60)).GET().build();
        HttpResponse<String> r = send(request);
        expect(r, 200);
        return json(r.body());
    }

    /** A mail attribute from {@link #mail}'s JSON: its text, or its JSON form when it is not a string. */
    public static String attribute(JsonNode mail, String name) {
        JsonNode value = mail.path("attributes").path(name);
        return value.isTextual() ? value.asText() : value.toString();
    }

    /** The documented release route: reprocess one mail of a repository into a processor, and wait for the task. */
    public JsonNode reprocess(String repositoryUrl, String key, String processor) {
        HttpResponse<String> r = send("PATCH", "/mailRepositories/" + repositoryId(repositoryUrl) + "/mails/" + enc(key)
                + "?action=reprocess&processor=" + enc(processor), null);
        expect(r, 201);
        return awaitTask(json(r.body()).path("taskId").asText());
    }

    public JsonNode awaitTask(String taskId) {
        HttpResponse<String> r = send("GET", "/tasks/" + enc(taskId) + "/await?timeout=30seconds", null);
        expect(r, 200);
        return json(r.body());
    }

    /** Number of mails waiting in a mail queue ("spool", "outgoing"). */
    public long queueSize(String queue) {
        HttpResponse<String> r = send("GET", "/mailQueues/" + enc(queue), null);
        if (r.statusCode() == 404) {
            return 0;
        }
        expect(r, 200);
        return json(r.body()).path("size").asLong();
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(request.method() + " " + request.uri(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> send(String method, String path, String body) {
        HttpRequest.Builder b = request(path).timeout(Duration.ofSeconds(60));
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void expect(HttpResponse<String> r, int status) {
        if (r.statusCode() != status) {
            throw new IllegalStateException(r.request().method() + " " + r.uri() + " -> " + r.statusCode() + " " + r.body());
        }
    }

    private static JsonNode json(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(body, e);
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
