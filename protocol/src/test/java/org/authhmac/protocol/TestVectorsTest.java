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

                Verdict verdict = run(v, eml);

                assertThat(verdict.result().token() + "/" + verdict.reason().token())
                        .as(v.get("description").asText() + " (" + verdict.detail() + ")")
                        .isEqualTo(v.get("expected").get("result").asText() + "/" + v.get("expected").get("reason").asText());
                // The in-place path (what the matcher uses) gives the very same verdict, the message in the middle
                // of a larger array.
                assertThat(run(v, eml, true)).as("verified from an array").isEqualTo(verdict);
            }));
        }
        return tests.stream();
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
                SignatureHeader h = SignatureHeader.parse(sig.value());
                byte[] primary = HexFormat.of().parseHex(v.get("keys").get(0).get("primaryHex").asText());

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

    @Test
    void coversEveryReasonWithAtLeastThirtyVectorsAndNoStrayFiles() throws Exception {
        JsonNode root = root();
        Set<String> reasons = new HashSet<>();
        Set<String> files = new HashSet<>();
        for (JsonNode v : root.get("vectors")) {
            reasons.add(v.get("expected").get("reason").asText());
            files.add(v.get("file").asText());
        }
        Set<String> onDisk = new HashSet<>();
        try (var list = Files.list(DIR)) {
            list.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".eml")).forEach(onDisk::add);
        }

        assertThat(root.get("vectors").size()).isGreaterThanOrEqualTo(30);
        assertThat(root.get("kdf").size()).isGreaterThanOrEqualTo(3);
        assertThat(reasons).containsAll(Stream.of(Reason.values()).map(Reason::token).toList());
        assertThat(onDisk).isEqualTo(files);
    }

    /** Builds the verifier a vector describes and verifies the message bytes. */
    static Verdict run(JsonNode v, byte[] eml) throws Exception {
        return run(v, eml, false);
    }

    /** With {@code inPlace}, through {@code verify(byte[], off, len, ...)} on a copy of the message at offset 7. */
    static Verdict run(JsonNode v, byte[] eml, boolean inPlace) throws Exception {
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
        if (setting(v, "periodSeconds") != null) {
            settings = settings.withPeriodSeconds(setting(v, "periodSeconds").asInt());
        }
        if (setting(v, "replayScope") != null) {
            settings = settings.withReplayScope(ReplayScope.valueOf(setting(v, "replayScope").asText().toUpperCase()));
        }
        if (setting(v, "subAddressSeparator") != null) {
            settings = settings.withSubAddressSeparator(setting(v, "subAddressSeparator").asText());
        }
        Map<String, byte[]> primaries = new HashMap<>();
        for (JsonNode k : v.get("keys")) {
            primaries.put(k.get("keyId").asText(), HexFormat.of().parseHex(k.get("primaryHex").asText()));
        }
        // A key source that is down still knows its keyset: an unknown key id is unknown-key, not key-unavailable.
        PeriodKeys keys = v.get("keySource").asText().equals("unavailable")
                ? ctx -> {
                    if (!primaries.containsKey(ctx.keyId())) {
                        throw new UnknownKeyException("no key id " + ctx.keyId() + " (test vector)");
                    }
                    throw new KeyUnavailableException("key source down (test vector)");
                }
                : StaticPeriodKeys.of(primaries);
        Instant acceptedAt = Instant.ofEpochSecond(v.get("acceptedAt").asLong());
        JsonNode replay = v.get("replayCache");
        InMemoryReplayCache cache = new InMemoryReplayCache(replay.get("capacity").asInt(), Duration.ZERO,
                Clock.fixed(acceptedAt, ZoneOffset.UTC));
        for (JsonNode e : replay.get("entries")) {
            // An entry the vector lists is already recorded, whatever the signature's rc= allows.
            cache.record(new ReplayCache.SignatureId(e.get("domain").asText(), e.get("keyId").asText(), e.get("nonce").asText()),
                    e.get("recipient").asText(), SignatureHeader.MAX_RECIPIENT_COUNT, acceptedAt.plus(Duration.ofDays(1)));
        }
        Verifier verifier = new Verifier(settings, keys, cache);
        String recipient = v.get("recipient").asText();
        if (inPlace) {
            byte[] padded = new byte[eml.length + 14];
            java.util.Arrays.fill(padded, (byte) '\n');
            System.arraycopy(eml, 0, padded, 7, eml.length);
            return verifier.verify(padded, 7, eml.length, acceptedAt, List.of(recipient)).get(recipient);
        }
        return verifier.verify(new ByteArrayInputStream(eml), acceptedAt, recipient);
    }

    private static JsonNode setting(JsonNode v, String name) {
        JsonNode s = v.get("settings");
        return s == null ? null : s.get(name);
    }
}
