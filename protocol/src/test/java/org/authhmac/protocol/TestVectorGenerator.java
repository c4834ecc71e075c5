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
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes docs/test-vectors/ (vectors.json and one .eml per vector). Run only on purpose:
 * {@code scripts/mvn -q -B -o -pl protocol test -Dtest=TestVectorGenerator -Dauthhmac.regenerateVectors=true -Dsurefire.failIfNoSpecifiedTests=false}.
 * Each vector states the result its author expects; generation stops if the implementation disagrees.
 * {@link TestVectorsTest} then replays the committed files without this class.
 */
@EnabledIfSystemProperty(named = "authhmac.regenerateVectors", matches = "true")
class TestVectorGenerator {
    static final Path DIR = Path.of("..", "docs", "test-vectors");
    static final byte[] PRIMARY = HexFormat.of().parseHex("8f2a5c1e9b7d3f6a0c4e8b2d7f1a3c5e9d0b6f8a2c4e7d1b3f5a9c0e2d4b6f81");
    static final byte[] OTHER_PRIMARY = HexFormat.of().parseHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    static final String KID = "partner-b.2025-11";
    static final int P = 900;
    /** 1763776800 = 1959752 * 900: the first second of a period. */
    static final long T0 = 1_763_776_800L;
    static final String NONCE = "Vb3kq9x0TtyZ2mQ8pL1aUw";
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
        String keysId = KID;
        byte[] verifierPrimary = PRIMARY;
        boolean keysUnavailable;
        ObjectNode settings = json.createObjectNode();
        int replayCapacity = 1000;
        List<Held> replayEntries = new ArrayList<>();
        boolean unsigned;
        String result;
        String reason;

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
        V verifierKey(String id, byte[] primary) { keysId = id; verifierPrimary = primary; return this; }
        V keysUnavailable() { keysUnavailable = true; return this; }
        V setting(String name, Object value) { settings.putPOJO(name, value); return this; }
        V replay(int capacity, Held... entries) { replayCapacity = capacity; replayEntries = List.of(entries); return this; }
        V unsigned() { unsigned = true; return this; }
        V expect(String result, String reason) { this.result = result; this.reason = reason; vectors.add(this); return this; }
    }

    /** A replay cache entry a vector starts with: the signature (d, s, n) already passed for the replay id {@code recipient}. */
    record Held(String domain, String keyId, String nonce, String recipient) {
    }

    private final List<V> vectors = new ArrayList<>();

    static SignRequest request(String recipient, long t) {
        return new SignRequest(KID, "a.example", recipient, Instant.ofEpochSecond(t)).withFixedNonce(NONCE);
    }

    V v(String id, String description) {
        return new V(id, description);
    }

    @Test
    void generate() throws Exception {
        define();
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
                + "acceptedAt for the envelope recipient, and compare result and reason. 'keySource: unavailable' means the "
                + "key source cannot answer (for example the TPM is down).");
        ObjectNode defaults = root.putObject("defaults");
        defaults.put("headerName", "X-Auth-HMAC");
        defaults.put("previousPeriods", 1);
        defaults.put("maxFutureSkewSeconds", 300);
        defaults.putNull("maxAgeSeconds");
        defaults.put("maxHeaders", 5);
        defaults.put("replayScope", "recipient");
        defaults.put("subAddressSeparator", "+");
        defaults.put("periodSeconds", 900);
        root.set("kdf", kdfVectors());
        ArrayNode out = root.putArray("vectors");
        for (V v : vectors) {
            out.add(write(v));
        }
        Files.writeString(DIR.resolve("vectors.json"), json.writeValueAsString(root) + "\n");
    }

    private ObjectNode write(V v) throws Exception {
        String signed = v.message;
        if (!v.unsigned) {
            List<String> lines = new Signer(v.signer).sign(new ByteArrayInputStream(v.message.getBytes(StandardCharsets.UTF_8)),
                    v.requests, StaticPeriodKeys.of(KID, PRIMARY));
            signed = String.join("\r\n", lines) + "\r\n" + v.message;
        }
        byte[] eml = v.transit.apply(signed).getBytes(StandardCharsets.UTF_8);
        Files.write(DIR.resolve(v.id + ".eml"), eml);

        ObjectNode n = json.createObjectNode();
        n.put("id", v.id);
        n.put("description", v.description);
        n.put("file", v.id + ".eml");
        ArrayNode keys = n.putArray("keys");
        ObjectNode key = keys.addObject();
        key.put("keyId", v.keysId);
        key.put("primaryHex", HexFormat.of().formatHex(v.verifierPrimary));
        n.put("keySource", v.keysUnavailable ? "unavailable" : "available");
        n.put("acceptedAt", v.acceptedAt);
        n.put("acceptedAtIso", Instant.ofEpochSecond(v.acceptedAt).toString());
        n.put("recipient", v.recipient);
        if (!v.settings.isEmpty()) {
            n.set("settings", v.settings);
        }
        ObjectNode replay = n.putObject("replayCache");
        replay.put("capacity", v.replayCapacity);
        ArrayNode entries = replay.putArray("entries");
        for (Held e : v.replayEntries) {
            ObjectNode en = entries.addObject();
            en.put("domain", e.domain());
            en.put("keyId", e.keyId());
            en.put("nonce", e.nonce());
            en.put("recipient", e.recipient());
        }
        ObjectNode expected = n.putObject("expected");
        expected.put("result", v.result);
        expected.put("reason", v.reason);
        Verdict actual = TestVectorsTest.run(n, eml);
        assertThat(actual.result().token() + "/" + actual.reason().token())
                .as(v.id + ": " + actual.detail())
                .isEqualTo(v.result + "/" + v.reason);
        if (actual instanceof Verdict.Pass pass) {
            n.set("intermediate", intermediate(eml, v, pass.header()));
        }
        return n;
    }

    /** Values an implementer can compare step by step: period, K_p, body hash, and the exact MAC input. */
    private ObjectNode intermediate(byte[] eml, V v, SignatureHeader passed) throws Exception {
        RawMessage msg = RawMessage.read(new ByteArrayInputStream(eml), 1 << 20);
        String headerName = v.settings.has("headerName") ? v.settings.get("headerName").asText() : "X-Auth-HMAC";
        List<HeaderField> sigs = msg.fields().stream().filter(f -> f.name().equalsIgnoreCase(headerName)).toList();
        int index = -1;
        for (int k = 0; k < sigs.size() && index < 0; k++) {
            try {
                if (SignatureHeader.parse(sigs.get(k).value()).equals(passed)) {
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
        i.put("periodKeyHex", HexFormat.of().formatHex(Kdf.derive(PRIMARY, h.kdfContext())));
        i.put("bodyHash", Base64.getEncoder().encodeToString(
                BodyHash.of(h.bodyCanonicalization(), RawMessage.read(new ByteArrayInputStream(eml), 1 << 20).body())));
        byte[] input = MacInput.build(msg.fields(), h.signedHeaders(), h.headerCanonicalization(), Verifier.withEmptyB(sig));
        i.put("macInput", new String(input, StandardCharsets.ISO_8859_1));
        i.put("macInputHex", HexFormat.of().formatHex(input));
        return i;
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

    private static String body(String message) {
        return message.substring(message.indexOf("\r\n\r\n") + 4);
    }

    private void define() {
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
        v("header-name-configured", "Signer and verifier configured with header name X-Partner-HMAC.")
                .signer(FIRST_SIGNER.withHeaderName("X-Partner-HMAC")).setting("headerName", "X-Partner-HMAC")
                .expect("pass", "verified");
        v("header-name-other", "Signed with X-Partner-HMAC; the verifier looks for X-Auth-HMAC and finds none.")
                .signer(FIRST_SIGNER.withHeaderName("X-Partner-HMAC")).expect("none", "no-signature");
        v("period-3600", "Signer and verifier configured with p=3600; accepted 5000 s later (previous period).")
                .signer(FIRST_SIGNER.withPeriodSeconds(3600)).setting("periodSeconds", 3600).signedAt(1_763_773_200L)
                .acceptedAt(1_763_773_200L + 5000).expect("pass", "verified");
    }
}
