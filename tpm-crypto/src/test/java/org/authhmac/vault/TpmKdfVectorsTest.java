package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.protocol.KdfContext;
import org.authhmac.testing.MutableClock;
import org.authhmac.testing.tpm.Swtpm;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TPM computes the protocol's published KDF vectors (docs/test-vectors/vectors.json, "kdf") and key fingerprints
 * ("fingerprint") byte for byte.
 */
class TpmKdfVectorsTest {
    private static final Path VECTORS = Path.of("..", "docs", "test-vectors", "vectors.json");

    record KdfVector(String primaryHex, String keyId, String domain, int periodSeconds, long period, String periodKeyHex) {
    }

    @TempDir
    Path dir;

    @Test
    void tpmDerivesEveryPublishedKdfVector() throws Exception {
        Assumptions.assumeTrue(Files.exists(VECTORS), "vectors.json not found next to this module");
        List<KdfVector> vectors = read(Files.readString(VECTORS));
        assertThat(vectors).isNotEmpty();

        try (Swtpm swtpm = Swtpm.start()) {
            Map<String, List<KdfVector>> byKey = new LinkedHashMap<>();
            for (KdfVector v : vectors) {
                byKey.computeIfAbsent(v.keyId() + "|" + v.primaryHex(), k -> new ArrayList<>()).add(v);
            }
            int vault = 0;
            for (List<KdfVector> group : byKey.values()) {
                Path vaultDir = Files.createDirectories(dir.resolve("vault" + vault++));
                try (DefaultKeyVault v = TestVaults.open(TestVaults.tpm(swtpm), vaultDir, new MutableClock(Instant.EPOCH))) {
                    v.importKey(group.get(0).keyId(), "vectors", HexFormat.of().parseHex(group.get(0).primaryHex()), KeyStatus.PRIMARY);
                    for (KdfVector k : group) {
                        KdfContext ctx = new KdfContext(k.keyId(), k.domain(), k.periodSeconds(), k.period());
                        assertThat(HexFormat.of().formatHex(v.periodKey(ctx).exportBytesForTestVectors()))
                                .as("K_p for %s", k).isEqualTo(k.periodKeyHex());
                    }
                }
            }
        }
    }

    @Test
    void tpmGivesEveryPublishedKeyFingerprint() throws Exception {
        Assumptions.assumeTrue(Files.exists(VECTORS), "vectors.json not found next to this module");
        List<String> vectors = objects(Files.readString(VECTORS), "fingerprint");
        assertThat(vectors).isNotEmpty();

        try (Swtpm swtpm = Swtpm.start();
             DefaultKeyVault v = TestVaults.open(TestVaults.tpm(swtpm), dir, new MutableClock(Instant.EPOCH))) {
            int n = 0;
            for (String f : vectors) {
                String keyId = "f" + n++;
                v.importKey(keyId, "vectors", HexFormat.of().parseHex(str(f, "primaryHex")), KeyStatus.ACTIVE);

                assertThat(v.fingerprint(keyId).hex()).as("fingerprint of %s", str(f, "primaryHex")).isEqualTo(str(f, "fingerprintHex"));
                assertThat(v.fingerprint(keyId).grouped()).isEqualTo(str(f, "shown"));
            }
        }
    }

    /** Just enough JSON for the flat objects of the "kdf" array. */
    static List<KdfVector> read(String json) {
        List<KdfVector> out = new ArrayList<>();
        for (String o : objects(json, "kdf")) {
            out.add(new KdfVector(str(o, "primaryHex"), str(o, "keyId"), str(o, "domain"),
                    Integer.parseInt(num(o, "periodSeconds")), Long.parseLong(num(o, "period")), str(o, "periodKeyHex")));
        }
        return out;
    }

    /** The flat objects of one top-level array. */
    private static List<String> objects(String json, String name) {
        int start = json.indexOf("\"" + name + "\"");
        assertThat(start).as(name + " in vectors.json").isNotNegative();
        String array = json.substring(json.indexOf('[', start), json.indexOf(']', start) + 1);
        List<String> out = new ArrayList<>();
        Matcher object = Pattern.compile("\\{([^}]*)}").matcher(array);
        while (object.find()) {
            out.add(object.group(1));
        }
        return out;
    }

    private static String str(String object, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(object);
        assertThat(m.find()).as(name).isTrue();
        return m.group(1);
    }

    private static String num(String object, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*(\\d+)").matcher(object);
        assertThat(m.find()).as(name).isTrue();
        return m.group(1);
    }
}
