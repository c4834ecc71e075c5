package org.authhmac.webadmin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.james.webadmin.Routes;
import org.authhmac.james.PartnerHealth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;
import spark.Response;
import spark.Service;

/**
 * {@code GET /auth-hmac/partners}: each configured partner's health as this server measures it ({@link PartnerHealth}):
 * healthy or degraded and why, its clock offset over the recent passes, verdict counts, the key ids it signs with
 * and whether this server holds each, its last pass. Read-only, and nothing secret: figures, key ids and the keyset
 * name, which are in every signature header and the partner file anyway. Registered through webadmin.properties
 * {@code extensions.routes}; WebAdmin's authentication (JWT, when on) guards it like James's own routes.
 */
public class PartnerHealthRoutes implements Routes {
    public static final String BASE_PATH = "/auth-hmac/partners";
    private static final Logger LOGGER = LoggerFactory.getLogger(PartnerHealthRoutes.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PartnerHealth health;

    @Inject
    public PartnerHealthRoutes(PartnerHealth health) {
        this.health = health;
    }

    @Override
    public String getBasePath() {
        return BASE_PATH;
    }

    @Override
    public void define(Service service) {
        service.get(BASE_PATH, this::list);
    }

    Object list(Request request, Response response) throws JsonProcessingException {
        // figures change with every mail: a cache would show an old offset as the current one
        response.header("Cache-Control", "no-store");
        response.type("application/json");
        List<PartnerHealth.View> partners;
        try {
            partners = health.partners();
        } catch (RuntimeException e) {
            // the partner file is missing or invalid: James's start-up said so already, the route says it again
            LOGGER.warn("auth-hmac: {} cannot read the partners: {}", BASE_PATH, e.getMessage());
            response.status(503);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("statusCode", 503);
            body.put("type", "ServerError");
            body.put("message", "the partner file cannot be read: " + e.getMessage());
            return JSON.writeValueAsString(body);
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (PartnerHealth.View p : partners) {
            out.add(json(p));
        }
        return JSON.writeValueAsString(out);
    }

    /** Field by field, so that a field added to the view later is not published without a decision. */
    static Map<String, Object> json(PartnerHealth.View p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("domain", p.domain());
        m.put("keyset", p.keyset());
        m.put("status", p.degraded() ? "degraded" : "healthy");
        m.put("problems", p.problems());
        m.put("offsetSeconds", p.offsets().map(o -> {
            Map<String, Object> offsets = new LinkedHashMap<>();
            offsets.put("samples", o.samples());
            offsets.put("p01", o.p01());
            offsets.put("p50", o.p50());
            offsets.put("p99", o.p99());
            offsets.put("min", o.min());
            offsets.put("max", o.max());
            return offsets;
        }).orElse(null));
        m.put("lastPass", p.lastPass().map(Instant::toString).orElse(null));
        List<Map<String, Object>> verdicts = new ArrayList<>();
        p.verdicts().forEach((resultAndReason, count) -> {
            // PartnerHealth keys them "<result> <reason>", the tokens of Authentication-Results
            int space = resultAndReason.indexOf(' ');
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("result", space < 0 ? resultAndReason : resultAndReason.substring(0, space));
            v.put("reason", space < 0 ? "" : resultAndReason.substring(space + 1));
            v.put("count", count);
            verdicts.add(v);
        });
        m.put("verdicts", verdicts);
        List<Map<String, Object>> keys = new ArrayList<>();
        for (PartnerHealth.KeySeen k : p.keyIds()) {
            Map<String, Object> key = new LinkedHashMap<>();
            key.put("keyId", k.keyId());
            key.put("lastSeen", k.lastSeen().toString());
            key.put("heldHere", k.held());
            keys.add(key);
        }
        m.put("keyIds", keys);
        return m;
    }
}
