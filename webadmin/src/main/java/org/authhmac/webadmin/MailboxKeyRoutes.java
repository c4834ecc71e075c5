package org.authhmac.webadmin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.inject.Inject;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.james.core.Username;
import org.apache.james.user.api.UsersRepository;
import org.apache.james.user.api.UsersRepositoryException;
import org.apache.james.webadmin.Routes;
import org.apache.james.webadmin.authentication.AuthenticationFilter;
import org.apache.james.webadmin.authentication.NoAuthenticationFilter;
import org.authhmac.vault.ConcurrentKeysetChangeException;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.Keyset;
import org.authhmac.vault.MailboxKeys;
import org.authhmac.vault.ManagedKeyVault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * {@code PUT /auth-hmac/users/{user}/key}: issues a mailbox user's own key and returns its secret this once, for the
 * first set-up of the user's mail client. A second PUT is refused (409) unless it says {@code ?rotate=true}.
 * {@code GET} tells whether a key exists, never the secret. Registered through webadmin.properties
 * {@code extensions.routes}; WebAdmin's own authentication (JWT) guards it like every other route.
 *
 * <p>Without WebAdmin authentication ({@code jwt.enabled} unset, James's {@link NoAuthenticationFilter}) anyone who
 * reaches the port would get any user's secret, so the route then answers 403 to every request and says so at
 * start-up. There is no opt-out: the command line ({@code auth-hmac users key}) issues keys on such a server.
 */
public class MailboxKeyRoutes implements Routes {
    public static final String BASE_PATH = "/auth-hmac/users";
    public static final String KEY_PATH = BASE_PATH + "/:user/key";
    private static final Logger LOGGER = LoggerFactory.getLogger(MailboxKeyRoutes.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ManagedKeyVault vault;
    private final UsersRepository users;
    private final SecureRandom random = new SecureRandom();
    private final boolean authenticated;

    /** @param authentication the filter WebAdmin puts in front of every route (James binds one, JWT or none) */
    @Inject
    public MailboxKeyRoutes(ManagedKeyVault vault, UsersRepository users, AuthenticationFilter authentication) {
        this.vault = vault;
        this.users = users;
        this.authenticated = authentication != null && !(authentication instanceof NoAuthenticationFilter);
        if (!authenticated) {
            LOGGER.error("auth-hmac: WebAdmin has no authentication (webadmin.properties: jwt.enabled is not true), so {} "
                    + "answers 403 and issues no key. Turn on jwt.enabled with jwt.publickeypem.url (docs/INSTALL.md), "
                    + "or issue keys with 'auth-hmac users key' on the server.", KEY_PATH);
        }
    }

    @Override
    public String getBasePath() {
        return BASE_PATH;
    }

    @Override
    public void define(Service service) {
        if (!authenticated) {
            service.put(KEY_PATH, this::refuse);
            service.get(KEY_PATH, this::refuse);
            return;
        }
        service.put(KEY_PATH, this::issue);
        service.get(KEY_PATH, this::describe);
    }

    Object refuse(Request request, Response response) throws JsonProcessingException {
        response.header("Cache-Control", "no-store");
        return error(response, 403, "Forbidden", "WebAdmin has no authentication: this route issues no key until "
                + "webadmin.properties sets jwt.enabled=true and jwt.publickeypem.url (or use 'auth-hmac users key' on the server)");
    }

    Object issue(Request request, Response response) throws JsonProcessingException {
        // no copy of the secret in any cache, whatever happens below
        response.header("Cache-Control", "no-store");
        Lookup lookup = knownMailbox(request, response);
        if (lookup.error() != null) {
            return lookup.error();
        }
        String mailbox = lookup.mailbox();
        boolean rotate = "true".equalsIgnoreCase(request.queryParams("rotate"));
        MailboxKeys.Issued issued;
        try {
            issued = MailboxKeys.issue(vault, mailbox, rotate, random);
        } catch (MailboxKeys.AlreadyIssuedException e) {
            return error(response, 409, "WrongState", e.getMessage() + ": PUT with ?rotate=true");
        } catch (ConcurrentKeysetChangeException e) {
            return error(response, 409, "WrongState", e.getMessage() + ": look at GET, then try again");
        } catch (RuntimeException e) {
            LOGGER.error("auth-hmac: cannot issue a key for {}: {}", mailbox, e.getMessage());
            return error(response, 503, "ServerError", "the key vault cannot store a key now: " + e.getMessage());
        }
        try {
            LOGGER.info("auth-hmac: issued mailbox key {} for {}{}", issued.keyId(), issued.mailbox(),
                    issued.replaced().map(old -> " (replaces " + old + ", which stays ACTIVE)").orElse(""));
            response.status(201);
            if (wantsJson(request)) {
                response.type("application/json");
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("user", issued.mailbox());
                body.put("keyId", issued.keyId());
                body.put("keyset", issued.keyset());
                body.put("created", issued.created().toString());
                body.put("secret", issued.secretBase64Url());
                body.put("replaced", issued.replaced().orElse(null));
                body.put("keyFile", issued.keyFile());
                return JSON.writeValueAsString(body);
            }
            response.type("text/plain; charset=US-ASCII");
            return issued.keyFile();
        } finally {
            issued.wipe();
        }
    }

    Object describe(Request request, Response response) throws JsonProcessingException {
        Lookup lookup = knownMailbox(request, response);
        if (lookup.error() != null) {
            return lookup.error();
        }
        String mailbox = lookup.mailbox();
        String keyset = MailboxKeys.keyset(mailbox);
        Optional<Keyset> keys = vault.keyset(keyset);
        Optional<KeyInfo> primary = keys.flatMap(ks -> ks.primaryId().flatMap(ks::key));
        if (primary.isEmpty()) {
            return error(response, 404, "NotFound", "mailbox " + mailbox + " has no key; PUT issues one");
        }
        response.type("application/json");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("user", mailbox);
        body.put("keyId", primary.get().keyId());
        body.put("created", primary.get().created().toString());
        body.put("keys", keys.orElseThrow().keys().stream()
                .map(k -> Map.of("keyId", k.keyId(), "status", k.status().name())).toList());
        return JSON.writeValueAsString(body);
    }

    /** A mailbox of a user of this server, or the error response body that says why not. */
    private record Lookup(String mailbox, String error) {
    }

    private Lookup knownMailbox(Request request, Response response) throws JsonProcessingException {
        String user = request.params(":user");
        String mailbox;
        try {
            mailbox = MailboxKeys.mailbox(user == null ? "" : user);
        } catch (IllegalArgumentException e) {
            return new Lookup(null, error(response, 400, "InvalidArgument", e.getMessage()));
        }
        try {
            if (!users.contains(Username.of(mailbox))) {
                return new Lookup(null, error(response, 404, "NotFound", "no user " + mailbox + " on this server"));
            }
        } catch (UsersRepositoryException | IllegalArgumentException e) {
            return new Lookup(null, error(response, 400, "InvalidArgument", "user " + mailbox + ": " + e.getMessage()));
        }
        return new Lookup(mailbox, null);
    }

    private static String error(Response response, int status, String type, String message) throws JsonProcessingException {
        response.status(status);
        response.type("application/json");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("statusCode", status);
        body.put("type", type);
        body.put("message", message);
        return JSON.writeValueAsString(body);
    }

    private static boolean wantsJson(Request request) {
        String accept = request.headers("Accept");
        return accept != null && accept.contains("application/json");
    }
}
