package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class MacInputTest {
    private static List<HeaderField> fields(String headers) throws Exception {
        return RawMessage.read(new ByteArrayInputStream((headers + "\r\n").getBytes(StandardCharsets.ISO_8859_1)), 4096).fields();
    }

    private static String input(List<HeaderField> fields, List<String> h, Canonicalization c, String sig) {
        return new String(MacInput.build(fields, h, c, sig), StandardCharsets.ISO_8859_1);
    }

    @Test
    void picksRepeatedHeadersBottomUp() throws Exception {
        List<HeaderField> f = fields("Received: one\r\nReceived: two\r\nFrom: a@a.example\r\n");

        String in = input(f, List.of("received", "from", "received"), Canonicalization.RELAXED, "X-Auth-HMAC: b=");

        assertThat(in).isEqualTo("received:two\r\nfrom:a@a.example\r\nreceived:one\r\nx-auth-hmac:b=");
    }

    @Test
    void extraMentionsOfANameContributeNothing() throws Exception {
        List<HeaderField> f = fields("From: a@a.example\r\n");

        String in = input(f, List.of("from", "from", "cc"), Canonicalization.RELAXED, "X-Auth-HMAC: b=");

        assertThat(in).isEqualTo("from:a@a.example\r\nx-auth-hmac:b=");
    }

    @Test
    void simpleCanonicalizationKeepsFieldsAsTheyAre() throws Exception {
        List<HeaderField> f = fields("SUBJECT :  Hi\r\n\tthere \r\nFrom: a@a.example\r\n");

        String in = input(f, List.of("from", "subject"), Canonicalization.SIMPLE, "X-Auth-HMAC: v=1; b=");

        assertThat(in).isEqualTo("From: a@a.example\r\nSUBJECT :  Hi\r\n\tthere \r\nX-Auth-HMAC: v=1; b=");
    }

    @Test
    void emptiesOnlyTheValueOfBIncludingItsFoldingAndWhitespace() throws Exception {
        HeaderField sig = fields("X-Auth-HMAC: v=1; bh=AAAA; b= AbCd\r\n\tEfGh= ;x=keep").get(0);

        assertThat(Verifier.withEmptyB(sig)).isEqualTo("X-Auth-HMAC: v=1; bh=AAAA; b=;x=keep");
    }

    @Test
    void doesNotMistakeBhForB() throws Exception {
        HeaderField sig = fields("X-Auth-HMAC: b=zzzz; bh=AAAA").get(0);

        assertThat(Verifier.withEmptyB(sig)).isEqualTo("X-Auth-HMAC: b=; bh=AAAA");
    }

    /** The definition of section 5.1, written the obvious way: for each mention, scan up from the last one taken. */
    private static int[] pickByDefinition(List<HeaderField> fields, List<String> h) {
        int[] picked = new int[h.size()];
        for (int k = 0; k < h.size(); k++) {
            String name = h.get(k);
            int from = fields.size() - 1;
            for (int j = k - 1; j >= 0; j--) {
                if (h.get(j).equals(name)) {
                    from = picked[j] - 1;
                    break;
                }
            }
            int i = from;
            while (i >= 0 && !fields.get(i).name().toLowerCase(Locale.ROOT).equals(name)) {
                i--;
            }
            picked[k] = Math.max(i, -1);
        }
        return picked;
    }

    @Test
    void picksWhatTheBottomUpDefinitionPicksOnRandomHeaderBlocks() throws Exception {
        // "az" and "b[" share a String.hashCode, so names built from them collide as an attacker would make them.
        List<String> pool = List.of("from", "to", "subject", "received", "x-a", "az", "b[", "azb[", "b[az", "azaz", "b[b[", "cc");
        Random random = new Random(5);
        for (int round = 0; round < 2_000; round++) {
            StringBuilder block = new StringBuilder();
            int nFields = random.nextInt(12);
            for (int i = 0; i < nFields; i++) {
                String name = pool.get(random.nextInt(pool.size()));
                block.append(random.nextBoolean() ? name : name.toUpperCase(Locale.ROOT)).append(": v").append(i).append("\r\n");
            }
            List<String> h = new ArrayList<>();
            int nNames = 1 + random.nextInt(12);
            for (int k = 0; k < nNames; k++) {
                h.add(pool.get(random.nextInt(pool.size())));
            }
            List<HeaderField> f = nFields == 0 ? List.of() : fields(block.toString());

            assertThat(MacInput.pick(f, h)).as("fields %s, h=%s", block, h).containsExactly(pickByDefinition(f, h));
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void picksInLinearTimeForThreeHundredThousandNamesOnThreeHundredThousandFields() throws Exception {
        // given: names that match no field, each of which a scan per name would look for in every field
        List<String> h = new ArrayList<>();
        for (int k = 0; k < 300_000; k++) {
            h.add("x" + Integer.toString(k, 36));
        }
        h.add("from");
        List<HeaderField> f = RawMessage.read(new ByteArrayInputStream(("a:\r\n".repeat(300_000) + "From: a@a.example\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1)), 4 << 20).fields();

        // when
        int[] picked = MacInput.pick(f, h);

        // then
        assertThat(picked[300_000]).isEqualTo(300_000);
        assertThat(picked).containsOnlyOnce(300_000).contains(-1);
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void namesMadeToShareAHashCodeDoNotMakePickingQuadratic() throws Exception {
        // given: 2^17 distinct names of one String.hashCode (words over "az" and "b["), in h= and as fields
        List<String> h = new ArrayList<>();
        StringBuilder block = new StringBuilder();
        for (int k = 0; k < 1 << 17; k++) {
            StringBuilder name = new StringBuilder();
            for (int bit = 0; bit < 17; bit++) {
                name.append((k >> bit & 1) == 0 ? "az" : "B[");
            }
            h.add(name.toString().toLowerCase(Locale.ROOT));
            block.append(name).append(":\r\n");
        }
        List<HeaderField> f = RawMessage.read(new ByteArrayInputStream((block + "\r\n").getBytes(StandardCharsets.ISO_8859_1)), 16 << 20)
                .fields();

        // when
        int[] picked = MacInput.pick(f, h);

        // then: each name picks its own field
        for (int k = 0; k < picked.length; k += 4099) {
            assertThat(picked[k]).isEqualTo(k);
        }
    }

    @Test
    void macFedFromTheBufferEqualsTheMacOfTheBuiltInputOnRandomFields() throws Exception {
        Random random = new Random(5);
        List<String> pool = List.of("from", "to", "subject", "received", "x-a");
        for (int round = 0; round < 500; round++) {
            // given: random fields, some with runs of WSP that relaxed canonicalization shortens, and a random h=
            StringBuilder block = new StringBuilder();
            for (int i = random.nextInt(12); i >= 0; i--) {
                block.append(pool.get(random.nextInt(pool.size()))).append(random.nextBoolean() ? " :" : ":")
                        .append(" \t".repeat(random.nextInt(4))).append("v").append(i).append("  ".repeat(random.nextInt(3)))
                        .append("\r\n");
            }
            List<HeaderField> f = fields(block.toString());
            List<String> h = new ArrayList<>();
            for (int k = random.nextInt(10); k > 0; k--) {
                h.add(pool.get(random.nextInt(pool.size())));
            }
            int[] picked = MacInput.pick(f, h);
            byte[] signature = ("X-Auth-HMAC :" + " ".repeat(random.nextInt(3)) + "v=1;  b=").getBytes(StandardCharsets.ISO_8859_1);
            Canonicalization c = random.nextBoolean() ? Canonicalization.RELAXED : Canonicalization.SIMPLE;
            javax.crypto.spec.SecretKeySpec key = new javax.crypto.spec.SecretKeySpec(new byte[32], "HmacSHA256");
            javax.crypto.Mac plain = javax.crypto.Mac.getInstance("HmacSHA256");
            plain.init(key);
            javax.crypto.Mac fed = javax.crypto.Mac.getInstance("HmacSHA256");
            fed.init(key);

            // when
            byte[] mac = MacInput.mac(fed, f, picked, c, signature, 12, 11);

            // then
            assertThat(mac).as("%s, h=%s, %s", block, h, c).isEqualTo(plain.doFinal(MacInput.build(f, picked, c, signature, 12, 11)));
        }
    }
}
