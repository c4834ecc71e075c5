package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FieldCounts (one pass over the fields, names compared on the bytes, a table keyed by the seeded NameHash) answers
 * what the plain definitions answer: a map from each lower-cased name to its fields in order.
 */
class FieldCountsTest {
    private static final String SIGNATURE = "x-auth-hmac";
    /** "az" and "b[" share a String.hashCode, so names built from them collide as an attacker would make them. */
    private static final List<String> POOL = List.of("from", "to", "subject", "received", "return-path", SIGNATURE,
            "x-a", "az", "b[", "azb[", "b[az", "azaz", "b[b[", "cc", "dkim-signature", "a", "~", "x-a-",
            // eight octets (one chunk, compared by key) and nine (compared octet by octet), differing in the last one
            "x-eight1", "x-eight2", "x-nine-aa", "x-nine-ab");

    private static List<HeaderField> fields(String headers) throws Exception {
        return RawMessage.read(new ByteArrayInputStream((headers + "\r\n").getBytes(StandardCharsets.ISO_8859_1)), 1 << 24).fields();
    }

    /**
     * The fields of {@code headers} read the ways a message is read: from a stream (whose buffer grows from 4 KiB while
     * the fields are grouped) or from an array at an offset.
     */
    private static List<HeaderField> fields(String headers, Random random) throws Exception {
        byte[] message = (headers + "\r\nbody\r\n").getBytes(StandardCharsets.ISO_8859_1);
        if (random.nextBoolean()) {
            return RawMessage.read(new ByteArrayInputStream(message), 1 << 24).fields();
        }
        int off = random.nextInt(5);
        byte[] padded = new byte[off + message.length + random.nextInt(5)];
        System.arraycopy(message, 0, padded, off, message.length);
        return RawMessage.read(padded, off, message.length, 1 << 24).fields();
    }

    /** The plain definition: each lower-cased name, in the order it first occurs, with the indexes of its fields. */
    private static Map<String, List<Integer>> byName(List<HeaderField> fields) {
        Map<String, List<Integer>> byName = new LinkedHashMap<>();
        for (int i = 0; i < fields.size(); i++) {
            byName.computeIfAbsent(fields.get(i).name().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(i);
        }
        return byName;
    }

    /** docs/PROTOCOL.md 5.3 written the obvious way: the first name (in order of occurrence) h= lists too rarely. */
    private static String uncoveredByDefinition(Map<String, List<Integer>> byName, List<String> h, String signature) {
        for (Map.Entry<String, List<Integer>> e : byName.entrySet()) {
            String name = e.getKey();
            if (e.getValue().size() > Collections.frequency(h, name) && !FieldCounts.ignored(name, signature)) {
                return name;
            }
        }
        return null;
    }

    /** docs/PROTOCOL.md 5.1: the n-th mention of a name selects its n-th field counted from the bottom. */
    private static int[] pickByDefinition(Map<String, List<Integer>> byName, List<String> h) {
        int[] picked = new int[h.size()];
        Map<String, Integer> taken = new LinkedHashMap<>();
        for (int k = 0; k < h.size(); k++) {
            List<Integer> instances = byName.getOrDefault(h.get(k), List.of());
            int n = taken.merge(h.get(k), 1, Integer::sum);
            picked[k] = n <= instances.size() ? instances.get(instances.size() - n) : -1;
        }
        return picked;
    }

    private static String randomCase(String name, Random random) {
        StringBuilder out = new StringBuilder();
        for (char c : name.toCharArray()) {
            out.append(random.nextBoolean() ? Character.toUpperCase(c) : c);
        }
        return out.toString();
    }

    @Test
    @Tag("large")
    void answersWhatThePlainDefinitionsAnswerOnRandomHeaderBlocks() throws Exception {
        Random random = new Random(11);
        for (int round = 0; round < 3_000; round++) {
            // given: random fields from the pool, in random case, some with WSP before the colon, folded (with CRLF or
            // a bare LF) or long enough for the header block to outgrow a stream's first buffer
            StringBuilder block = new StringBuilder();
            int nFields = random.nextInt(20);
            for (int i = 0; i < nFields; i++) {
                block.append(randomCase(POOL.get(random.nextInt(POOL.size())), random))
                        .append(random.nextInt(5) == 0 ? " \t:" : ":").append(" v").append(i)
                        .append(random.nextInt(8) == 0 ? "w".repeat(random.nextInt(2_000)) : "")
                        .append(switch (random.nextInt(8)) {
                            case 0 -> "\r\n w";
                            case 1 -> "\n w";
                            default -> "";
                        }).append("\r\n");
            }
            List<String> h = new ArrayList<>();
            for (int k = random.nextInt(25); k > 0; k--) {
                h.add(POOL.get(random.nextInt(POOL.size())));
            }
            List<HeaderField> read = nFields == 0 ? List.of() : fields(block.toString(), random);
            Map<String, List<Integer>> expected = byName(read);
            // RawMessage's own list, and any other list of fields (read through HeaderField objects)
            for (List<HeaderField> f : List.of(read, new ArrayList<>(read))) {
                // when
                FieldCounts counts = FieldCounts.of(f);

                // then
                String as = "fields " + block + ", h=" + h;
                assertThat(counts.names()).as(as).containsExactlyElementsOf(expected.keySet());
                for (String name : POOL) {
                    List<Integer> instances = expected.getOrDefault(name, List.of());
                    assertThat(counts.count(name)).as(as).isEqualTo(instances.size());
                    assertThat(counts.first(name)).as(as).isEqualTo(instances.isEmpty() ? -1 : instances.get(0));
                    int max = random.nextInt(6);
                    assertThat(counts.topMost(name, max)).as(as)
                            .containsExactly(instances.subList(0, Math.min(max, instances.size())).stream().mapToInt(i -> i).toArray());
                }
                assertThat(counts.count("From")).as("names are asked for in lower case").isZero();
                assertThat(counts.pick(h)).as(as).containsExactly(pickByDefinition(expected, h));
                assertThat(counts.uncovered(h, SIGNATURE)).as(as).isEqualTo(uncoveredByDefinition(expected, h, SIGNATURE));
                // the same message asked again, and about another signature header name
                assertThat(counts.pick(h)).as(as).containsExactly(pickByDefinition(expected, h));
                assertThat(counts.uncovered(h, "az")).as(as).isEqualTo(uncoveredByDefinition(expected, h, "az"));
            }
        }
    }

    /** h= split the obvious way: at each ':', FWS removed around each name, lower-cased. */
    private static List<String> hByDefinition(String value) {
        List<String> names = new ArrayList<>();
        for (String name : value.split(":", -1)) {
            names.add(name.replaceAll("^[ \t\r\n]+|[ \t\r\n]+$", "").toLowerCase(Locale.ROOT));
        }
        return names;
    }

    @Test
    void findsTheNamesOfAnUpperCaseHInTheFieldsWhateverTheirCase() throws Exception {
        // given: names holding the letters at both ends of A-Z and the chars just outside it ('@' and '[')
        List<HeaderField> read = fields("from: a\r\naz: b\r\nx-@z: c\r\nb[: d\r\nX-Long-Name-AZ: e\r\n");
        FieldCounts counts = FieldCounts.of(read);

        // when
        List<String> parsed = SignedHeaderNames.parse("FROM : AZ:X-@Z: B[ :x-long-name-az");
        int[] ids = counts.find(parsed);

        // then: each written name finds its own field, and '@' and '[' are not read as the letters beside them
        assertThat(ids).containsExactly(counts.findEach(List.of("from", "az", "x-@z", "b[", "x-long-name-az")));
        assertThat(ids).doesNotContain(-1);
        assertThat(counts.find(SignedHeaderNames.parse("X-`Z:b{:FROM"))).containsExactly(-1, -1, ids[0]);
    }

    @Test
    @Tag("large")
    void looksUpTheNamesOfAParsedHOnItsCharsAsItWouldTheirStrings() throws Exception {
        Random random = new Random(13);
        String[] fws = {"", " ", "\t", "\r\n ", " \r\n\t "};
        for (int round = 0; round < 3_000; round++) {
            // given: random fields from the pool, and an h= value as a signer might write it: names from the pool (and
            // names of no field) in random case with random FWS around each ':', From among them
            StringBuilder block = new StringBuilder();
            int nFields = 1 + random.nextInt(20);
            for (int i = 0; i < nFields; i++) {
                block.append(randomCase(POOL.get(random.nextInt(POOL.size())), random)).append(": v").append(i).append("\r\n");
            }
            List<String> written = new ArrayList<>();
            for (int k = random.nextInt(25); k > 0; k--) {
                written.add(random.nextInt(6) == 0 ? "x-absent-" + "n".repeat(random.nextInt(12))
                        : POOL.get(random.nextInt(POOL.size())));
            }
            written.add(random.nextInt(written.size() + 1), "from");
            StringBuilder value = new StringBuilder();
            for (int k = 0; k < written.size(); k++) {
                value.append(k == 0 ? "" : fws[random.nextInt(fws.length)] + ":")
                        .append(fws[random.nextInt(fws.length)]).append(randomCase(written.get(k), random));
            }
            List<HeaderField> read = fields(block.toString(), random);
            Map<String, List<Integer>> expected = byName(read);
            List<String> plain = hByDefinition(value.toString());
            for (List<HeaderField> f : List.of(read, new ArrayList<>(read))) {
                FieldCounts counts = FieldCounts.of(f);

                // when
                List<String> parsed = SignedHeaderNames.parse(value.toString());

                // then
                String as = "fields " + block + ", h=" + value;
                assertThat(parsed).as(as).isInstanceOf(SignedHeaderNames.class).isEqualTo(plain);
                assertThat(counts.find(parsed)).as(as).containsExactly(counts.findEach(plain));
                assertThat(counts.pick(parsed)).as(as).containsExactly(pickByDefinition(expected, plain));
                assertThat(counts.uncovered(parsed, SIGNATURE)).as(as).isEqualTo(uncoveredByDefinition(expected, plain, SIGNATURE));
            }
        }
    }

    @Test
    void hashesANameTheSameFromTheMessageAndFromAStringInAnyCase() throws Exception {
        Random random = new Random(3);
        for (int n = 0; n < 2_000; n++) {
            StringBuilder name = new StringBuilder();
            for (int len = 1 + random.nextInt(30); len > 0; len--) {
                char c = (char) (33 + random.nextInt(94));
                name.append(c == ':' ? 'x' : c);
            }
            HeaderField field = fields(name + ": v").get(0);

            String lower = name.toString().toLowerCase(Locale.ROOT);
            assertThat(field.lowerNameHash()).as(name.toString()).isEqualTo(NameHash.of(lower));
            assertThat(HeaderField.nameKey(field.bytes(), field.start(), field.nameEnd())).as(name.toString())
                    .isEqualTo(NameHash.key(lower)).isEqualTo(lower.length() > 8 ? 0 : NameHash.key(lower));
            if (lower.length() <= 8) {
                assertThat(NameHash.key(lower)).isNotZero();
                assertThat(NameHash.end(NameHash.key(lower))).as("a one-chunk name's hash from its key").isEqualTo(NameHash.of(lower));
            }
        }
    }

    @Test
    void namesThatShareAStringHashCodeGetDistinctNameHashes() {
        // given: 2^14 distinct names of one String.hashCode
        Set<Integer> hashes = new HashSet<>();
        Set<Integer> stringHashes = new HashSet<>();
        for (int k = 0; k < 1 << 14; k++) {
            String name = collidingName(k, 14);
            stringHashes.add(name.hashCode());
            // when
            hashes.add(NameHash.of(name));
        }
        // then: about one chance in 2^32 per pair to share a value, so that all 2^27 pairs give a handful at most
        assertThat(stringHashes).hasSize(1);
        assertThat(hashes).hasSizeGreaterThan((1 << 14) - 3);
    }

    private static String collidingName(int k, int bits) {
        StringBuilder name = new StringBuilder();
        for (int bit = 0; bit < bits; bit++) {
            name.append((k >> bit & 1) == 0 ? "az" : "b[");
        }
        return name.toString();
    }

    @Test
    @Tag("large")
    @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void namesMadeToShareAStringHashCodeCostAboutOneNameComparisonEach() throws Exception {
        // given: 2^17 distinct names of one String.hashCode, each twice, in random case
        Random random = new Random(7);
        StringBuilder block = new StringBuilder();
        List<String> h = new ArrayList<>();
        for (int k = 0; k < 1 << 17; k++) {
            String name = collidingName(k, 17);
            h.add(name);
            block.append(randomCase(name, random)).append(":\r\n").append(randomCase(name, random)).append(":\r\n");
        }
        List<HeaderField> read = fields(block.toString());
        int[] comparisons = new int[1];
        FieldNames counted = new FieldNames() {
            private final FieldNames names = FieldNames.of(read);
            private final int[] above = new int[read.size()];

            @Override
            public int above(int i) {
                return above[i];
            }

            @Override
            public void above(int i, int field) {
                above[i] = field;
            }

            @Override
            public int size() {
                return names.size();
            }

            @Override
            public int lowerNameHash(int i) {
                return names.lowerNameHash(i);
            }

            @Override
            public boolean nameIs(int i, String lower) {
                comparisons[0]++;
                return names.nameIs(i, lower);
            }

            @Override
            public long nameKey(int i) {
                return names.nameKey(i);
            }

            @Override
            public boolean sameName(int i, int j) {
                comparisons[0]++;
                return names.sameName(i, j);
            }
        };

        // when
        FieldCounts counts = FieldCounts.of(read, counted);
        String uncovered = counts.uncovered(h, SIGNATURE);

        // then: one comparison per field that repeats a name and one per h= name, give or take chance collisions of
        // the seeded hash (a few hundred at most; a slot shared by colliding names is compared once per probe), far
        // from the 2^33 comparisons that names of one String.hashCode would cost a table keyed by it
        assertThat(counts.names()).hasSize(1 << 17);
        assertThat(uncovered).isEqualTo(collidingName(0, 17));
        assertThat(comparisons[0]).isLessThan((1 << 17) * 2 + (1 << 18) / 100);
    }

    /** Two names of {@code length} chars ("x-" and random letters and digits) that share a NameHash, found by trying. */
    private static String[] namesOfOneHash(int length) {
        Random random = new Random(length);
        Map<Integer, String> seen = new HashMap<>();
        while (true) {
            StringBuilder name = new StringBuilder("x-");
            while (name.length() < length) {
                name.append("abcdefghijklmnopqrstuvwxyz0123456789".charAt(random.nextInt(36)));
            }
            String other = seen.putIfAbsent(NameHash.of(name.toString()), name.toString());
            if (other != null && !other.equals(name.toString())) {
                return new String[] {other, name.toString()};
            }
        }
    }

    /**
     * The hash only finds the slot: names are told apart by their keys (up to eight octets) or octet by octet, so two
     * names that share a hash (one pair in 2^32 by chance, not by choice: the hash is seeded) stay two names.
     */
    @ParameterizedTest(name = "names of {0} chars")
    @ValueSource(ints = {8, 12})
    void namesThatShareAHashAreStillTwoNames(int length) throws Exception {
        // given: a and b of one hash, in runs (the last name is looked at first) and apart
        String[] ab = namesOfOneHash(length);
        String a = ab[0];
        String b = ab[1];
        List<HeaderField> read = fields(a + ": 0\r\n" + b.toUpperCase(Locale.ROOT) + ": 1\r\n" + b + ": 2\r\n" + a + ": 3\r\n"
                + "to: 4\r\n" + b + ": 5\r\nFrom: 6\r\n");
        assertThat(NameHash.of(a)).isEqualTo(NameHash.of(b));

        for (List<HeaderField> f : List.of(read, new ArrayList<>(read))) {
            // when
            FieldCounts counts = FieldCounts.of(f);

            // then
            assertThat(counts.names()).containsExactly(a, b, "to", "from");
            assertThat(counts.count(a)).isEqualTo(2);
            assertThat(counts.count(b)).isEqualTo(3);
            assertThat(counts.topMost(b, 3)).containsExactly(1, 2, 5);
            List<String> h = SignedHeaderNames.parse(b.toUpperCase(Locale.ROOT) + ":" + a + ":" + b + ":to:" + a + ":from");
            assertThat(counts.pick(h)).containsExactly(5, 3, 2, 4, 0, 6);
            assertThat(counts.pick(List.of(b, a, b, "to", a, "from"))).containsExactly(5, 3, 2, 4, 0, 6);
            assertThat(counts.uncovered(h, SIGNATURE)).isEqualTo(b);
            assertThat(counts.uncovered(List.of(a, a, b, b, b, "from"), SIGNATURE)).isEqualTo("to");
        }
    }

    /** PROTOCOL.md 5.3 holds for the first name as for any other: two From fields and one "from" in h= is uncovered. */
    @Test
    void theTopMostNameListedTooRarelyIsUncovered() throws Exception {
        FieldCounts counts = FieldCounts.of(fields("From: a\r\nTo: b\r\nFrom: c\r\n"));

        assertThat(counts.uncovered(List.of("from", "to"), SIGNATURE)).isEqualTo("from");
        assertThat(counts.uncovered(List.of("to", "from"), SIGNATURE)).isEqualTo("from");
        assertThat(counts.uncovered(List.of("from", "to", "from"), SIGNATURE)).isNull();
        assertThat(counts.uncovered(List.of("to"), SIGNATURE)).isEqualTo("from");
    }

    @Test
    void everyIgnoredFieldAndTheSignatureFieldMayGoUnlisted() throws Exception {
        // given: one field of each ignored name, the signature field, and From
        StringBuilder block = new StringBuilder();
        for (String name : FieldCounts.IGNORED) {
            block.append(name).append(": x\r\n");
        }
        block.append(SIGNATURE).append(": x\r\nFrom: a\r\n").append(SIGNATURE).append(": y\r\n");
        FieldCounts counts = FieldCounts.of(fields(block.toString()));

        // then: only From must be listed; another signature header name is not ignored
        assertThat(counts.uncovered(List.of("from"), SIGNATURE)).isNull();
        assertThat(counts.uncovered(List.of(), SIGNATURE)).isEqualTo("from");
        assertThat(counts.uncovered(List.of("from"), "x-other-hmac")).isEqualTo(SIGNATURE);
        assertThat(counts.uncovered(List.of("from", SIGNATURE), "x-other-hmac")).isEqualTo(SIGNATURE);
        assertThat(counts.uncovered(List.of("from"), SIGNATURE)).isNull();
    }

    @Test
    void aNameNoFieldCarriesHasNoFields() throws Exception {
        FieldCounts counts = FieldCounts.of(new ArrayList<>(fields("From: a\r\n")));

        assertThat(counts.count("to")).isZero();
        assertThat(counts.first("to")).isEqualTo(-1);
        assertThat(counts.topMost("to", 3)).isEmpty();
        assertThat(counts.pick(List.of("to", "from", "from"))).containsExactly(-1, 0, -1);
    }

    /** The table of names grows with them, a slot per name and as many free (a header block of many names). */
    @Test
    void countsAThousandDistinctNames() throws Exception {
        StringBuilder block = new StringBuilder();
        List<String> h = new ArrayList<>();
        for (int k = 0; k < 1000; k++) {
            block.append("x-name-").append(k).append(": v\r\n");
            h.add("x-name-" + k);
        }

        FieldCounts counts = FieldCounts.of(fields(block.toString()));

        assertThat(counts.names()).containsExactlyElementsOf(h);
        assertThat(counts.count("x-name-999")).isEqualTo(1);
        assertThat(counts.uncovered(h, SIGNATURE)).isNull();
        assertThat(counts.uncovered(h.subList(1, 1000), SIGNATURE)).isEqualTo("x-name-0");
    }
}
