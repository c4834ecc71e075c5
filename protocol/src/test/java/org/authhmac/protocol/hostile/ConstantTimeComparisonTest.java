package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.authhmac.protocol.KeyFingerprint;
import org.authhmac.protocol.Verifier;
import org.junit.jupiter.api.Test;

/**
 * The MAC and the body hash are compared in constant time. Timing tests are noise on a shared machine, so this
 * checks the compiled code instead: javap disassembles the Verifier, the method that checks MAC and body hash
 * must call MessageDigest.isEqual (documented constant-time since JDK 6u17) for both, and nothing in the
 * protocol's classes may compare byte arrays or MAC strings any other way. It reads bytecode, not source, so
 * a helper method, a lambda or a renamed variable cannot hide a comparison.
 */
class ConstantTimeComparisonTest {
    private static final String IS_EQUAL = "java/security/MessageDigest.isEqual:([B[B)Z";
    /** Every early-exit way the JDK offers to compare two byte arrays or their encodings. */
    private static final List<String> VARIABLE_TIME = List.of(
            "java/util/Arrays.equals:([B[B)Z",
            "java/util/Arrays.equals:([BII[BII)Z",
            "java/util/Arrays.compare:([B[B)I",
            "java/util/Arrays.mismatch:([B[B)I",
            "java/nio/ByteBuffer.equals",
            "java/math/BigInteger.equals",
            "java/util/HexFormat.formatHex");

    @Test
    void theVerifierComparesMacAndBodyHashWithMessageDigestIsEqual() throws Exception {
        String crypto = method(disassemble(Verifier.class.getName()), "cryptoCheck(");

        assertThat(count(crypto, IS_EQUAL)).as("isEqual calls in Verifier.cryptoCheck (MAC, then body hash)").isEqualTo(2);
        assertThat(crypto).as("no string comparison of MAC or body hash")
                .doesNotContain("java/lang/String.equals", "java/lang/String.contentEquals", "java/lang/String.compareTo",
                        "java/util/Objects.equals");
    }

    /** Every class of the module, sub-packages (the mail-client side) included: secrets are compared there too. */
    @Test
    void noProtocolClassComparesByteArraysInVariableTime() throws Exception {
        List<String> offenders = new ArrayList<>();
        for (String cls : protocolClasses()) {
            String code = disassemble(cls);
            for (String call : VARIABLE_TIME) {
                // A key fingerprint is public by design (PROTOCOL.md, Appendix A): its hex is shown, never a secret
                if (call.equals("java/util/HexFormat.formatHex") && cls.equals(KeyFingerprint.class.getName())) {
                    continue;
                }
                if (code.contains(call)) {
                    offenders.add(cls + " calls " + call);
                }
            }
        }

        assertThat(offenders).isEmpty();
    }

    /** The check can fail: it finds a variable-time comparison where there is one. */
    @Test
    void theCheckFindsAnArraysEqualsWhereThereIsOne() throws Exception {
        assertThat(disassemble(VariableTime.class.getName())).contains(VARIABLE_TIME.get(0));
    }

    static final class VariableTime {
        static boolean same(byte[] a, byte[] b) {
            return java.util.Arrays.equals(a, b);
        }
    }

    private static List<String> protocolClasses() throws URISyntaxException, java.io.IOException {
        Path root = Path.of(Verifier.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path pkg = root.resolve("org/authhmac/protocol");
        try (Stream<Path> files = Files.walk(pkg)) {
            List<String> names = files.map(p -> root.relativize(p).toString()).filter(n -> n.endsWith(".class"))
                    .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.')).sorted().toList();
            assertThat(names).as("protocol classes found under " + pkg).contains(Verifier.class.getName());
            return names;
        }
    }

    private static String disassemble(String className) {
        ToolProvider javap = ToolProvider.findFirst("javap").orElseThrow(() -> new AssertionError("javap not in this JDK"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = javap.run(new PrintWriter(out), new PrintWriter(err), "-c", "-p",
                "-cp", System.getProperty("java.class.path"), className);
        assertThat(rc).as("javap %s: %s", className, err).isZero();
        return out.toString();
    }

    /** The bytecode of the first method whose signature line contains {@code nameAndParen}. */
    private static String method(String code, String nameAndParen) {
        int start = -1;
        String[] lines = code.split("\n");
        StringBuilder sb = new StringBuilder();
        for (String line : lines) {
            boolean signature = line.startsWith("  ") && !line.startsWith("   ") && line.contains("(");
            if (start < 0 && signature && line.contains(" " + nameAndParen)) {
                start = 0;
            } else if (start >= 0 && signature) {
                break;
            }
            if (start >= 0) {
                sb.append(line).append('\n');
            }
        }
        assertThat(sb).as("method %s found", nameAndParen).isNotEmpty();
        return sb.toString();
    }

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
