package org.authhmac.protocol.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.VerifierSettings;
import org.junit.jupiter.api.Test;

/**
 * Signing and verifying a message held in an array ({@code sign(byte[], off, len, ...)}, {@code verify(byte[], off,
 * len, ...)}: the paths the mailets and the matcher use, which read header fields and body in place) give exactly
 * what the stream paths give: the same header lines or the same exception, the same verdicts. The message sits at
 * a random offset inside junk bytes, so that a read outside its range would show. Seeded like the other property
 * tests (-Dproperty.seed, -Dproperty.cases).
 */
class InPlaceReadingPropertyTest {
    private static final List<String> RECIPIENTS = List.of(FuzzFixtures.RECIPIENT, "b.example", "carol@c.example");

    @Test
    void signingFromAnArrayGivesWhatSigningFromAStreamGives() throws Exception {
        SplittableRandom r = new SplittableRandom(CanonicalizationPropertyTest.SEED);
        for (int i = 0; i < CanonicalizationPropertyTest.CASES; i++) {
            boolean bounded = r.nextInt(4) == 0;
            String generated = Generators.message(r);
            byte[] message = awkward(r, (bounded ? padding(r) + generated : generated).getBytes(StandardCharsets.ISO_8859_1));
            Canonicalization c = r.nextBoolean() ? Canonicalization.RELAXED : Canonicalization.SIMPLE;
            SignerSettings settings = SignerSettings.defaults().withCanonicalization(c, r.nextBoolean() ? c : Canonicalization.SIMPLE);
            if (bounded) {
                // Around the header block's size, so that the bound is hit from both sides.
                settings = settings.withMaxHeaderBytes(1024 + r.nextInt(300));
            }
            Signer signer = new Signer(settings);
            int off = r.nextInt(40);
            byte[] padded = padded(r, message, off);

            String fromStream = outcome(() -> signer.sign(new ByteArrayInputStream(message), List.of(FuzzFixtures.request()), FuzzFixtures.keys()));
            String fromArray = outcome(() -> signer.sign(padded, off, message.length, List.of(FuzzFixtures.request()), FuzzFixtures.keys()));

            assertThat(fromArray).as("seed %d case %d: %s", CanonicalizationPropertyTest.SEED, i, printable(message))
                    .isEqualTo(fromStream);
        }
    }

    @Test
    void verifyingFromAnArrayGivesWhatVerifyingFromAStreamGives() throws Exception {
        SplittableRandom r = new SplittableRandom(CanonicalizationPropertyTest.SEED + 1);
        int passes = 0;
        for (int i = 0; i < CanonicalizationPropertyTest.CASES; i++) {
            Canonicalization c = r.nextBoolean() ? Canonicalization.RELAXED : Canonicalization.SIMPLE;
            boolean bounded = r.nextInt(4) == 0;
            String generated = Generators.message(r);
            byte[] message = (bounded ? padding(r) + generated : generated).getBytes(StandardCharsets.ISO_8859_1);
            byte[] signed = FuzzFixtures.signed(FuzzFixtures.signer(c, c), message);
            // Most cases altered after signing (a byte changed, the message cut, line ends rewritten) so that every
            // kind of verdict is compared, not only passes.
            byte[] received = r.nextInt(3) == 0 ? signed : awkward(r, signed);
            VerifierSettings settings = bounded
                    ? VerifierSettings.defaults().withMaxHeaderBytes(1024 + r.nextInt(600)) : VerifierSettings.defaults();
            int off = r.nextInt(40);
            byte[] padded = padded(r, received, off);

            // A fresh verifier (and replay cache) for each path: the second would otherwise see a replay.
            Map<String, Verdict> fromStream = FuzzFixtures.verifier(settings)
                    .verify(new ByteArrayInputStream(received), FuzzFixtures.ACCEPTED_AT, RECIPIENTS);
            Map<String, Verdict> fromArray = FuzzFixtures.verifier(settings)
                    .verify(padded, off, received.length, FuzzFixtures.ACCEPTED_AT, RECIPIENTS);

            assertThat(fromArray).as("seed %d case %d: %s", CanonicalizationPropertyTest.SEED + 1, i, printable(received))
                    .isEqualTo(fromStream);
            passes += fromStream.get(FuzzFixtures.RECIPIENT) instanceof Verdict.Pass ? 1 : 0;
        }
        // Both kinds compared: the unaltered third passes, most altered ones do not.
        assertThat(passes).isBetween(CanonicalizationPropertyTest.CASES / 5, CanonicalizationPropertyTest.CASES * 3 / 4);
    }

    /** Unsigned fields that bring the header block near the smallest allowed bound (1024 bytes). */
    private static String padding(SplittableRandom r) {
        StringBuilder sb = new StringBuilder();
        int target = 500 + r.nextInt(700);
        while (sb.length() < target) {
            sb.append("X-Pad: ").append("p".repeat(1 + r.nextInt(90))).append(r.nextBoolean() ? "\r\n" : "\r\n\tfolded\r\n");
        }
        return sb.toString();
    }

    /** The message, or a copy with one of the changes that make reading a header block awkward. */
    private static byte[] awkward(SplittableRandom r, byte[] m) {
        byte[] out = m.clone();
        switch (r.nextInt(6)) {
            case 0 -> out[r.nextInt(out.length)] ^= (byte) (1 + r.nextInt(255));
            case 1 -> out = java.util.Arrays.copyOf(out, r.nextInt(out.length + 1));
            case 2 -> out = new String(out, StandardCharsets.ISO_8859_1).replace("\r\n", "\n").getBytes(StandardCharsets.ISO_8859_1);
            case 3 -> {
                // No empty line: a message that is all header block.
                String s = new String(out, StandardCharsets.ISO_8859_1);
                int end = s.indexOf("\r\n\r\n");
                out = (end < 0 ? s : s.substring(0, end + 2)).getBytes(StandardCharsets.ISO_8859_1);
            }
            case 4 -> out = new String(out, StandardCharsets.ISO_8859_1).replaceFirst("\r\n", "\r\n \r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            default -> {
                // Unchanged.
            }
        }
        return out;
    }

    private static byte[] padded(SplittableRandom r, byte[] message, int off) {
        byte[] padded = new byte[off + message.length + r.nextInt(40)];
        // Junk around the message that would be read as more header lines or more body: CR, LF, letters, colons.
        byte[] junk = "\r\n\r\nX: y\r\n \t:".getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < padded.length; i++) {
            padded[i] = junk[r.nextInt(junk.length)];
        }
        System.arraycopy(message, 0, padded, off, message.length);
        return padded;
    }

    private interface Signing {
        List<String> run() throws Exception;
    }

    private static String outcome(Signing s) {
        try {
            return "lines " + s.run();
        } catch (Exception e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }

    private static String printable(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1).replace("\r", "\\r").replace("\n", "\\n");
    }
}
