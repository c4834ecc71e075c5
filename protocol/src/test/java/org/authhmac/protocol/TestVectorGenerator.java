package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes docs/test-vectors/ (vectors.json and one .eml per vector). Run only on purpose:
 * {@code scripts/mvn -q -B -o -pl protocol test -Dtest=TestVectorGenerator -Dauthhmac.regenerateVectors=true -Dsurefire.failIfNoSpecifiedTests=false}.
 * Each vector states the result its author expects; generation stops if the implementation disagrees.
 * {@link TestVectorsTest} then replays the committed files without this class.
 *
 * <p>Most vectors are signed by the real {@link Signer}. The ones it refuses to make (over the bounds, a From field
 * that is not one mailbox in d=, a bare CR in the header block, tags it never writes) are <em>forged</em>: the same
 * h=, tags and MAC the Signer would compute, from the same package-private pieces ({@link MacInput},
 * {@link BodyHash}), with the signature field's text edited before the MAC is computed (or, for b= itself, after).
 * The MAC of a forged vector is therefore right, and a verifier that skipped the rule under test would pass it.
 */
@EnabledIfSystemProperty(named = "authhmac.regenerateVectors", matches = "true")
class TestVectorGenerator {
    static final Path DIR = Path.of("..", "docs", "test-vectors");
    static final byte[] PRIMARY = HexFormat.of().parseHex("8f2a5c1e9b7d3f6a0c4e8b2d7f1a3c5e9d0b6f8a2c4e7d1b3f5a9c0e2d4b6f81");
    static final byte[] OTHER_PRIMARY = HexFormat.of().parseHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    static final String KID = "partner-b.2025-11";
    /** A second key id of the same partner, with its own primary. */
    static final String KID2 = "partner-b.2025-12";
    /** What the signing side holds. */
    static final Map<String, byte[]> SIGNING_KEYS = Map.of(KID, PRIMARY, KID2, OTHER_PRIMARY);
    static final int P = 900;
    /** 1763776800 = 1959752 * 900: the first second of a period. */
    static final long T0 = 1_763_776_800L;
    static final String NONCE = "Vb3kq9x0TtyZ2mQ8pL1aUw";
    /** The header block bound of the reference verifier and signer (PROTOCOL.md 2), which the vectors assume. */
    static final int MAX_HEADER_BYTES = 1024 * 1024;
    /** Where a forged field's b= value goes, in the text a forging edit sees. */
    static final String MAC_MARK = "{B}";
    /**
     * The signed-header list of the first signer (PROTOCOL.md 5.2, "Earlier signers"): most vectors, and the worked
     * example of section 14, were made with it and keep it so that they stay byte for byte what was published. The
     * vectors named *-default-h use {@link SignerSettings#defaults()}.
     */
    static final SignerSettings FIRST_SIGNER = SignerSettings.defaults().withSignedHeaders(
            List.of("from", "to", "cc", "subject", "date", "message-id", "reply-to"),
            List.of("mime-version", "content-type", "content-transfer-encoding", "in-reply-to", "references", "sender"));

    static final String BASE = String.join("\r\n",
            "Return-Path: <alice@a.example>",
            "From: Alice Example <alice@a.example>",
            "To: Bob Example <bob@b.example>",
            "Subject: Quarterly figures",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <20251122020000.1@a.example>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=us-ascii",
            "Content-Transfer-Encoding: 7bit",
            "",
            "Hello Bob,",
            "",
            "the figures for Q3 are in the shared folder.",
            "",
            "Regards,",
            "Alice",
            "");

    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * A key id the verifier holds: its primary, whether the key source can derive for it ({@code source} null: as the
     * vector's keySource says), and the signing domains it may sign for (null: any).
     */
    record Key(String keyId, byte[] primary, String source, List<String> domains) {
        static Key of(String keyId, byte[] primary) {
            return new Key(keyId, primary, null, null);
        }

        Key unavailable() {
            return new Key(keyId, primary, "unavailable", domains);
        }

        Key onlyFor(String... d) {
            return new Key(keyId, primary, source, List.of(d));
        }
    }

    /** One vector under construction. */
    final class V {
        final String id;
        final String description;
        String message = BASE;
        SignerSettings signer = FIRST_SIGNER;
        List<SignRequest> requests = new ArrayList<>(List.of(request("b.example", T0)));
        UnaryOperator<String> transit = UnaryOperator.identity();
        long acceptedAt = T0 + 5;
        String recipient = "bob@b.example";
        List<Key> keys = List.of(Key.of(KID, PRIMARY));
        boolean keysUnavailable;
        ObjectNode settings = json.createObjectNode();
        int replayCapacity = 1000;
        Integer domainCapacity;
        List<Held> replayEntries = new ArrayList<>();
        boolean unsigned;
        /** Forged (see the class comment): the edit of the signature field's text before the MAC, and of b= after. */
        UnaryOperator<String> forge;
        UnaryOperator<String> afterMac = UnaryOperator.identity();
        String result;
        String reason;
        /** Several recipients of one verification: recipient, result, reason, in order. */
        List<String[]> each;
        /** Whether the vector states what a mailbox verifier reads (PROTOCOL.md 10.1): sv= and pd=, null when none. */
        boolean readsServerVerdict;
        String serverVerdict;
        String partnerDomain;

        V(String id, String description) {
            this.id = id;
            this.description = description;
        }

        V message(String m) { message = m; return this; }
        V signer(SignerSettings s) { signer = s; return this; }
        V canon(Canonicalization h, Canonicalization b) { signer = signer.withCanonicalization(h, b); return this; }
        V requests(SignRequest... r) { requests = List.of(r); return this; }
        V signedAt(long t) { requests = List.of(request("b.example", t)); return this; }
        V transit(UnaryOperator<String> t) { transit = t; return this; }
        V acceptedAt(long a) { acceptedAt = a; return this; }
        V recipient(String r) { recipient = r; return this; }
        V verifierKey(String id, byte[] primary) { keys = List.of(Key.of(id, primary)); return this; }
        V keys(Key... k) { keys = List.of(k); return this; }
        V keysUnavailable() { keysUnavailable = true; return this; }
        V setting(String name, Object value) { settings.putPOJO(name, value); return this; }
        V replay(int capacity, Held... entries) { replayCapacity = capacity; replayEntries = List.of(entries); return this; }
        V domainCapacity(int c) { domainCapacity = c; return this; }
        V unsigned() { unsigned = true; return this; }
        V forged() { return forged(UnaryOperator.identity()); }
        V forged(UnaryOperator<String> edit) { forge = edit; return this; }
        V forgedB(UnaryOperator<String> edit) { forged(); afterMac = edit; return this; }
        V expect(String result, String reason) { this.result = result; this.reason = reason; vectors.add(this); return this; }
        /** What a mailbox verifier reads from the signature that passed: sv= and pd= (null: absent, or nothing passed). */
        V serverVerdict(String sv, String pd) { readsServerVerdict = true; serverVerdict = sv; partnerDomain = pd; return this; }

        /** Recipient, result, reason triples: one verification for all of them, in this order. */
        V expectEach(String... triples) {
            each = new ArrayList<>();
            for (int i = 0; i < triples.length; i += 3) {
                each.add(new String[] {triples[i], triples[i + 1], triples[i + 2]});
            }
            vectors.add(this);
            return this;
        }
    }

    /** A replay cache entry a vector starts with: the signature (d, s, n) already passed for the replay id {@code recipient}. */
    record Held(String domain, String keyId, String nonce, String recipient) {
    }

    private final List<V> vectors = new ArrayList<>();

    static SignRequest request(String recipient, long t) {
        return new SignRequest(KID, "a.example", recipient, Instant.ofEpochSecond(t)).withFixedNonce(NONCE);
    }

    static SignRequest request(String keyId, String domain, String recipient, long t) {
        return new SignRequest(keyId, domain, recipient, Instant.ofEpochSecond(t)).withFixedNonce(NONCE);
    }

    V v(String id, String description) {
        return new V(id, description);
    }

    @Test
    void generate() throws Exception {
        define();
        Set<String> ids = new HashSet<>();
        for (V v : vectors) {
            assertThat(ids.add(v.id)).as("unique id " + v.id).isTrue();
        }
        Files.createDirectories(DIR);
        try (var old = Files.list(DIR)) {
            for (Path f : old.filter(f -> f.toString().endsWith(".eml")).toList()) {
                Files.delete(f);
            }
        }
        ObjectNode root = json.createObjectNode();
        root.put("format", "X-Auth-HMAC test vectors, protocol v1");
        root.put("spec", "docs/PROTOCOL.md");
        root.put("howToUse", "For each vector: configure a verifier with the listed keys and settings (defaults below when absent), "
                + "pre-load the replay cache with the listed entries (all unexpired), verify the .eml bytes as received at "
                + "acceptedAt for the envelope recipient (or, when 'recipients' is given, for all of them in one verification, "
                + "in that order), and compare result and reason. 'keySource: unavailable' (or a key's own 'source') means the "
                + "key source cannot derive (for example the TPM is down); a key with 'domains' may sign only for those d=. "
                + "docs/PROTOCOL.md section 12 describes every field.");
        ObjectNode defaults = root.putObject("defaults");
        defaults.put("headerName", "X-Auth-HMAC");
        defaults.put("previousPeriods", 1);
        defaults.put("maxFutureSkewSeconds", 300);
        defaults.putNull("maxAgeSeconds");
        defaults.put("maxHeaders", 5);
        defaults.put("replayScope", "recipient");
        defaults.put("subAddressSeparator", "+");
        defaults.put("periodSeconds", 900);
        defaults.put("maxHeaderBytes", MAX_HEADER_BYTES);
        root.set("kdf", kdfVectors());
        root.set("fingerprint", fingerprintVectors());
        ArrayNode out = root.putArray("vectors");
        for (V v : vectors) {
            out.add(write(v));
        }
        Files.writeString(DIR.resolve("vectors.json"), json.writeValueAsString(root) + "\n");
    }

    private ObjectNode write(V v) throws Exception {
        String signed = v.message;
        if (!v.unsigned) {
            List<String> lines = v.forge != null
                    ? forge(v.message, v.signer, v.requests, v.forge, v.afterMac)
                    : new Signer(v.signer).sign(new ByteArrayInputStream(v.message.getBytes(StandardCharsets.UTF_8)),
                            v.requests, StaticPeriodKeys.of(SIGNING_KEYS));
            signed = String.join("\r\n", lines) + "\r\n" + v.message;
        }
        byte[] eml = v.transit.apply(signed).getBytes(StandardCharsets.UTF_8);
        Files.write(DIR.resolve(v.id + ".eml"), eml);

        ObjectNode n = json.createObjectNode();
        n.put("id", v.id);
        n.put("description", v.description);
        n.put("file", v.id + ".eml");
        ArrayNode keys = n.putArray("keys");
        for (Key k : v.keys) {
            ObjectNode key = keys.addObject();
            key.put("keyId", k.keyId());
            key.put("primaryHex", HexFormat.of().formatHex(k.primary()));
            if (k.source() != null) {
                key.put("source", k.source());
            }
            if (k.domains() != null) {
                ArrayNode d = key.putArray("domains");
                k.domains().forEach(d::add);
            }
        }
        n.put("keySource", v.keysUnavailable ? "unavailable" : "available");
        n.put("acceptedAt", v.acceptedAt);
        n.put("acceptedAtIso", Instant.ofEpochSecond(v.acceptedAt).toString());
        if (v.each == null) {
            n.put("recipient", v.recipient);
        }
        if (!v.settings.isEmpty()) {
            n.set("settings", v.settings);
        }
        ObjectNode replay = n.putObject("replayCache");
        replay.put("capacity", v.replayCapacity);
        if (v.domainCapacity != null) {
            replay.put("domainCapacity", v.domainCapacity);
        }
        ArrayNode entries = replay.putArray("entries");
        for (Held e : v.replayEntries) {
            ObjectNode en = entries.addObject();
            en.put("domain", e.domain());
            en.put("keyId", e.keyId());
            en.put("nonce", e.nonce());
            en.put("recipient", e.recipient());
        }
        if (v.each == null) {
            ObjectNode expected = n.putObject("expected");
            expected.put("result", v.result);
            expected.put("reason", v.reason);
            if (v.readsServerVerdict) {
                expected.put("serverVerdict", v.serverVerdict);
                expected.put("partnerDomain", v.partnerDomain);
            }
        } else {
            ArrayNode rs = n.putArray("recipients");
            for (String[] e : v.each) {
                ObjectNode r = rs.addObject();
                r.put("recipient", e[0]);
                ObjectNode expected = r.putObject("expected");
                expected.put("result", e[1]);
                expected.put("reason", e[2]);
            }
        }
        Map<String, Verdict> actual = TestVectorsTest.runAll(n, eml, false);
        Verdict.Pass passed = null;
        for (String[] e : TestVectorsTest.expectations(n)) {
            Verdict verdict = actual.get(e[0]);
            assertThat(verdict.result().token() + "/" + verdict.reason().token())
                    .as(v.id + " for " + e[0] + ": " + verdict.detail())
                    .isEqualTo(e[1] + "/" + e[2]);
            if (passed == null && verdict instanceof Verdict.Pass pass) {
                passed = pass;
            }
        }
        if (v.readsServerVerdict) {
            TestVectorsTest.assertMailboxVerifierReads(n, eml);
        }
        if (passed != null) {
            n.set("intermediate", intermediate(eml, v, passed.header()));
        }
        return n;
    }

    /** Values an implementer can compare step by step: period, K_p, body hash, and the exact MAC input. */
    private ObjectNode intermediate(byte[] eml, V v, SignatureHeader passed) throws Exception {
        RawMessage msg = RawMessage.read(new ByteArrayInputStream(eml), MAX_HEADER_BYTES);
        String headerName = v.settings.has("headerName") ? v.settings.get("headerName").asText() : "X-Auth-HMAC";
        List<HeaderField> sigs = msg.fields().stream().filter(f -> f.name().equalsIgnoreCase(headerName)).toList();
        int index = -1;
        for (int k = 0; k < sigs.size() && index < 0; k++) {
            try {
                if (HeaderVersions.parse(SignatureHeader.tagList(sigs.get(k)), HeaderVersions.DEFAULT_ACCEPTED).equals(passed)) {
                    index = k;
                }
            } catch (SignatureFormatException e) {
                // not the one that passed
            }
        }
        HeaderField sig = sigs.get(index);
        SignatureHeader h = passed;
        ObjectNode i = json.createObjectNode();
        i.put("signatureIndex", index);
        i.put("period", h.period());
        i.put("periodKeyHex", HexFormat.of().formatHex(Kdf.derive(SIGNING_KEYS.get(h.keyId()), h.kdfContext())));
        i.put("bodyHash", Base64.getEncoder().encodeToString(
                BodyHash.of(h.bodyCanonicalization(), RawMessage.read(new ByteArrayInputStream(eml), MAX_HEADER_BYTES).body())));
        byte[] input = MacInput.build(msg.fields(), h.signedHeaders(), h.headerCanonicalization(), Verifier.withEmptyB(sig));
        i.put("macInput", new String(input, StandardCharsets.ISO_8859_1));
        i.put("macInputHex", HexFormat.of().formatHex(input));
        return i;
    }

    /**
     * The signature fields the real Signer would make for {@code message} (same h=, tags, body hash, MAC), without any
     * of its refusals, the field's text passed through {@code edit} before the MAC is computed over it (b= is
     * {@link #MAC_MARK} there, and must stay where an emptied b= is) and through {@code afterMac} once b= is filled
     * in. The header block is split at CRLF only, so a bare CR stays inside its field.
     */
    static List<String> forge(String message, SignerSettings signer, List<SignRequest> requests, UnaryOperator<String> edit,
                              UnaryOperator<String> afterMac) throws Exception {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        int sep = indexOf(bytes, new byte[] {'\r', '\n', '\r', '\n'});
        int headerEnd = sep < 0 ? bytes.length : sep;
        List<HeaderField> fields = new ArrayList<>();
        int fieldStart = -1;
        int pos = 0;
        while (pos < headerEnd) {
            int crlf = indexOf(Arrays.copyOfRange(bytes, pos, headerEnd), new byte[] {'\r', '\n'});
            int lineEnd = crlf < 0 ? headerEnd : pos + crlf;
            if (bytes[pos] != ' ' && bytes[pos] != '\t') {
                if (fieldStart >= 0) {
                    fields.add(HeaderField.parse(bytes, fieldStart, pos - 2));
                }
                fieldStart = pos;
            }
            pos = lineEnd + 2;
        }
        if (fieldStart >= 0) {
            fields.add(HeaderField.parse(bytes, fieldStart, Math.min(pos - 2, headerEnd)));
        }
        byte[] body = sep < 0 ? new byte[0] : Arrays.copyOfRange(bytes, sep + 4, bytes.length);
        List<String> h = signedHeaderList(fields, signer);
        String bh = Base64.getEncoder().encodeToString(BodyHash.of(signer.bodyCanonicalization(), new ByteArrayInputStream(body)));
        String c = signer.headerCanonicalization().token() + "/" + signer.bodyCanonicalization().token();
        List<String> lines = new ArrayList<>();
        for (SignRequest r : requests) {
            SignatureHeader header = new SignatureHeader(SignatureHeader.VERSION, SignatureHeader.ALGORITHM,
                    Recipients.domain(r.domain()), r.keyId(), r.time().getEpochSecond(), signer.periodSeconds(), c, h, bh,
                    Recipients.binding(r.recipient()), r.fixedNonce(), null, r.recipientCount());
            String marked = edit.apply(signer.headerName() + ": " + header.format() + MAC_MARK);
            // The field goes into the file as UTF-8: the MAC covers those octets (MacInput reads one char per octet).
            String unsigned = new String(marked.replace(MAC_MARK, "").getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            byte[] mac = StaticPeriodKeys.of(SIGNING_KEYS).periodKey(header.kdfContext()).newMac()
                    .doFinal(MacInput.build(fields, namesOfH(unsigned), signer.headerCanonicalization(), unsigned));
            lines.add(afterMac.apply(marked.replace(MAC_MARK, Base64.getEncoder().encodeToString(mac))));
        }
        return lines;
    }

    /** The Signer's list (PROTOCOL.md 5.2), without its bound. */
    private static List<String> signedHeaderList(List<HeaderField> fields, SignerSettings signer) {
        FieldCounts counts = FieldCounts.of(fields);
        String self = signer.headerName().toLowerCase(Locale.ROOT);
        List<String> h = new ArrayList<>();
        Set<String> listed = new HashSet<>(signer.oversignedHeaders());
        for (String name : signer.oversignedHeaders()) {
            for (int i = counts.count(name) + 1; i > 0; i--) {
                h.add(name);
            }
        }
        for (String name : signer.signedIfPresentHeaders()) {
            if (listed.add(name)) {
                for (int i = counts.count(name); i > 0; i--) {
                    h.add(name);
                }
            }
        }
        for (String name : counts.names()) {
            if (!listed.contains(name) && !FieldCounts.ignored(name, self)) {
                for (int i = counts.count(name); i > 0; i--) {
                    h.add(name);
                }
            }
        }
        return h;
    }

    /**
     * The names of h= in a signature field's text as a lenient reader takes them (every FWS removed, lower case): the
     * forged MAC is the one such a reader computes, so only the strictness rule under test tells the two apart.
     */
    private static List<String> namesOfH(String field) {
        String value = field.substring(field.indexOf(':') + 1);
        for (String spec : value.split(";")) {
            int eq = spec.indexOf('=');
            if (eq > 0 && spec.substring(0, eq).strip().equals("h")) {
                List<String> names = new ArrayList<>();
                for (String name : spec.substring(eq + 1).split(":")) {
                    names.add(name.replaceAll("[ \t\r\n]", "").toLowerCase(Locale.ROOT));
                }
                return names;
            }
        }
        throw new IllegalArgumentException("no h= in " + field);
    }

    private static int indexOf(byte[] b, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= b.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (b[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The length in octets of the signature field the Signer makes (or would make) for {@code message}. */
    static int signatureFieldOctets(String message, SignerSettings signer) throws Exception {
        return forge(message, signer, List.of(request("b.example", T0)), UnaryOperator.identity(), UnaryOperator.identity())
                .get(0).getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * BASE with extra fields X-Pad-0001.. (and one last field whose name length takes up the rest) such that the
     * signature field is exactly {@code octets} long.
     */
    static String paddedToFieldOctets(int octets) throws Exception {
        int start = signatureFieldOctets(BASE, FIRST_SIGNER);
        // Each X-Pad-nnnn field adds its name and a colon (11 octets) to h=; the last one takes the remainder.
        int full = (octets - start) / 11 - 1;
        StringBuilder pads = new StringBuilder();
        for (int i = 1; i <= full; i++) {
            pads.append(String.format(Locale.ROOT, "X-Pad-%04d: %d\r\n", i, i));
        }
        String without = withFields(pads.toString());
        int rest = octets - signatureFieldOctets(without, FIRST_SIGNER) - 1;
        String padded = withFields(pads + "X-Last-" + "p".repeat(rest - 7) + ": end\r\n");
        assertThat(signatureFieldOctets(padded, FIRST_SIGNER)).isEqualTo(octets);
        return padded;
    }

    /** BASE with {@code fields} (CRLF-terminated) inserted before MIME-Version. */
    static String withFields(String fields) {
        return BASE.replace("MIME-Version:", fields + "MIME-Version:");
    }

    /**
     * {@code signed} with Received fields added on top (trace fields of the ignore set, as relays add them) so that
     * the octets before the body, the empty line included, are exactly {@code octets}.
     */
    static String withHeaderOctets(String signed, int octets) {
        int before = signed.indexOf("\r\n\r\n") + 4;
        int missing = octets - before;
        StringBuilder trace = new StringBuilder();
        int hop = 0;
        while (missing > 0) {
            String head = String.format(Locale.ROOT, "Received: from relay%04d.a.example by relay%04d.a.example (", hop, hop + 1);
            String tail = "); Sat, 22 Nov 2025 02:00:00 +0000\r\n";
            int size = Math.min(998, missing);
            if (missing - size > 0 && missing - size < 200) {
                size = missing - 200;
            }
            trace.append(head).append("x".repeat(size - head.length() - tail.length())).append(tail);
            missing -= size;
            hop++;
        }
        String out = trace + signed;
        assertThat(out.indexOf("\r\n\r\n") + 4).isEqualTo(octets);
        return out;
    }

    private ArrayNode kdfVectors() {
        ArrayNode a = json.createArrayNode();
        kdf(a, PRIMARY, new KdfContext(KID, "a.example", 900, T0 / 900));
        kdf(a, PRIMARY, new KdfContext(KID, "a.example", 900, T0 / 900 - 1));
        kdf(a, PRIMARY, new KdfContext(KID, "b.example", 900, T0 / 900));
        kdf(a, OTHER_PRIMARY, new KdfContext("k1", "a.example", 3600, 0));
        kdf(a, OTHER_PRIMARY, new KdfContext("k".repeat(64), "xn--bcher-kva.example", 86400, 20414));
        kdf(a, HexFormat.of().parseHex("0b".repeat(64)), new KdfContext("s", "example", 60, 29_396_280L));
        return a;
    }

    private void kdf(ArrayNode a, byte[] primary, KdfContext ctx) {
        ObjectNode k = a.addObject();
        k.put("primaryHex", HexFormat.of().formatHex(primary));
        k.put("keyId", ctx.keyId());
        k.put("domain", ctx.domain());
        k.put("periodSeconds", ctx.periodSeconds());
        k.put("period", ctx.period());
        k.put("fixedInputHex", HexFormat.of().formatHex(Kdf.fixedInput(ctx)));
        k.put("periodKeyHex", HexFormat.of().formatHex(Kdf.derive(primary, ctx)));
    }

    private ArrayNode fingerprintVectors() {
        ArrayNode a = json.createArrayNode();
        for (byte[] primary : List.of(PRIMARY, OTHER_PRIMARY, HexFormat.of().parseHex("0b".repeat(64)))) {
            ObjectNode f = a.addObject();
            f.put("primaryHex", HexFormat.of().formatHex(primary));
            f.put("inputHex", HexFormat.of().formatHex(KeyFingerprint.input()));
            f.put("fingerprintHex", KeyFingerprint.of(primary).hex());
            f.put("shown", KeyFingerprint.of(primary).grouped());
        }
        return a;
    }

    private static String body(String message) {
        return message.substring(message.indexOf("\r\n\r\n") + 4);
    }

    private void define() throws Exception {
        Canonicalization R = Canonicalization.RELAXED;
        Canonicalization S = Canonicalization.SIMPLE;

        // Canonicalization
        v("canon-relaxed-pass", "Default signature (relaxed/relaxed), message unchanged.").expect("pass", "verified");
        v("canon-simple-pass", "simple/simple, message unchanged.").canon(S, S).expect("pass", "verified");
        v("canon-relaxed-simple-pass", "relaxed/simple, message unchanged.").canon(R, S).expect("pass", "verified");
        v("canon-folded-headers-signed", "Subject and To are folded over several lines when signed.")
                .message(BASE.replace("Subject: Quarterly figures", "Subject: Quarterly\r\n figures for\r\n\tthe third quarter")
                        .replace("To: Bob Example <bob@b.example>", "To: Bob Example\r\n  <bob@b.example>"))
                .expect("pass", "verified");
        v("canon-refolded-relaxed", "Relaxed header canonicalization: a relay refolds Subject and changes spacing; still passes.")
                .transit(m -> m.replace("Subject: Quarterly figures", "Subject:  Quarterly\r\n\t figures  "))
                .expect("pass", "verified");
        v("canon-refolded-simple", "Simple header canonicalization: the same refolding breaks the MAC.")
                .canon(S, S).transit(m -> m.replace("Subject: Quarterly figures", "Subject:  Quarterly\r\n\t figures  "))
                .expect("fail", "bad-mac");
        v("canon-header-name-case-relaxed", "Relaxed: a relay rewrites header names in upper case.")
                .transit(m -> m.replace("\r\nSubject:", "\r\nSUBJECT:").replace("\r\nFrom:", "\r\nFROM:"))
                .expect("pass", "verified");
        v("canon-trailing-whitespace-relaxed", "Relaxed body: trailing spaces and tabs added to body lines in transit.")
                .transit(m -> m.replace("Hello Bob,\r\n", "Hello Bob, \t\r\n").replace("Alice\r\n", "Alice   \r\n"))
                .expect("pass", "verified");
        v("canon-trailing-whitespace-simple", "Simple body: the same trailing whitespace changes the body hash.")
                .canon(R, S).transit(m -> m.replace("Hello Bob,\r\n", "Hello Bob, \t\r\n"))
                .expect("fail", "body-changed");
        v("canon-inner-whitespace-relaxed", "Relaxed body: runs of whitespace inside lines change in transit.")
                .transit(m -> m.replace("the figures for Q3", "the  figures\tfor \t Q3"))
                .expect("pass", "verified");
        v("canon-empty-body-relaxed", "Empty body, relaxed: the canonical body is empty.")
                .message(BASE.substring(0, BASE.indexOf("\r\n\r\n") + 4)).expect("pass", "verified");
        v("canon-empty-body-simple", "Empty body, simple: the canonical body is one CRLF.")
                .canon(S, S).message(BASE.substring(0, BASE.indexOf("\r\n\r\n") + 4)).expect("pass", "verified");
        v("canon-no-header-body-separator", "Header block only, no empty line and no body at all.")
                .message(BASE.substring(0, BASE.indexOf("\r\n\r\n"))).expect("pass", "verified");
        v("canon-empty-lines-added", "Empty lines appended to the body in transit are ignored (relaxed).")
                .transit(m -> m + "\r\n\r\n\r\n").expect("pass", "verified");
        v("canon-empty-lines-added-simple", "Empty lines appended to the body in transit are ignored (simple too).")
                .canon(S, S).transit(m -> m + "\r\n\r\n").expect("pass", "verified");
        v("canon-no-final-crlf", "The body does not end in CRLF; a relay later adds one.")
                .message(BASE.substring(0, BASE.length() - 2))
                .transit(m -> m + "\r\n").expect("pass", "verified");
        v("canon-no-final-crlf-simple", "simple/simple with a body that does not end in CRLF.")
                .canon(S, S).message(BASE.substring(0, BASE.length() - 2)).expect("pass", "verified");
        v("canon-unterminated-trailing-space", "Relaxed: the unterminated last line ends in spaces, kept as one SP (as jDKIM and dkimpy do).")
                .message(BASE.substring(0, BASE.length() - 2) + "   ").expect("pass", "verified");
        v("canon-bare-cr-after-empty-line", "Relaxed body: a line that starts with a bare CR after an empty line. The CR is content "
                + "(RFC 6376 3.4.4), so that line is not empty and the empty line before it stays: canonical body "
                + "'Hello Bob,<CRLF><CRLF><CR>the figures...'.")
                .message(BASE.replace("Hello Bob,\r\n\r\nthe figures", "Hello Bob,\r\n\r\n\rthe figures")).expect("pass", "verified");
        v("canon-bare-cr-after-empty-line-simple", "The same body, simple/simple.")
                .canon(S, S).message(BASE.replace("Hello Bob,\r\n\r\nthe figures", "Hello Bob,\r\n\r\n\rthe figures"))
                .expect("pass", "verified");
        v("canon-bare-cr-ends-body", "Relaxed body that ends with an empty line and then a bare CR: the CR is an unterminated last line "
                + "of content, so the empty line before it stays and a CRLF is added after it (canonical end '<CRLF><CRLF><CR><CRLF>').")
                .message(BASE + "\r\n\r").expect("pass", "verified");
        v("canon-bare-cr-ends-body-simple", "The same body, simple/simple.")
                .canon(S, S).message(BASE + "\r\n\r").expect("pass", "verified");
        v("canon-lf-only", "Signed with CRLF, stored with bare LF line ends everywhere (a Unix mailbox).")
                .transit(m -> m.replace("\r\n", "\n")).expect("pass", "verified");
        v("canon-lf-only-simple", "simple/simple survives a CRLF to LF rewrite too, because bare LF is read as CRLF.")
                .canon(S, S).transit(m -> m.replace("\r\n", "\n")).expect("pass", "verified");
        v("canon-8bit-relaxed", "8-bit UTF-8 in Subject and body (SMTPUTF8 / 8BITMIME), relaxed.")
                .message(BASE.replace("Subject: Quarterly figures", "Subject: Quartalszahlen f\u00fcr K\u00f6ln \u2014 \u65e5\u672c")
                        .replace("charset=us-ascii", "charset=utf-8").replace("7bit", "8bit")
                        .replace("Hello Bob,", "Gr\u00fc\u00dfe, Bob \u2603"))
                .transit(m -> m.replace("Gr\u00fc\u00dfe, Bob", "Gr\u00fc\u00dfe,   Bob"))
                .expect("pass", "verified");
        v("canon-8bit-simple", "8-bit UTF-8 in Subject and body, simple/simple.")
                .canon(S, S)
                .message(BASE.replace("Subject: Quarterly figures", "Subject: Caf\u00e9 cr\u00e8me")
                        .replace("Hello Bob,", "Gr\u00fc\u00dfe, Bob"))
                .expect("pass", "verified");
        v("canon-8bit-body-changed", "8-bit body: one UTF-8 character replaced by another.")
                .message(BASE.replace("Hello Bob,", "Gr\u00fc\u00dfe, Bob"))
                .transit(m -> m.replace("Gr\u00fc\u00dfe", "Gr\u00fc\u00dfen"))
                .expect("fail", "body-changed");
        v("canon-signature-header-folded", "A relay folds the long X-Auth-HMAC header itself (relaxed header canonicalization).")
                .transit(m -> m.replaceFirst("; h=", ";\r\n\th=").replaceFirst("; bh=", ";\r\n bh=").replaceFirst("; b=", ";\r\n\tb="))
                .expect("pass", "verified");
        v("canon-unsigned-headers-added", "Received and Authentication-Results fields (ignore set, PROTOCOL.md 5.3) added above and between.")
                .transit(m -> "Received: from mx.a.example by mx.b.example; Sat, 22 Nov 2025 02:00:03 +0000\r\n"
                        + "Authentication-Results: mx.b.example; spf=pass\r\n"
                        + m.replace("MIME-Version:", "Received: from relay.a.example by mx.a.example; Sat, 22 Nov 2025 02:00:01 +0000\r\nMIME-Version:"))
                .expect("pass", "verified");
        v("coverage-x-spam-score-added", "Received and Authentication-Results added above, and an X-Spam-Score field (not in the ignore set) "
                + "between the signed ones: h= does not cover it.")
                .transit(m -> "Received: from mx.a.example by mx.b.example; Sat, 22 Nov 2025 02:00:03 +0000\r\n"
                        + "Authentication-Results: mx.b.example; spf=pass\r\n"
                        + m.replace("MIME-Version:", "X-Spam-Score: 0.1\r\nMIME-Version:"))
                .expect("fail", "unsigned-header");

        // Failures
        v("fail-bad-mac-subject-changed", "A signed header (Subject) is changed in transit.")
                .transit(m -> m.replace("Subject: Quarterly figures", "Subject: Quarterly figures - urgent"))
                .expect("fail", "bad-mac");
        v("fail-bad-mac-oversigned-cc-added", "A Cc header is added; Cc was oversigned (listed once with no instance).")
                .transit(m -> m.replace("Subject:", "Cc: eve@evil.example\r\nSubject:"))
                .expect("fail", "bad-mac");
        v("fail-bad-mac-reply-to-added", "A Reply-To header is added below the original headers; oversigning catches it.")
                .transit(m -> m.replace("Content-Transfer-Encoding: 7bit\r\n", "Content-Transfer-Encoding: 7bit\r\nReply-To: eve@evil.example\r\n"))
                .expect("fail", "bad-mac");
        v("fail-bad-mac-wrong-primary", "The verifier holds the key id with a different primary secret.")
                .verifierKey(KID, OTHER_PRIMARY).expect("fail", "bad-mac");
        v("fail-bad-mac-tag-changed", "The r= tag is edited to another domain; the MAC covers the signature header.")
                .transit(m -> m.replaceFirst("r=b.example", "r=c.example")).recipient("carol@c.example")
                .expect("fail", "bad-mac");
        v("fail-body-changed", "One word of the body is changed.")
                .transit(m -> m.replace("shared folder", "attached folder")).expect("fail", "body-changed");
        v("fail-body-appended", "Content appended after the signed body (what DKIM l= would have allowed).")
                .transit(m -> m + "\r\nP.S. Please wire the money to account 1234.\r\n").expect("fail", "body-changed");
        v("fail-duplicate-from", "A second From is added above the signature.")
                .transit(m -> "From: Mallory <mallory@evil.example>\r\n" + m).expect("fail", "duplicate-header");
        v("fail-duplicate-subject", "A second Subject is added at the end of the header block.")
                .transit(m -> m.replace("Content-Transfer-Encoding: 7bit\r\n", "Content-Transfer-Encoding: 7bit\r\nSubject: urgent\r\n"))
                .expect("fail", "duplicate-header");
        v("pass-default-h", "Signed with the signer's current default list (PROTOCOL.md 5.2): every listed field oversigned, MIME fields included.")
                .signer(SignerSettings.defaults()).expect("pass", "verified");
        v("fail-bad-mac-default-h-sender-added", "Current default list; a Sender field (absent when signed) is added. Sender was listed once "
                + "with no instance, so the MAC fails.")
                .signer(SignerSettings.defaults())
                .transit(m -> m.replace("Content-Transfer-Encoding: 7bit\r\n", "Content-Transfer-Encoding: 7bit\r\nSender: mallory@evil.example\r\n"))
                .expect("fail", "bad-mac");
        v("fail-duplicate-content-type", "First signer's list (MIME fields not oversigned); a second Content-Type is added above the "
                + "signature. The MAC still matches the bottom instance; the duplicate rule (PROTOCOL.md 9, step 3) fails it.")
                .transit(m -> "Content-Type: text/html; charset=us-ascii\r\n" + m).expect("fail", "duplicate-header");
        v("fail-unknown-key", "The verifier does not hold the key id s=.")
                .verifierKey("partner-b.2024-05", PRIMARY).expect("permerror", "unknown-key");
        v("fail-key-unavailable", "The verifier's key source (TPM) does not answer.")
                .keysUnavailable().expect("temperror", "key-unavailable");
        v("fail-wrong-recipient-domain", "Signed for r=b.example, delivered to a mailbox of c.example.")
                .recipient("carol@c.example").expect("fail", "wrong-recipient");
        v("fail-wrong-recipient-mailbox", "Signed for the mailbox bob@b.example (server to client), delivered to carol@b.example.")
                .requests(request("bob@b.example", T0)).recipient("carol@b.example").expect("fail", "wrong-recipient");
        v("fail-wrong-recipient-mailbox-quoted", "Signed for the mailbox bob@b.example, delivered to \"bob\"@b.example: a mailbox "
                + "binding compares the local part as given.")
                .requests(request("bob@b.example", T0)).recipient("\"bob\"@b.example").expect("fail", "wrong-recipient");
        v("fail-wrong-recipient-mailbox-sub-address", "Signed for the mailbox bob@b.example, delivered to bob+news@b.example.")
                .requests(request("bob@b.example", T0)).recipient("bob+news@b.example").expect("fail", "wrong-recipient");
        v("pass-mailbox-binding", "Signed for the mailbox bob@b.example, delivered to Bob@B.Example (case-insensitive).")
                .requests(request("bob@b.example", T0)).recipient("Bob@B.Example").expect("pass", "verified");
        v("fail-malformed-tag-syntax", "A tag without '=' in the signature header.")
                .transit(m -> m.replaceFirst("; n=", "; oops; n=")).expect("permerror", "malformed");
        v("fail-malformed-duplicate-tag", "The tag s= appears twice.")
                .transit(m -> m.replaceFirst("; t=", "; s=other; t=")).expect("permerror", "malformed");
        v("fail-malformed-h-without-from", "h= does not list from.")
                .transit(m -> m.replaceFirst("h=from:from:", "h=")).expect("permerror", "malformed");
        v("fail-malformed-missing-bh", "The bh= tag is missing.")
                .transit(m -> m.replaceFirst("; bh=[^;]*;", ";")).expect("permerror", "malformed");
        v("fail-malformed-bad-base64", "b= is not valid base64 of 32 bytes.")
                .transit(m -> m.replaceFirst("; b=[^\r\n]*", "; b=not*base64")).expect("permerror", "malformed");
        v("fail-malformed-short-nonce", "n= is shorter than 16 characters.")
                .transit(m -> m.replaceFirst("n=" + NONCE, "n=abc")).expect("permerror", "malformed");
        v("fail-unsupported-version", "v=2.")
                .transit(m -> m.replaceFirst("v=1;", "v=2;")).expect("permerror", "unsupported-version");
        v("fail-unsupported-algorithm", "a=hmac-sha1.")
                .transit(m -> m.replaceFirst("a=hmac-sha256", "a=hmac-sha1")).expect("permerror", "unsupported-algorithm");
        v("none-no-signature", "No X-Auth-HMAC header at all.").unsigned().expect("none", "no-signature");

        // Time window (p = 900, T0 is the first second of a period)
        v("window-at-period-boundary", "Signed and accepted at the same second, exactly at a period boundary.")
                .acceptedAt(T0).expect("pass", "verified");
        v("window-last-second-of-period", "Accepted at the last second of the signing period.")
                .acceptedAt(T0 + P - 1).expect("pass", "verified");
        v("window-previous-period-start", "Accepted in the next period: the signature is from the previous period.")
                .acceptedAt(T0 + P).expect("pass", "verified");
        v("window-previous-period-end", "Accepted at the last second of the next period (age 1799 s < maxAge 1800 s).")
                .acceptedAt(T0 + 2L * P - 1).expect("pass", "verified");
        v("window-two-periods-back", "Accepted two periods after the signing period.")
                .acceptedAt(T0 + 2L * P).expect("fail", "expired");
        v("window-late-signing-two-periods", "Signed at the last second of a period, accepted 901 s later: two periods back.")
                .signedAt(T0 + P - 1).acceptedAt(T0 + P - 1 + 901).expect("fail", "expired");
        v("window-late-signing-one-period", "Signed at the last second of a period, accepted 900 s later: one period back.")
                .signedAt(T0 + P - 1).acceptedAt(T0 + P - 1 + 900).expect("pass", "verified");
        v("window-future-within-skew", "t is 300 s after acceptance: the allowed clock skew.")
                .acceptedAt(T0 - 300).expect("pass", "verified");
        v("window-future-beyond-skew", "t is 301 s after acceptance.")
                .acceptedAt(T0 - 301).expect("fail", "future");
        v("window-max-age", "maxAge configured to 600 s: accepted 601 s after signing, inside the period window.")
                .setting("maxAgeSeconds", 600).acceptedAt(T0 + 601).expect("fail", "expired");
        v("window-no-previous-period", "previousPeriods configured to 0: accepted in the next period.")
                .setting("previousPeriods", 0).acceptedAt(T0 + P).expect("fail", "expired");

        // Replay
        v("replay-same-recipient", "The replay cache already holds (d, s, n, recipient): the signature was seen before.")
                .replay(1000, new Held("a.example", KID, NONCE, "bob@b.example")).expect("fail", "replay");
        v("replay-other-recipient-recipient-scope", "Signed with rc=2; the cache holds the nonce for another recipient: a partial-delivery retry, not a replay.")
                .requests(request("b.example", T0).withRecipientCount(2))
                .replay(1000, new Held("a.example", KID, NONCE, "carol@b.example")).expect("pass", "verified");
        v("replay-other-recipient-beyond-rc", "Signed with rc=1; the cache holds the nonce for carol: a second mailbox is beyond rc.")
                .replay(1000, new Held("a.example", KID, NONCE, "carol@b.example")).expect("fail", "replay");
        v("replay-sub-address", "The cache holds the nonce for bob@b.example; the recipient bob+news@b.example is the same mailbox.")
                .requests(request("b.example", T0).withRecipientCount(2)).recipient("bob+news@b.example")
                .replay(1000, new Held("a.example", KID, NONCE, "bob@b.example")).expect("fail", "replay");
        v("replay-quoted-local-part", "The cache holds the nonce for bob@b.example; the recipient \"Bob\"@b.example is the same mailbox.")
                .requests(request("b.example", T0).withRecipientCount(2)).recipient("\"Bob\"@b.example")
                .replay(1000, new Held("a.example", KID, NONCE, "bob@b.example")).expect("fail", "replay");
        v("replay-no-sub-addressing", "subAddressSeparator \"\" (none): bob+news@b.example is its own mailbox; rc=2 leaves room for it.")
                .setting("subAddressSeparator", "")
                .requests(request("b.example", T0).withRecipientCount(2)).recipient("bob+news@b.example")
                .replay(1000, new Held("a.example", KID, NONCE, "bob@b.example")).expect("pass", "verified");
        v("replay-signature-scope-pass", "Replay scope 'signature', signed with rc=3, nothing held: the first sighting passes.")
                .setting("replayScope", "signature").requests(request("b.example", T0).withRecipientCount(3))
                .expect("pass", "verified");
        v("replay-signature-scope", "Replay scope 'signature': the cache holds (d, s, n) and any second sighting is a replay.")
                .setting("replayScope", "signature")
                .replay(1000, new Held("a.example", KID, NONCE, "")).expect("fail", "replay");
        v("replay-other-key-id", "The cache holds the same nonce under another key id: not the same signature.")
                .replay(1000, new Held("a.example", "partner-b.2024-05", NONCE, "bob@b.example")).expect("pass", "verified");
        v("replay-cache-full", "The replay cache is full of unexpired entries: fail closed.")
                .replay(1, new Held("a.example", KID, "AAAAAAAAAAAAAAAAAAAAAA", "dave@b.example"))
                .expect("temperror", "internal-error");
        v("replay-after-bad-mac-not-recorded", "A forged copy with the seen nonce fails on the MAC before the replay check.")
                .replay(1000, new Held("a.example", KID, NONCE, "bob@b.example"))
                .transit(m -> m.replace("Quarterly", "Annual")).expect("fail", "bad-mac");

        // Several signatures, recipients, header name
        v("multi-second-header-for-recipient", "Two signatures, for c.example then b.example; the second passes.")
                .requests(request("c.example", T0), request("b.example", T0)).expect("pass", "verified");
        v("multi-beyond-max-headers", "maxHeaders 2: the signature for b.example is the third header and is not evaluated.")
                .setting("maxHeaders", 2)
                .requests(request("c.example", T0), request("d.example", T0), request("b.example", T0))
                .expect("fail", "wrong-recipient");
        v("multi-malformed-then-valid", "A malformed X-Auth-HMAC header above a valid one does not hide it.")
                .transit(m -> "X-Auth-HMAC: v=1; garbage\r\n" + m).expect("pass", "verified");
        v("multi-none-for-recipient-reports-own", "Two signatures, body changed: the verdict is the one made for this recipient.")
                .requests(request("c.example", T0), request("b.example", T0))
                .transit(m -> m.replace("Regards", "Best")).expect("fail", "body-changed");
        v("multi-unparsed-header-binds-nobody", "Two signatures: for c.example (valid), then for b.example with v=2. The second did not "
                + "pass step 4, so it binds nobody: the verdict is the first header's (wrong-recipient), not unsupported-version.")
                .requests(request("c.example", T0), request("b.example", T0))
                .transit(m -> m.replaceFirst("v=1(; [^\r\n]*; r=b\\.example;)", "v=2$1")).expect("fail", "wrong-recipient");
        v("header-name-configured", "Signer and verifier configured with header name X-Partner-HMAC.")
                .signer(FIRST_SIGNER.withHeaderName("X-Partner-HMAC")).setting("headerName", "X-Partner-HMAC")
                .expect("pass", "verified");
        v("header-name-other", "Signed with X-Partner-HMAC; the verifier looks for X-Auth-HMAC and finds none.")
                .signer(FIRST_SIGNER.withHeaderName("X-Partner-HMAC")).expect("none", "no-signature");
        v("period-3600", "Signer and verifier configured with p=3600; accepted 5000 s later (previous period).")
                .signer(FIRST_SIGNER.withPeriodSeconds(3600)).setting("periodSeconds", 3600).signedAt(1_763_773_200L)
                .acceptedAt(1_763_773_200L + 5000).expect("pass", "verified");

        // Bounds before parsing (PROTOCOL.md 2 and 3.2): at each bound, and one over it
        v("bound-field-8192-octets", "The signature field is exactly 8192 octets (h= lists hundreds of X-Pad fields): at the bound, it is read.")
                .message(paddedToFieldOctets(8192)).expect("pass", "verified");
        v("bound-field-8193-octets", "The same with one more octet in a field name: the signature field is 8193 octets, malformed without "
                + "parsing (forged: the Signer refuses to make it; the MAC is right).")
                .message(paddedToFieldOctets(8193)).forged().expect("permerror", "malformed");
        v("bound-32-tag-specs", "19 unknown tags before b= and a final ';': 32 tag-specs and 32 ';', the most allowed (forged, MAC right).")
                .forged(f -> f.replace("; b=" + MAC_MARK, unknownTags(19) + "; b=" + MAC_MARK + ";")).expect("pass", "verified");
        v("bound-33-tag-specs", "20 unknown tags before b=: 33 tag-specs (with 32 ';', since there is no final one): malformed (forged, MAC right).")
                .forged(f -> f.replace("; b=" + MAC_MARK, unknownTags(20) + "; b=" + MAC_MARK)).expect("permerror", "malformed");
        v("bound-1024-h-names", "1009 X-Pad fields: h= names 1024 fields, the most allowed.")
                .message(withFields("X-Pad: n\r\n".repeat(1009))).expect("pass", "verified");
        v("bound-1025-h-names", "1010 X-Pad fields: h= names 1025 fields (1024 ':'), malformed (forged: the Signer refuses; MAC right).")
                .message(withFields("X-Pad: n\r\n".repeat(1010))).forged().expect("permerror", "malformed");
        v("bound-header-block-1mib", "Relays added Received fields on top until the octets before the body, the empty line included, "
                + "are exactly 1,048,576 (1 MiB, maxHeaderBytes): at the bound, pass.")
                .transit(m -> withHeaderOctets(m, MAX_HEADER_BYTES)).expect("pass", "verified");
        v("bound-header-block-1mib-plus-one", "The same with 1,048,577 octets before the body: over the header block bound, malformed (step 1).")
                .transit(m -> withHeaderOctets(m, MAX_HEADER_BYTES + 1)).expect("permerror", "malformed");

        // Strict reading
        String smuggled = "X-Note: x\rFrom: Mallory <ceo@a.example>\r\n";
        v("strict-bare-cr-in-signed-header", "A field 'X-Note: x<CR>From: Mallory <ceo@a.example>', listed in h= and covered by the MAC "
                + "(forged: the Signer refuses a bare CR): a bare CR in the header block makes the message malformed (step 1).")
                .message(withFields(smuggled)).forged().expect("permerror", "malformed");
        v("strict-bare-cr-in-added-header", "The same field added in transit below the signature: malformed (step 1), before coverage.")
                .transit(m -> m.replace("MIME-Version:", smuggled + "MIME-Version:")).expect("permerror", "malformed");
        v("strict-bare-cr-in-body", "A bare CR inside a body line ('Hello<CR>Bob,') is an ordinary byte of the body.")
                .message(BASE.replace("Hello Bob,", "Hello\rBob,")).expect("pass", "verified");
        v("strict-cr-last-octet-empty-line", "The message ends in a CR: the empty line after the header block, cut before its LF. It ends "
                + "the header block (not a bare CR); there is no body.")
                .message(BASE.substring(0, BASE.indexOf("\r\n\r\n") + 3)).expect("pass", "verified");
        v("strict-cr-last-octet-field", "The message ends in a CR right after the last field: the end of that line, cut short; no body.")
                .message(BASE.substring(0, BASE.indexOf("\r\n\r\n") + 1)).expect("pass", "verified");
        v("strict-b-unpadded", "b= without its final '=' (43 characters; a lenient decoder gets the same 32 bytes): malformed.")
                .forgedB(f -> f.substring(0, f.length() - 1)).expect("permerror", "malformed");
        v("strict-b-nonzero-unused-bits", "b= with the 2 unused bits of its last base64 character set (a lenient decoder gets the same "
                + "32 bytes): malformed.")
                .forgedB(f -> withUnusedBits(f, "b=")).expect("permerror", "malformed");
        v("strict-bh-nonzero-unused-bits", "bh= with the 2 unused bits of its last base64 character set, signed so (forged, MAC right): malformed.")
                .forged(f -> withUnusedBits(f, "; bh=")).expect("permerror", "malformed");
        v("strict-h-fws-inside-name", "h= begins 'fr om': FWS inside a name is malformed (forged; a reader that drops all FWS reads 'from' "
                + "and finds the MAC right).")
                .forged(f -> f.replace("; h=from:", "; h=fr om:")).expect("permerror", "malformed");
        v("strict-h-fws-around-colons", "h= begins 'from :<CRLF> from: to :': FWS around the colons is allowed (signed so).")
                .forged(f -> f.replace("; h=from:from:to:", "; h=from :\r\n from: to :")).expect("pass", "verified");
        v("strict-unknown-tag-with-spaces", "An unknown tag 'x=one two<CRLF> three' (WSP and a fold between value runs): ignored, and "
                + "covered by the MAC like the rest of the field.")
                .forged(f -> f.replace("; h=", "; x=one two\r\n three; h=")).expect("pass", "verified");
        v("strict-r-mixed-case", "Mailbox binding written r=Bob@B.Example (signed so): r= is compared case-insensitively as a whole, "
                + "local part included.")
                .requests(request("bob@b.example", T0)).forged(f -> f.replace("; r=bob@b.example;", "; r=Bob@B.Example;"))
                .expect("pass", "verified");
        v("tags-b-not-last", "b= right after v= (tags may come in any order; signed so): the MAC input empties b= where it stands.")
                .forged(f -> "X-Auth-HMAC: v=1; b=" + MAC_MARK + "; "
                        + f.substring("X-Auth-HMAC: v=1; ".length(), f.indexOf("; b=" + MAC_MARK)))
                .expect("pass", "verified");
        v("tags-c-absent", "No c= (signed so): the default is relaxed/relaxed.")
                .forged(f -> f.replace("; c=relaxed/relaxed", "")).transit(m -> m.replace("the figures for Q3", "the  figures for Q3"))
                .expect("pass", "verified");
        v("tags-c-single-algorithm", "c=relaxed alone (signed so): relaxed headers and simple body, as in DKIM; trailing spaces added "
                + "to a body line change the body hash.")
                .canon(R, S).forged(f -> f.replace("; c=relaxed/simple", "; c=relaxed"))
                .transit(m -> m.replace("Hello Bob,\r\n", "Hello Bob,  \r\n")).expect("fail", "body-changed");
        v("tags-p-absent", "No p= (signed so): the default is 900.")
                .forged(f -> f.replace("; p=900", "")).expect("pass", "verified");
        v("tags-upper-case-values", "a=HMAC-SHA256, c=Relaxed/Relaxed, d=A.Example and h= names in upper case (signed so): compared "
                + "case-insensitively (d and h lower-cased before use).")
                .forged(f -> f.replace("a=hmac-sha256", "a=HMAC-SHA256").replace("c=relaxed/relaxed", "c=Relaxed/Relaxed")
                        .replace("d=a.example", "d=A.Example").replace("; h=from:from:to:to:", "; h=From:FROM:To:to:"))
                .expect("pass", "verified");
        v("tags-name-case-sensitive", "The MAC tag written B= (signed so): tag names are case-sensitive, so b= is missing: malformed.")
                .forged(f -> f.replace("; b=" + MAC_MARK, "; B=" + MAC_MARK)).expect("permerror", "malformed");
        v("tags-l-does-not-limit-body", "An l= tag (DKIM's body length) with the body's length, and text appended in transit: l= is an "
                + "unknown tag, the whole body is hashed.")
                .forged(f -> f.replace("; h=", "; l=" + body(BASE).length() + "; h="))
                .transit(m -> m + "P.S. Please wire the money to account 1234.\r\n").expect("fail", "body-changed");
        v("order-version-before-algorithm", "v=2 and a=hmac-sha1: v is checked first.")
                .transit(m -> m.replaceFirst("v=1;", "v=2;").replaceFirst("a=hmac-sha256", "a=hmac-sha1"))
                .expect("permerror", "unsupported-version");
        v("order-version-before-other-tags", "v=2 and no bh=: v and a are checked before the other tags.")
                .transit(m -> m.replaceFirst("v=1;", "v=2;").replaceFirst("; bh=[^;]*;", ";")).expect("permerror", "unsupported-version");
        v("order-field-bound-before-version", "A signature field of 8193 octets with v=2: the size bound is checked before parsing, "
                + "so malformed, not unsupported-version.")
                .message(paddedToFieldOctets(8193)).forged(f -> f.replace("v=1;", "v=2;")).expect("permerror", "malformed");
        v("order-tag-bound-before-version", "33 tag-specs and v=2: the tag-spec bound is checked before any tag, so malformed.")
                .forged(f -> f.replace("v=1;", "v=2;").replace("; b=" + MAC_MARK, unknownTags(20) + "; b=" + MAC_MARK))
                .expect("permerror", "malformed");
        v("order-version-before-h-bound", "1025 names in h= and v=2: the h= bound is checked when h= is read, after v: "
                + "unsupported-version.")
                .message(withFields("X-Pad: n\r\n".repeat(1010))).forged(f -> f.replace("v=1;", "v=2;"))
                .expect("permerror", "unsupported-version");
        v("order-algorithm-before-other-tags", "a=hmac-sha1 and no bh=: unsupported-algorithm.")
                .transit(m -> m.replaceFirst("a=hmac-sha256", "a=hmac-sha1").replaceFirst("; bh=[^;]*;", ";"))
                .expect("permerror", "unsupported-algorithm");
        v("tags-p-out-of-range", "p=59 (below 60): malformed.")
                .transit(m -> m.replaceFirst("; p=900;", "; p=59;")).expect("permerror", "malformed");
        v("tags-rc-zero", "rc=0 (below 1): malformed.")
                .transit(m -> m.replaceFirst("; rc=1;", "; rc=0;")).expect("permerror", "malformed");
        v("tags-rc-over-10000", "rc=10001: malformed.")
                .transit(m -> m.replaceFirst("; rc=1;", "; rc=10001;")).expect("permerror", "malformed");
        v("tags-non-ascii-in-unknown-tag", "An unknown tag whose value holds a UTF-8 character (x=caf\u00e9), signed so: any octet "
                + "outside US-ASCII in the field value is malformed.")
                .forged(f -> f.replace("; h=", "; x=caf\u00e9; h=")).expect("permerror", "malformed");
        v("malformed-line-without-colon", "A line without a colon among the header fields: the message is malformed (step 1).")
                .transit(m -> m.replace("MIME-Version:", "this line has no colon\r\nMIME-Version:")).expect("permerror", "malformed");
        v("malformed-continuation-line-first", "The message starts with a continuation line: malformed (step 1).")
                .transit(m -> " folded\r\n" + m).expect("permerror", "malformed");

        // Canonicalization examples
        v("canon-whitespace-only-last-line", "Relaxed: the unterminated last body line is only WSP (SP HTAB SP): it canonicalizes to SP CRLF.")
                .message(BASE + " \t ").expect("pass", "verified");
        v("canon-whitespace-only-line-added", "Relaxed: a line of only WSP appended in transit is an empty line at the end once its WSP is "
                + "deleted, and is removed.")
                .transit(m -> m + " \t\r\n").expect("pass", "verified");
        v("canon-whitespace-only-line-added-simple", "Simple body: the same appended line changes the body hash.")
                .canon(R, S).transit(m -> m + " \t\r\n").expect("fail", "body-changed");
        String rfc6376 = BASE.substring(0, BASE.indexOf("\r\n\r\n") + 2).replace("MIME-Version:", "A: X\r\nB : Y\t\r\n\tZ  \r\nMIME-Version:")
                + "\r\n C \r\nD \t E\r\n\r\n\r\n";
        v("canon-rfc6376-example-relaxed", "RFC 6376 section 3.4.5: fields 'A: X' and 'B : Y<HTAB><CRLF><HTAB>Z  ', body "
                + "' C <CRLF>D <HTAB> E<CRLF><CRLF><CRLF>', relaxed/relaxed: 'a:X', 'b:Y Z' and the body ' C<CRLF>D E<CRLF>'.")
                .message(rfc6376).expect("pass", "verified");
        v("canon-rfc6376-example-simple", "The same message simple/simple: the fields unchanged, the body ' C <CRLF>D <HTAB> E<CRLF>'.")
                .canon(S, S).message(rfc6376).expect("pass", "verified");

        // Time window and period length policy
        v("window-future-skew-configured", "maxFutureSkewSeconds configured to 60: t is 61 s after acceptance.")
                .setting("maxFutureSkewSeconds", 60).acceptedAt(T0 - 61).expect("fail", "future");
        v("window-future-skew-configured-edge", "maxFutureSkewSeconds configured to 60: t is 60 s after acceptance.")
                .setting("maxFutureSkewSeconds", 60).acceptedAt(T0 - 60).expect("pass", "verified");
        v("period-other-p-unknown-key", "Signed with p=3600; the verifier's period length is 900: unknown-key, before any key is derived.")
                .signer(FIRST_SIGNER.withPeriodSeconds(3600)).expect("permerror", "unknown-key");
        v("period-60-configured", "Signer and verifier configured with p=60.")
                .signer(FIRST_SIGNER.withPeriodSeconds(60)).setting("periodSeconds", 60).expect("pass", "verified");
        v("period-window-before-policy", "Signed with p=60 (verifier at 900), accepted 300 s later: the time window, computed with p=60 "
                + "(5 periods back), decides before the period length policy: expired, not unknown-key.")
                .signer(FIRST_SIGNER.withPeriodSeconds(60)).acceptedAt(T0 + 300).expect("fail", "expired");

        // Keys
        v("key-unknown-while-source-down", "The verifier does not hold s= and its key source is down: unknown-key, decided from the "
                + "keyset before the key source is asked.")
                .verifierKey("partner-b.2024-05", PRIMARY).keysUnavailable().expect("permerror", "unknown-key");
        String fromCarol = BASE.replace("From: Alice Example <alice@a.example>", "From: Carol Example <carol@c.example>");
        v("key-not-allowed-for-d", "Signed by c.example (From carol@c.example) under partner-b.2025-11, which the verifier allows only for "
                + "d=a.example: unknown-key.")
                .message(fromCarol).requests(request(KID, "c.example", "b.example", T0))
                .keys(Key.of(KID, PRIMARY).onlyFor("a.example")).expect("permerror", "unknown-key");
        v("key-allowed-for-d", "The key id may sign only for a.example, and d=a.example.")
                .keys(Key.of(KID, PRIMARY).onlyFor("a.example")).expect("pass", "verified");
        v("multi-first-temperror-key-unavailable", "Two signatures for b.example: the first under partner-b.2025-11, whose key source is "
                + "down (key-unavailable); the second under partner-b.2025-12, MAC right, but the replay cache is full (internal-error). "
                + "No pass: the first temperror is the verdict.")
                .requests(request(KID, "a.example", "b.example", T0), request(KID2, "a.example", "b.example", T0))
                .keys(Key.of(KID, PRIMARY).unavailable(), Key.of(KID2, OTHER_PRIMARY))
                .replay(1, new Held("a.example", KID, "AAAAAAAAAAAAAAAAAAAAAA", "dave@b.example"))
                .expect("temperror", "key-unavailable");
        v("multi-first-temperror-cache-full", "The same two signatures in the other order: the replay cache's temperror comes first.")
                .requests(request(KID2, "a.example", "b.example", T0), request(KID, "a.example", "b.example", T0))
                .keys(Key.of(KID, PRIMARY).unavailable(), Key.of(KID2, OTHER_PRIMARY))
                .replay(1, new Held("a.example", KID, "AAAAAAAAAAAAAAAAAAAAAA", "dave@b.example"))
                .expect("temperror", "internal-error");

        v("multi-temperror-after-fail", "Two signatures for b.example: the first under partner-b.2025-12, which the verifier holds with "
                + "another primary (bad-mac), the second under partner-b.2025-11, whose key source is down: a temperror beats the "
                + "earlier fail, since a retry may pass.")
                .requests(request(KID2, "a.example", "b.example", T0), request(KID, "a.example", "b.example", T0))
                .keys(Key.of(KID, PRIMARY).unavailable(), Key.of(KID2, PRIMARY))
                .expect("temperror", "key-unavailable");

        // Recipients, rc= and replay ids
        v("recipient-angle-brackets", "The envelope recipient given as <bob@b.example> (RFC 5321 path form): the brackets are stripped.")
                .recipient("<bob@b.example>").expect("pass", "verified");
        v("recipient-domain-level", "The recipient given as the domain b.example (a domain-level check): r=b.example binds it.")
                .recipient("b.example").expect("pass", "verified");
        v("recipient-domain-level-mailbox-binding", "Signed for the mailbox bob@b.example, checked for the domain b.example: a mailbox "
                + "binding binds no domain.")
                .requests(request("bob@b.example", T0)).recipient("b.example").expect("fail", "wrong-recipient");
        v("recipient-trailing-dot", "The recipient's domain has a final dot (bob@b.example.): removed before binding.")
                .recipient("bob@b.example.").expect("pass", "verified");
        v("recipient-idn-u-label", "Signed for r=xn--bcher-kva.example; the recipient is bob@b\u00fccher.example (U-labels): its domain in "
                + "A-labels binds.")
                .requests(request(KID, "a.example", "xn--bcher-kva.example", T0)).recipient("bob@b\u00fccher.example")
                .expect("pass", "verified");
        v("rc-absent-pass", "A signature without rc= (signers before the tag; signed so): valid, rc defaults to 1.")
                .forged(f -> f.replace("; rc=1;", ";")).expect("pass", "verified");
        v("replay-no-rc-tag", "A signature without rc=: it counts as rc=1, and the cache holds the nonce for carol, so bob is beyond it.")
                .forged(f -> f.replace("; rc=1;", ";"))
                .replay(1000, new Held("a.example", KID, NONCE, "carol@b.example")).expect("fail", "replay");
        v("replay-rc3-four-recipients", "Signed with rc=3; one verification for four mailboxes of b.example, in this order: the first "
                + "three pass, the fourth is beyond rc.")
                .requests(request("b.example", T0).withRecipientCount(3))
                .expectEach("bob@b.example", "pass", "verified", "carol@b.example", "pass", "verified",
                        "dave@b.example", "pass", "verified", "erin@b.example", "fail", "replay");
        v("replay-one-mailbox-several-spellings", "rc=1; one verification for bob@b.example, BOB@b.example, <bob+news@b.example> and "
                + "\"bob\"@b.example: one replay id, so they share one pass.")
                .expectEach("bob@b.example", "pass", "verified", "BOB@b.example", "pass", "verified",
                        "<bob+news@b.example>", "pass", "verified", "\"bob\"@b.example", "pass", "verified");
        v("replay-signature-scope-several-recipients", "Replay scope 'signature', rc=1: the recipients of one verification share its one sighting.")
                .setting("replayScope", "signature")
                .expectEach("bob@b.example", "pass", "verified", "carol@b.example", "pass", "verified");
        v("multi-recipients-two-domains", "Signed for b.example only; one verification for bob@b.example and carol@c.example.")
                .expectEach("bob@b.example", "pass", "verified", "carol@c.example", "fail", "wrong-recipient");
        v("replay-quoted-local-part-not-dot-atom", "rc=2; the cache holds \"bob smith\"@b.example; the recipient \"Bob Smith\"@b.example "
                + "is that mailbox (lower case, quoted again since it is not a dot-atom).")
                .requests(request("b.example", T0).withRecipientCount(2)).recipient("\"Bob Smith\"@b.example")
                .replay(1000, new Held("a.example", KID, NONCE, "\"bob smith\"@b.example")).expect("fail", "replay");
        v("replay-domain-share-full", "Capacity 1000, but the share of one signing domain is 1 entry, and a.example holds one (another "
                + "signature): temperror for a.example's mail.")
                .replay(1000, new Held("a.example", KID, "AAAAAAAAAAAAAAAAAAAAAA", "dave@b.example")).domainCapacity(1)
                .expect("temperror", "internal-error");
        v("replay-other-domain-share", "Capacity 2, a share of 1 per signing domain: c.example holds its one entry, a.example still has room.")
                .replay(2, new Held("c.example", "partner-c.2025-11", "AAAAAAAAAAAAAAAAAAAAAA", "dave@b.example")).domainCapacity(1)
                .expect("pass", "verified");

        // Coverage (PROTOCOL.md 5.3)
        String[][] steering = {
                {"Mail-Reply-To", "eve@evil.example", "steers replies"},
                {"Resent-From", "CEO <ceo@a.example>", "changes the displayed sender in some readers"},
                {"List-Unsubscribe", "<https://evil.example/u>", "adds a one-click link"}};
        for (String[] f : steering) {
            v("coverage-" + f[0].toLowerCase(Locale.ROOT) + "-added", "A " + f[0] + " field (" + f[2] + ") added in transit: h= does not cover it.")
                    .transit(m -> m.replace("MIME-Version:", f[0] + ": " + f[1] + "\r\nMIME-Version:")).expect("fail", "unsigned-header");
        }
        String[][] ignored = {
                {"Received", "from mx.a.example by mx.b.example; Sat, 22 Nov 2025 02:00:03 +0000"},
                {"Return-Path", "<alice@a.example>"},
                {"Delivered-To", "bob@b.example"},
                {"Authentication-Results", "mx.b.example; spf=pass smtp.mailfrom=a.example"},
                {"DKIM-Signature", "v=1; a=rsa-sha256; d=a.example; s=mail; h=from; bh=AAAA; b=AAAA"},
                {"ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=relay.example; s=arc; b=AAAA"},
                {"ARC-Message-Signature", "i=1; a=rsa-sha256; d=relay.example; s=arc; h=from; bh=AAAA; b=AAAA"},
                {"ARC-Authentication-Results", "i=1; relay.example; spf=pass"}};
        for (String[] f : ignored) {
            v("coverage-ignored-" + f[0].toLowerCase(Locale.ROOT) + "-added", "A " + f[0] + " field (ignore set) added on top in transit.")
                    .transit(m -> f[0] + ": " + f[1] + "\r\n" + m).expect("pass", "verified");
        }
        v("coverage-third-instance-added", "The message had two X-Tag fields (h= lists x-tag twice); a third is added: unsigned-header.")
                .message(withFields("X-Tag: one\r\nX-Tag: two\r\n"))
                .transit(m -> m.replace("MIME-Version:", "X-Tag: three\r\nMIME-Version:")).expect("fail", "unsigned-header");
        v("coverage-other-signature-name-added", "Verifier configured with header name X-Partner-HMAC; an X-Auth-HMAC field is added: only "
                + "the configured name is in the ignore set.")
                .signer(FIRST_SIGNER.withHeaderName("X-Partner-HMAC")).setting("headerName", "X-Partner-HMAC")
                .transit(m -> m.replace("MIME-Version:", "X-Auth-HMAC: v=1; d=evil.example\r\nMIME-Version:"))
                .expect("fail", "unsigned-header");

        // From alignment (PROTOCOL.md 9.2): forged where the Signer refuses, so the MAC is right
        String from = "From: Alice Example <alice@a.example>";
        String[][] mismatches = {
                {"ceo-foreign-domain", "\"CEO\" <ceo@b.example>", "the display name says CEO, the mailbox is in b.example, not d=a.example"},
                {"display-name-like-address", "ceo@a.example <mallory@evil.example>",
                        "an unquoted display name that looks like an address in d: not a mailbox the grammar reads"},
                {"address-as-display-name", "ceo@b.example <alice@a.example>",
                        "an unquoted display name that is an address: a reader that takes the first address shows ceo@b.example"},
                {"quoted-display-name-like-address", "\"ceo@a.example\" <mallory@evil.example>",
                        "a quoted display name that looks like an address in d; the mailbox is in evil.example"},
                {"group", "Board:ceo@a.example;", "group syntax"},
                {"two-mailboxes", "alice@a.example, mallory@evil.example", "two mailboxes"},
                {"comment-in-domain", "ceo@a(x).example", "a comment inside the domain (a reader that drops comments reads a.example)"},
                {"ideographic-full-stop", "alice@a\u3002example", "U+3002 between the labels (IDNA2003 reads it as a dot)"},
                {"domain-literal", "alice@[192.0.2.1]", "a domain-literal"},
                {"subdomain", "alice@mail.a.example", "a subdomain of d (alignment is exact)"}};
        for (String[] f : mismatches) {
            v("from-" + f[0], "From: " + f[1] + " (" + f[2] + "), d=a.example, signed so: from-mismatch.")
                    .message(BASE.replace(from, "From: " + f[1])).forged().expect("fail", "from-mismatch");
        }
        v("from-sharp-s", "From: alice@stra\u00dfe.example, d=strasse.example (signed so): IDNA2003 maps the label to strasse, "
                + "which does not map back to stra\u00dfe: the author domain is undefined, from-mismatch.")
                .message(BASE.replace(from, "From: alice@stra\u00dfe.example"))
                .requests(request(KID, "strasse.example", "b.example", T0)).forged().expect("fail", "from-mismatch");
        v("from-idn-std3-hyphen", "From: alice@-b\u00fccher.example, d= its A-label made without UseSTD3ASCIIRules (signed so): a label "
                + "that starts with '-' fails ToASCII under UseSTD3ASCIIRules, so the author domain is undefined.")
                .message(BASE.replace(from, "From: alice@-b\u00fccher.example"))
                .requests(request(KID, java.net.IDN.toASCII("-b\u00fccher.example"), "b.example", T0)).forged()
                .expect("fail", "from-mismatch");
        v("from-idn-unassigned", "From: alice@a\u0221b.example (U+0221, unassigned in Unicode 3.2), d= its A-label made with "
                + "AllowUnassigned (signed so): ToASCII without AllowUnassigned fails, so the author domain is undefined.")
                .message(BASE.replace(from, "From: alice@a\u0221b.example"))
                .requests(request(KID, java.net.IDN.toASCII("a\u0221b.example", java.net.IDN.ALLOW_UNASSIGNED), "b.example", T0))
                .forged().expect("fail", "from-mismatch");
        String[][] aligned = {
                {"quoted-display-name", "\"Example, Alice\" <alice@a.example>", "a quoted display name with a comma"},
                {"encoded-word-display-name", "=?UTF-8?Q?Alice_M=C3=BCller?= <alice@a.example>", "an encoded-word display name"},
                {"comment-after-address", "alice@a.example (Alice Example)", "a comment after the address"},
                {"obsolete-dot-display-name", "Alice E. Example <alice@a.example>", "a '.' in an unquoted display name"},
                {"upper-case-domain", "Alice <alice@A.EXAMPLE>", "the domain in upper case"}};
        for (String[] f : aligned) {
            v("from-" + f[0], "From: " + f[1] + " (" + f[2] + "): the author domain is a.example.")
                    .message(BASE.replace(from, "From: " + f[1])).expect("pass", "verified");
        }
        v("from-idn-a-label", "From: alice@xn--bcher-kva.example, d=xn--bcher-kva.example.")
                .message(BASE.replace(from, "From: Alice <alice@xn--bcher-kva.example>"))
                .requests(request(KID, "xn--bcher-kva.example", "b.example", T0)).expect("pass", "verified");
        v("from-idn-u-label", "From: alice@b\u00fccher.example (UTF-8, RFC 6532), d=xn--bcher-kva.example: ToASCII gives the A-label.")
                .message(BASE.replace(from, "From: Alice <alice@b\u00fccher.example>"))
                .requests(request(KID, "xn--bcher-kva.example", "b.example", T0)).expect("pass", "verified");
        v("from-mailbox-binding-exempt", "From: Mallory <mallory@evil.example>, signed for the mailbox bob@b.example (r= a mailbox): "
                + "exempt from author alignment, pass.")
                .message(BASE.replace(from, "From: Mallory <mallory@evil.example>")).requests(request("bob@b.example", T0))
                .expect("pass", "verified");

        // Order of the per-signature steps (PROTOCOL.md 9, steps 5 to 8)
        String foreign = BASE.replace(from, "From: CEO <ceo@evil.example>");
        v("order-expired-before-unsigned-header", "Accepted two periods late, with an X-Spam-Score added: the time window (step 5) decides.")
                .transit(m -> m.replace("MIME-Version:", "X-Spam-Score: 0.1\r\nMIME-Version:")).acceptedAt(T0 + 2L * P)
                .expect("fail", "expired");
        v("order-unsigned-header-before-from-mismatch", "From ceo@evil.example (signed so), and a Mail-Reply-To added: coverage (step 6) "
                + "decides before author alignment (step 7).")
                .message(foreign).forged().transit(m -> m.replace("MIME-Version:", "Mail-Reply-To: eve@evil.example\r\nMIME-Version:"))
                .expect("fail", "unsigned-header");
        v("order-from-mismatch-before-key", "From ceo@evil.example (signed so), and the verifier does not hold s=: author alignment "
                + "(step 7) decides before the key (step 9).")
                .message(foreign).forged().verifierKey("partner-b.2024-05", PRIMARY).expect("fail", "from-mismatch");
        v("order-from-mismatch-before-recipient", "From ceo@evil.example (signed so), delivered to carol@c.example, which r=b.example "
                + "does not bind: the only header's verdict is its own (steps 4 to 7 do not depend on the recipient).")
                .message(foreign).forged().recipient("carol@c.example").expect("fail", "from-mismatch");

        // The delivering server's verdict in a mailbox signature (PROTOCOL.md 10.1): sv= and pd=, read by a mailbox verifier
        SignRequest forBob = request("bob@b.example", T0);
        v("sv-pass", "Mailbox signature for bob@b.example with sv=pass; pd=a.example: the server verified a.example's partner "
                + "signature. A mailbox verifier reads sv=pass and the partner domain a.example.")
                .requests(forBob.withServerVerdict("pass", "a.example")).serverVerdict("pass", "a.example").expect("pass", "verified");
        String[][] others = {
                {"none", "the server verified no sender"},
                {"fail", "the partner signature failed and the server delivered the message marked"},
                {"permerror", "the partner signature was a permerror and the server delivered the message marked"},
                {"released", "the server held the message and an administrator sent it on"},
                {"notice", "the server wrote the message itself"}};
        for (String[] o : others) {
            v("sv-" + o[0], "Mailbox signature for bob@b.example with sv=" + o[0] + " (" + o[1] + "), no pd=: the signature passes, "
                    + "and a mailbox verifier reads sv=" + o[0] + ", no partner domain.")
                    .requests(forBob.withServerVerdict(o[0], null)).serverVerdict(o[0], null).expect("pass", "verified");
        }
        v("sv-absent-mailbox-binding", "Mailbox signature for bob@b.example without sv= (a server that predates the tag): it passes, "
                + "and a mailbox verifier reads no server verdict.")
                .requests(forBob).serverVerdict(null, null).expect("pass", "verified");
        v("sv-pass-pd-upper-case", "sv=pass; pd=A.Example (signed so): pd= is read in lower case, as d= is; the partner domain is a.example.")
                .requests(forBob).forged(f -> f.replace("; rc=1;", "; rc=1; sv=pass; pd=A.Example;"))
                .serverVerdict("pass", "a.example").expect("pass", "verified");
        v("sv-released-rewritten-to-pass", "Signed sv=released; someone later rewrites it to sv=pass; pd=a.example: the MAC covers "
                + "both tags, so bad-mac, and a mailbox verifier reads no server verdict.")
                .requests(forBob.withServerVerdict("released", null))
                .transit(m -> m.replaceFirst("; sv=released;", "; sv=pass; pd=a.example;"))
                .serverVerdict(null, null).expect("fail", "bad-mac");
        v("sv-read-from-the-signature-that-passed", "Two mailbox signatures for bob@b.example: the top one signed sv=released and "
                + "rewritten to sv=pass; pd=a.example (bad-mac), the second sv=none (passes). A mailbox verifier reads sv= from the "
                + "signature that passed: none, no partner domain.")
                .requests(forBob.withServerVerdict("released", null), forBob.withServerVerdict("none", null))
                .transit(m -> m.replaceFirst("; sv=released;", "; sv=pass; pd=a.example;"))
                .serverVerdict("none", null).expect("pass", "verified");
        String[][] malformedSv = {
                {"upper-case", "; sv=PASS; pd=a.example", "sv=PASS: the values are lower case and compared exactly"},
                {"pass-without-pd", "; sv=pass", "sv=pass without pd="},
                {"pd-without-sv", "; pd=a.example", "pd= without sv="},
                {"none-with-pd", "; sv=none; pd=a.example", "pd= with sv=none: pd= comes only with sv=pass"},
                {"unknown-value", "; sv=quarantined", "sv=quarantined, a value outside the table"},
                {"empty", "; sv=", "sv= present with an empty value: not a value of the table, and not the same as no sv="},
                {"whitespace-inside", "; sv=no ne", "sv=no ne: whitespace inside the value (a reader that drops it reads none)"},
                {"pd-whitespace-inside", "; sv=pass; pd=a.example evil.example",
                        "pd=a.example evil.example: whitespace inside the value (a reader that drops it, or takes the first word, "
                                + "reads a domain)"},
                {"pd-not-a-domain", "; sv=pass; pd=alice@a.example", "pd=alice@a.example, an address, not a domain"}};
        for (String[] m : malformedSv) {
            v("sv-" + m[0], "Mailbox signature for bob@b.example with " + m[2] + " (signed so, MAC right): permerror/malformed, "
                    + "and a mailbox verifier reads no server verdict.")
                    .requests(forBob).forged(f -> f.replace("; rc=1;", "; rc=1" + m[1] + ";"))
                    .serverVerdict(null, null).expect("permerror", "malformed");
        }
        v("sv-on-domain-binding", "A domain-bound signature (r=b.example) carrying sv=pass; pd=a.example (signed so, MAC right): sv= "
                + "belongs to mailbox-bound signatures only, so permerror/malformed, and a mailbox verifier reads no server verdict.")
                .forged(f -> f.replace("; rc=1;", "; rc=1; sv=pass; pd=a.example;"))
                .serverVerdict(null, null).expect("permerror", "malformed");
    }

    private static String unknownTags(int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            s.append(String.format(Locale.ROOT, "; x%02d=%d", i, i));
        }
        return s.toString();
    }

    /** The field with the 2 unused bits of the last base64 character of the tag value after {@code tag} set. */
    private static String withUnusedBits(String field, String tag) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int at = tag.equals("b=") ? field.lastIndexOf("; b=") + 4 : field.indexOf(tag) + tag.length();
        int last = at + 42;
        int value = alphabet.indexOf(field.charAt(last));
        assertThat(value & 3).isZero();
        return field.substring(0, last) + alphabet.charAt(value | 1) + field.substring(last + 1);
    }
}
