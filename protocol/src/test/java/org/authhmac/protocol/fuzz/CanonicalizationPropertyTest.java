package org.authhmac.protocol.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.james.jdkim.canon.RelaxedBodyCanonicalizer;
import org.apache.james.jdkim.canon.SimpleBodyCanonicalizer;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.BodyHash;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.Verdict;
import org.junit.jupiter.api.Test;

/**
 * Properties of canonicalization over many generated inputs (plain JUnit with seeded randomness: a failure
 * names its seed, and -Dproperty.seed=N replays it; -Dproperty.cases=N runs more cases).
 */
class CanonicalizationPropertyTest {
    static final long SEED = Long.getLong("property.seed", 20261122L);
    static final int CASES = Integer.getInteger("property.cases", 5_000);

    @Test
    void relaxedHeaderCanonicalizationIsIdempotent() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int i = 0; i < CASES; i++) {
            String field = Generators.headerField(r);

            String once = FuzzFixtures.relaxedHeader(field);

            assertThat(FuzzFixtures.relaxedHeader(once)).as("seed %d case %d: %s", SEED, i, field).isEqualTo(once);
        }
    }

    /**
     * jDKIM (an independent implementation, test scope) writes out the canonical body, which our canonicalizer
     * only ever hashes; our hash of that output must equal our hash of the input. Bodies end in CRLF, as every
     * body that crossed SMTP does: the one documented exception, trailing WSP on an unterminated last line,
     * is pinned below.
     */
    @Test
    void relaxedBodyCanonicalizationIsIdempotent() throws Exception {
        SplittableRandom r = new SplittableRandom(SEED + 1);
        for (int i = 0; i < CASES; i++) {
            byte[] body = Generators.body(r).getBytes(StandardCharsets.ISO_8859_1);
            byte[] canonical = jdkimRelaxed(body);

            byte[] hashOfBody = BodyHash.of(Canonicalization.RELAXED, new ByteArrayInputStream(body));

            assertThat(MessageDigest.getInstance("SHA-256").digest(canonical)).as("seed %d case %d: jDKIM agrees", SEED, i)
                    .isEqualTo(hashOfBody);
            assertThat(BodyHash.of(Canonicalization.RELAXED, new ByteArrayInputStream(canonical)))
                    .as("seed %d case %d: canonical form is a fixed point", SEED, i).isEqualTo(hashOfBody);
        }
    }

    /**
     * docs/PROTOCOL.md 4.2: "a  " (no final CRLF) canonicalizes to "a \r\n", which canonicalizes to "a\r\n".
     * Relaxed is idempotent only on bodies whose last line is terminated; SMTP always terminates it.
     */
    @Test
    void relaxedIsNotIdempotentOnTrailingWhitespaceOfAnUnterminatedLastLineAsDocumented() throws Exception {
        byte[] once = BodyHash.of(Canonicalization.RELAXED, stream("a  "));

        assertThat(once).isEqualTo(sha256("a \r\n"));
        assertThat(BodyHash.of(Canonicalization.RELAXED, stream("a \r\n"))).isEqualTo(sha256("a\r\n")).isNotEqualTo(once);
    }

    @Test
    void whitespaceOnlyRefoldingOfSignedHeadersKeepsPassUnderRelaxed() throws Exception {
        SplittableRandom r = new SplittableRandom(SEED + 2);
        Signer signer = FuzzFixtures.signer(Canonicalization.RELAXED, Canonicalization.RELAXED);
        int cases = Math.max(1, CASES / 5);
        for (int i = 0; i < cases; i++) {
            String message = Generators.message(r);
            String signed = new String(FuzzFixtures.signed(signer, bytes(message)), StandardCharsets.ISO_8859_1);

            String refolded = refoldEveryHeaderField(signed, r);

            Verdict v = FuzzFixtures.verify(bytes(refolded));
            assertThat(v.result()).as("seed %d case %d: %s%n--- refolded:%n%s", SEED, i, v, refolded).isEqualTo(AuthResult.PASS);
        }
    }

    /** Rewrites the header block: each WSP run becomes another non-empty WSP run, sometimes with a fold. */
    static String refoldEveryHeaderField(String message, SplittableRandom r) {
        int end = message.indexOf("\r\n\r\n");
        String header = message.substring(0, end + 2);
        StringBuilder out = new StringBuilder(header.length() * 2);
        for (String field : unfoldedFields(header)) {
            int colon = field.indexOf(':');
            out.append(field, 0, colon);
            if (r.nextInt(4) == 0) {
                out.append(wsp(r)); // WSP before the colon goes away under relaxed
            }
            out.append(':');
            String value = field.substring(colon + 1);
            int i = 0;
            if (r.nextBoolean()) {
                out.append(wsp(r)); // so does WSP right after it
            }
            while (i < value.length()) {
                char c = value.charAt(i);
                if (c == ' ' || c == '\t' || c == '\r') {
                    while (i < value.length() && " \t\r\n".indexOf(value.charAt(i)) >= 0) {
                        i++;
                    }
                    out.append(r.nextInt(3) == 0 ? "\r\n" + wsp(r) : wsp(r));
                } else {
                    out.append(c);
                    i++;
                }
            }
            if (r.nextInt(3) == 0) {
                out.append(wsp(r)); // and trailing WSP
            }
            out.append("\r\n");
        }
        return out + message.substring(end + 2);
    }

    private static List<String> unfoldedFields(String header) {
        List<String> fields = new ArrayList<>();
        for (String line : header.split("\r\n")) {
            if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
                fields.set(fields.size() - 1, fields.get(fields.size() - 1) + "\r\n" + line);
            } else {
                fields.add(line);
            }
        }
        return fields;
    }

    private static String wsp(SplittableRandom r) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
            sb.append(r.nextBoolean() ? ' ' : '\t');
        }
        return sb.toString();
    }

    static byte[] jdkimRelaxed(byte[] body) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream c = new RelaxedBodyCanonicalizer(new SimpleBodyCanonicalizer(out))) {
            c.write(body);
        }
        return out.toByteArray();
    }

    private static byte[] sha256(String s) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(bytes(s));
    }

    private static ByteArrayInputStream stream(String s) {
        return new ByteArrayInputStream(bytes(s));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
