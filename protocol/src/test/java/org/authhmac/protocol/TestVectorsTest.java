package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.authhmac.protocol.client.MailboxKey;
import org.authhmac.protocol.client.MailboxVerdict;
import org.authhmac.protocol.client.MailboxVerifier;
import org.authhmac.protocol.client.ServerVerdict;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays the committed docs/test-vectors/ files: nothing here comes from the generator, so any change in
 * behaviour (canonicalization, MAC input, KDF, verification order) fails a vector.
 */
class TestVectorsTest {
    static final Path DIR = Path.of("..", "docs", "test-vectors");
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode root() throws Exception {
        return JSON.readTree(DIR.resolve("vectors.json").toFile());
    }

    @TestFactory
    Stream<DynamicTest> everyVectorGivesItsExpectedResultAndReason() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode v : root().get("vectors")) {
            tests.add(DynamicTest.dynamicTest(v.get("id").asText(), () -> {
                byte[] eml = Files.readAllBytes(DIR.resolve(v.get("file").asText()));

                Map<String, Verdict> verdicts = runAll(v, eml, false);

                for (String[] e : expectations(v)) {
                    Verdict verdict = verdicts.get(e[0]);
                    assertThat(verdict.result().token() + "/" + verdict.reason().token())
                            .as(v.get("description").asText() + " for " + e[0] + " (" + verdict.detail() + ")")
                            .isEqualTo(e[1] + "/" + e[2]);
                }
                // The in-place path (what the matcher uses) gives the very same verdicts, the message in the middle
                // of a larger array.
                assertThat(runAll(v, eml, true)).as("verified from an array").isEqualTo(verdicts);
            }));
        }
        return tests.stream();
    }

    /** Recipient, result, reason: one per recipient of the vector's verification, in order. */
    static List<String[]> expectations(JsonNode v) {
        List<String[]> out = new ArrayList<>();
        if (v.has("recipients")) {
            for (JsonNode r : v.get("recipients")) {
                out.add(new String[] {r.get("recipient").asText(), r.get("expected").get("result").asText(),
                        r.get("expected").get("reason").asText()});
            }
        } else {
            out.add(new String[] {v.get("recipient").asText(), v.get("expected").get("result").asText(),
                    v.get("expected").get("reason").asText()});
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> passingVectorsMatchTheirIntermediateValues() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode v : root().get("vectors")) {
            JsonNode i = v.get("intermediate");
            if (i == null) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(v.get("id").asText(), () -> {
                byte[] eml = Files.readAllBytes(DIR.resolve(v.get("file").asText()));
                String headerName = setting(v, "headerName") != null ? setting(v, "headerName").asText() : "X-Auth-HMAC";
                RawMessage msg = RawMessage.read(new ByteArrayInputStream(eml), 1 << 20);
                HeaderField sig = msg.fields().stream().filter(f -> f.name().equalsIgnoreCase(headerName))
                        .toList().get(i.get("signatureIndex").asInt());
                SignatureHeader h = HeaderVersions.parse(SignatureHeader.tagList(sig), HeaderVersions.DEFAULT_ACCEPTED);
                byte[] primary = null;
                for (JsonNode k : v.get("keys")) {
                    if (k.get("keyId").asText().equals(h.keyId())) {
                        primary = HexFormat.of().parseHex(k.get("primaryHex").asText());
                    }
                }

                assertThat(h.period()).isEqualTo(i.get("period").asLong());
                assertThat(HexFormat.of().formatHex(Kdf.derive(primary, h.kdfContext()))).isEqualTo(i.get("periodKeyHex").asText());
                assertThat(Base64.getEncoder().encodeToString(BodyHash.of(h.bodyCanonicalization(),
                        RawMessage.read(new ByteArrayInputStream(eml), 1 << 20).body()))).isEqualTo(i.get("bodyHash").asText());
                byte[] input = MacInput.build(msg.fields(), h.signedHeaders(), h.headerCanonicalization(), Verifier.withEmptyB(sig));
                assertThat(HexFormat.of().formatHex(input)).isEqualTo(i.get("macInputHex").asText());
                assertThat(new String(input, StandardCharsets.ISO_8859_1)).isEqualTo(i.get("macInput").asText());
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> mailboxVectorsGiveTheServerVerdictAMailboxVerifierReads() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode v : root().get("vectors")) {
            if (v.has("expected") && v.get("expected").has("serverVerdict")) {
                tests.add(DynamicTest.dynamicTest(v.get("id").asText(), () ->
                        assertMailboxVerifierReads(v, Files.readAllBytes(DIR.resolve(v.get("file").asText())))));
            }
        }
        assertThat(tests).as("vectors that state a server verdict").isNotEmpty();
        return tests.stream();
    }

    @Test
    void everyServerVerdictAndItsAbsenceHaveAVector() throws Exception {
        Set<String> read = new HashSet<>();
        for (JsonNode v : root().get("vectors")) {
            JsonNode e = v.get("expected");
            if (e != null && e.has("serverVerdict")) {
                read.add(e.get("serverVerdict").isNull() ? "(none)" : e.get("serverVerdict").asText());
            }
        }

        List<String> all = new ArrayList<>(Stream.of(ServerVerdict.values()).map(ServerVerdict::token).toList());
        all.add("(none)");
        assertThat(read).containsExactlyInAnyOrderElementsOf(all);
    }

    /**
     * Checks a vector that states what a mailbox verifier reads (expected.serverVerdict and expected.partnerDomain,
     * PROTOCOL.md 10.1 and 12) through the client API: a {@link MailboxVerifier} holding the vector's one key for the
     * mailbox {@code recipient}, the message delivered at acceptedAt. The signature verdict, sv= and pd= must be the
     * expected ones (null: the verifier reads none).
     */
    static void assertMailboxVerifierReads(JsonNode v, byte[] eml) {
        assertThat(v.has("recipient") && v.get("recipient").asText().contains("@")).as("one mailbox recipient").isTrue();
        assertThat(v.get("keys").size()).as("one key").isEqualTo(1);
        assertThat(v.has("settings") || v.get("replayCache").get("entries").size() > 0
                || !v.get("keySource").asText().equals("available")).as("default settings, empty memory, key available").isFalse();
        JsonNode key = v.get("keys").get(0);
        MailboxVerifier client = new MailboxVerifier(MailboxKey.of(v.get("recipient").asText(), key.get("keyId").asText(),
                HexFormat.of().parseHex(key.get("primaryHex").asText())));
        JsonNode expected = v.get("expected");

        MailboxVerdict read = client.verify(eml, Instant.ofEpochSecond(v.get("acceptedAt").asLong()));

        assertThat(read.signature().result().token() + "/" + read.signature().reason().token())
                .as(v.get("id").asText() + ": the mailbox signature (" + read.signature().detail() + ")")
                .isEqualTo(expected.get("result").asText() + "/" + expected.get("reason").asText());
        assertThat(read.serverVerdict().map(ServerVerdict::token).orElse(null)).as(v.get("id").asText() + ": sv=")
                .isEqualTo(expected.get("serverVerdict").isNull() ? null : expected.get("serverVerdict").asText());
        assertThat(read.partnerDomain().orElse(null)).as(v.get("id").asText() + ": pd=")
                .isEqualTo(expected.get("partnerDomain").isNull() ? null : expected.get("partnerDomain").asText());
    }

    @TestFactory
    Stream<DynamicTest> everyKdfVectorDerivesItsPeriodKey() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        int n = 0;
        for (JsonNode k : root().get("kdf")) {
            tests.add(DynamicTest.dynamicTest("kdf-" + (n++) + " " + k.get("keyId").asText() + "/" + k.get("domain").asText(), () -> {
                KdfContext ctx = new KdfContext(k.get("keyId").asText(), k.get("domain").asText(),
                        k.get("periodSeconds").asInt(), k.get("period").asLong());
                byte[] primary = HexFormat.of().parseHex(k.get("primaryHex").asText());

                assertThat(HexFormat.of().formatHex(Kdf.fixedInput(ctx))).isEqualTo(k.get("fixedInputHex").asText());
                assertThat(HexFormat.of().formatHex(Kdf.derive(primary, ctx))).isEqualTo(k.get("periodKeyHex").asText());
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> everyFingerprintVectorGivesItsFingerprint() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        int n = 0;
        for (JsonNode f : root().get("fingerprint")) {
            tests.add(DynamicTest.dynamicTest("fingerprint-" + (n++), () -> {
                byte[] primary = HexFormat.of().parseHex(f.get("primaryHex").asText());

                assertThat(HexFormat.of().formatHex(KeyFingerprint.input())).isEqualTo(f.get("inputHex").asText());
                assertThat(KeyFingerprint.of(primary).hex()).isEqualTo(f.get("fingerprintHex").asText());
                assertThat(KeyFingerprint.of(primary).grouped()).isEqualTo(f.get("shown").asText());
            }));
        }
        return tests.stream();
    }

    @Test
    void coversEveryReasonWithAtLeastThirtyVectorsAndNoStrayFiles() throws Exception {
        JsonNode root = root();
        Set<String> reasons = new HashSet<>();
        Set<String> files = new HashSet<>();
        for (JsonNode v : root.get("vectors")) {
            for (String[] e : expectations(v)) {
                reasons.add(e[2]);
            }
            files.add(v.get("file").asText());
        }
        Set<String> onDisk = new HashSet<>();
        try (var list = Files.list(DIR)) {
            list.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".eml")).forEach(onDisk::add);
        }

        assertThat(root.get("vectors").size()).isGreaterThanOrEqualTo(30);
        assertThat(root.get("kdf").size()).isGreaterThanOrEqualTo(3);
        assertThat(root.get("fingerprint").size()).isGreaterThanOrEqualTo(2);
        assertThat(reasons).containsAll(Stream.of(Reason.values()).map(Reason::token).toList());
        assertThat(onDisk).isEqualTo(files);
    }

    /** Builds the verifier a vector describes and verifies the message bytes for its single recipient. */
    static Verdict run(JsonNode v, byte[] eml) throws Exception {
        String recipient = v.get("recipient").asText();
        return runAll(v, eml, false).get(recipient);
    }

    /**
     * The verdicts of one verification for every recipient of the vector ({@code recipient}, or {@code recipients} in
     * order). With {@code inPlace}, through {@code verify(byte[], off, len, ...)} on a copy of the message at offset 7.
     */
    static Map<String, Verdict> runAll(JsonNode v, byte[] eml, boolean inPlace) throws Exception {
        VerifierSettings settings = VerifierSettings.defaults();
        if (setting(v, "headerName") != null) {
            settings = settings.withHeaderName(setting(v, "headerName").asText());
        }
        if (setting(v, "previousPeriods") != null) {
            settings = settings.withPreviousPeriods(setting(v, "previousPeriods").asInt());
        }
        if (setting(v, "maxFutureSkewSeconds") != null) {
            settings = settings.withMaxFutureSkew(Duration.ofSeconds(setting(v, "maxFutureSkewSeconds").asLong()));
        }
        if (setting(v, "maxAgeSeconds") != null) {
            settings = settings.withMaxAge(Duration.ofSeconds(setting(v, "maxAgeSeconds").asLong()));
        }
        if (setting(v, "maxHeaders") != null) {
            settings = settings.withMaxHeaders(setting(v, "maxHeaders").asInt());
        }
        if (setting(v, "maxHeaderBytes") != null) {
            settings = settings.withMaxHeaderBytes(setting(v, "maxHeaderBytes").asInt());
        }
        if (setting(v, "periodSeconds") != null) {
            settings = settings.withPeriodSeconds(setting(v, "periodSeconds").asInt());
        }
        if (setting(v, "replayScope") != null) {
            settings = settings.withReplayScope(ReplayScope.valueOf(setting(v, "replayScope").asText().toUpperCase()));
        }
        if (setting(v, "subAddressSeparator") != null) {
            settings = settings.withSubAddressSeparator(setting(v, "subAddressSeparator").asText());
        }
        boolean allDown = v.get("keySource").asText().equals("unavailable");
        Map<String, byte[]> primaries = new HashMap<>();
        Map<String, Boolean> down = new HashMap<>();
        Map<String, Set<String>> domains = new HashMap<>();
        for (JsonNode k : v.get("keys")) {
            String id = k.get("keyId").asText();
            primaries.put(id, HexFormat.of().parseHex(k.get("primaryHex").asText()));
            down.put(id, k.has("source") ? k.get("source").asText().equals("unavailable") : allDown);
            if (k.has("domains")) {
                Set<String> d = new HashSet<>();
                k.get("domains").forEach(x -> d.add(x.asText()));
                domains.put(id, d);
            }
        }
        StaticPeriodKeys derive = StaticPeriodKeys.of(primaries);
        // The keyset is known even while the key source is down: an unknown key id, or one not allowed for d=, is
        // unknown-key, never key-unavailable.
        PeriodKeys keys = ctx -> {
            if (!primaries.containsKey(ctx.keyId())) {
                throw new UnknownKeyException("no key id " + ctx.keyId() + " (test vector)");
            }
            if (domains.containsKey(ctx.keyId()) && !domains.get(ctx.keyId()).contains(ctx.domain())) {
                throw new UnknownKeyException("key id " + ctx.keyId() + " may not sign for " + ctx.domain() + " (test vector)");
            }
            if (down.get(ctx.keyId())) {
                throw new KeyUnavailableException("key source down (test vector)");
            }
            return derive.periodKey(ctx);
        };
        Instant acceptedAt = Instant.ofEpochSecond(v.get("acceptedAt").asLong());
        JsonNode replay = v.get("replayCache");
        int capacity = replay.get("capacity").asInt();
        int domainCapacity = replay.has("domainCapacity") ? replay.get("domainCapacity").asInt() : capacity;
        InMemoryReplayCache cache = new InMemoryReplayCache(capacity, domainCapacity, Duration.ZERO,
                Clock.fixed(acceptedAt, ZoneOffset.UTC));
        for (JsonNode e : replay.get("entries")) {
            // An entry the vector lists is already recorded, whatever the signature's rc= allows.
            cache.record(new ReplayCache.SignatureId(e.get("domain").asText(), e.get("keyId").asText(), e.get("nonce").asText()),
                    e.get("recipient").asText(), SignatureHeader.MAX_RECIPIENT_COUNT, acceptedAt.plus(Duration.ofDays(1)));
        }
        Verifier verifier = new Verifier(settings, keys, cache);
        List<String> recipients = expectations(v).stream().map(e -> e[0]).toList();
        if (inPlace) {
            byte[] padded = new byte[eml.length + 14];
            java.util.Arrays.fill(padded, (byte) '\n');
            System.arraycopy(eml, 0, padded, 7, eml.length);
            return verifier.verify(padded, 7, eml.length, acceptedAt, recipients);
        }
        return verifier.verify(new ByteArrayInputStream(eml), acceptedAt, recipients);
    }

    private static JsonNode setting(JsonNode v, String name) {
        JsonNode s = v.get("settings");
        return s == null ? null : s.get(name);
    }
}
