import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.file.*;
import java.time.*;
import java.util.*;
import org.authhmac.protocol.*;
import org.authhmac.protocol.client.*;

/** Java 11: replays docs/test-vectors through the downgraded javax jar's Verifier and MailboxVerifier. */
public class Vectors11 {
    static byte[] hex(String s) { byte[] b = new byte[s.length() / 2]; for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16); return b; }
    static String hexOf(byte[] b) { StringBuilder sb = new StringBuilder(); for (byte x : b) sb.append(String.format("%02x", x)); return sb.toString(); }
    static JsonNode setting(JsonNode v, String n) { JsonNode s = v.get("settings"); return s == null ? null : s.get(n); }
    public static void main(String[] a) throws Exception {
        Path dir = Paths.get(a[0]);
        JsonNode root = new ObjectMapper().readTree(dir.resolve("vectors.json").toFile());
        int ok = 0, bad = 0, svOk = 0, kdfOk = 0;
        for (JsonNode v : root.get("vectors")) {
            byte[] eml = Files.readAllBytes(dir.resolve(v.get("file").asText()));
            List<String[]> exp = new ArrayList<>();
            if (v.has("recipients")) for (JsonNode r : v.get("recipients")) exp.add(new String[]{r.get("recipient").asText(), r.get("expected").get("result").asText(), r.get("expected").get("reason").asText()});
            else exp.add(new String[]{v.get("recipient").asText(), v.get("expected").get("result").asText(), v.get("expected").get("reason").asText()});
            for (boolean inPlace : new boolean[]{false, true}) {
                Map<String, Verdict> got = runAll(v, eml, exp, inPlace);
                for (String[] e : exp) {
                    Verdict d = got.get(e[0]);
                    String g = d.result().token() + "/" + d.reason().token();
                    if (g.equals(e[1] + "/" + e[2])) ok++; else { bad++; System.out.println("MISMATCH " + v.get("id").asText() + " " + e[0] + " got " + g + " want " + e[1] + "/" + e[2] + " (" + d.detail() + ")"); }
                }
            }
            JsonNode ex = v.get("expected");
            if (ex != null && ex.has("serverVerdict")) {
                JsonNode key = v.get("keys").get(0);
                MailboxVerifier c = new MailboxVerifier(MailboxKey.of(v.get("recipient").asText(), key.get("keyId").asText(), hex(key.get("primaryHex").asText())));
                MailboxVerdict r = c.verify(eml, Instant.ofEpochSecond(v.get("acceptedAt").asLong()));
                String g = r.signature().result().token() + "/" + r.signature().reason().token() + " sv=" + r.serverVerdict().map(ServerVerdict::token).orElse(null) + " pd=" + r.partnerDomain().orElse(null);
                String w = ex.get("result").asText() + "/" + ex.get("reason").asText() + " sv=" + (ex.get("serverVerdict").isNull() ? null : ex.get("serverVerdict").asText()) + " pd=" + (ex.get("partnerDomain").isNull() ? null : ex.get("partnerDomain").asText());
                if (g.equals(w)) svOk++; else { bad++; System.out.println("SV MISMATCH " + v.get("id").asText() + " got " + g + " want " + w); }
            }
        }
        for (JsonNode k : root.get("kdf")) {
            KdfContext ctx = new KdfContext(k.get("keyId").asText(), k.get("domain").asText(), k.get("periodSeconds").asInt(), k.get("period").asLong());
            String g = hexOf(Kdf.derive(hex(k.get("primaryHex").asText()), ctx));
            if (g.equals(k.get("periodKeyHex").asText()) && hexOf(Kdf.fixedInput(ctx)).equals(k.get("fixedInputHex").asText())) kdfOk++; else { bad++; System.out.println("KDF MISMATCH " + k); }
        }
        System.out.println("java " + System.getProperty("java.version") + ": verdicts ok " + ok + ", mailbox ok " + svOk + ", kdf ok " + kdfOk + ", mismatches " + bad);
        System.exit(bad == 0 ? 0 : 1);
    }
    static Map<String, Verdict> runAll(JsonNode v, byte[] eml, List<String[]> exp, boolean inPlace) throws Exception {
        VerifierSettings s = VerifierSettings.defaults();
        if (setting(v, "headerName") != null) s = s.withHeaderName(setting(v, "headerName").asText());
        if (setting(v, "previousPeriods") != null) s = s.withPreviousPeriods(setting(v, "previousPeriods").asInt());
        if (setting(v, "maxFutureSkewSeconds") != null) s = s.withMaxFutureSkew(Duration.ofSeconds(setting(v, "maxFutureSkewSeconds").asLong()));
        if (setting(v, "maxAgeSeconds") != null) s = s.withMaxAge(Duration.ofSeconds(setting(v, "maxAgeSeconds").asLong()));
        if (setting(v, "maxHeaders") != null) s = s.withMaxHeaders(setting(v, "maxHeaders").asInt());
        if (setting(v, "maxHeaderBytes") != null) s = s.withMaxHeaderBytes(setting(v, "maxHeaderBytes").asInt());
        if (setting(v, "periodSeconds") != null) s = s.withPeriodSeconds(setting(v, "periodSeconds").asInt());
        if (setting(v, "replayScope") != null) s = s.withReplayScope(ReplayScope.valueOf(setting(v, "replayScope").asText().toUpperCase()));
        if (setting(v, "subAddressSeparator") != null) s = s.withSubAddressSeparator(setting(v, "subAddressSeparator").asText());
        boolean allDown = v.get("keySource").asText().equals("unavailable");
        Map<String, byte[]> primaries = new HashMap<>(); Map<String, Boolean> down = new HashMap<>(); Map<String, Set<String>> domains = new HashMap<>();
        for (JsonNode k : v.get("keys")) {
            String id = k.get("keyId").asText();
            primaries.put(id, hex(k.get("primaryHex").asText()));
            down.put(id, k.has("source") ? k.get("source").asText().equals("unavailable") : allDown);
            if (k.has("domains")) { Set<String> d = new HashSet<>(); k.get("domains").forEach(x -> d.add(x.asText())); domains.put(id, d); }
        }
        StaticPeriodKeys derive = StaticPeriodKeys.of(primaries);
        PeriodKeys keys = ctx -> {
            if (!primaries.containsKey(ctx.keyId())) throw new UnknownKeyException("no key id");
            if (domains.containsKey(ctx.keyId()) && !domains.get(ctx.keyId()).contains(ctx.domain())) throw new UnknownKeyException("not for d=");
            if (down.get(ctx.keyId())) throw new KeyUnavailableException("down");
            return derive.periodKey(ctx);
        };
        Instant at = Instant.ofEpochSecond(v.get("acceptedAt").asLong());
        JsonNode replay = v.get("replayCache");
        int cap = replay.get("capacity").asInt();
        int dcap = replay.has("domainCapacity") ? replay.get("domainCapacity").asInt() : cap;
        InMemoryReplayCache cache = new InMemoryReplayCache(cap, dcap, Duration.ZERO, Clock.fixed(at, ZoneOffset.UTC));
        for (JsonNode e : replay.get("entries")) {
            // a fresh record instance each time, so that equal-but-not-identical keys must match
            cache.record(new ReplayCache.SignatureId(new String(e.get("domain").asText()), new String(e.get("keyId").asText()), new String(e.get("nonce").asText())),
                    e.get("recipient").asText(), SignatureHeader.MAX_RECIPIENT_COUNT, at.plus(Duration.ofDays(1)));
        }
        Verifier ver = new Verifier(s, keys, cache);
        List<String> rcpts = new ArrayList<>(); for (String[] e : exp) rcpts.add(e[0]);
        if (inPlace) { byte[] p = new byte[eml.length + 14]; Arrays.fill(p, (byte) '\n'); System.arraycopy(eml, 0, p, 7, eml.length); return ver.verify(p, 7, eml.length, at, rcpts); }
        return ver.verify(new ByteArrayInputStream(eml), at, rcpts);
    }
}
