package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * docs/test-vectors/independent_check.py is a second verifier written from docs/PROTOCOL.md alone (PROTOCOL.md 12).
 * It must keep agreeing with every committed vector: when the spec or the vectors change and it does not, either
 * the document no longer says enough or the Python reader is stale, and both are worth knowing. Needs python3
 * (standard library only); without it the test is skipped, except in CI (CI=true), where it fails.
 */
class IndependentCheckerTest {

    @Test
    void thePythonVerifierWrittenFromTheSpecAgreesWithEveryVector() throws IOException, InterruptedException {
        Path script = TestVectorsTest.DIR.resolve("independent_check.py");
        boolean python = python3Available();
        if (!"true".equals(System.getenv("CI"))) {
            assumeThat(python).as("python3 on PATH").isTrue();
        }
        assertThat(python).as("python3 on PATH (CI=true)").isTrue();

        Process p = new ProcessBuilder("python3", script.toString(), TestVectorsTest.DIR.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("finished").isTrue();

        long vectors;
        try (var files = Files.list(TestVectorsTest.DIR)) {
            vectors = files.filter(f -> f.toString().endsWith(".eml")).count();
        }
        assertThat(out).as(out).contains(vectors + " vectors", "; 0 mismatches").doesNotContain("MISMATCH");
        assertThat(p.exitValue()).as(out).isZero();
    }

    private static boolean python3Available() {
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
