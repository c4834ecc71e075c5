package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/test-vectors/dkimpy_body_check.py canonicalizes the body of every vector whose verdict depends on the body
 * hash with dkimpy (python3-dkim, the reference DKIM implementation in Python) and compares the SHA-256 with the body
 * hash the vector records: equal to {@code intermediate.bodyHash} where a recipient passes, different from {@code bh=}
 * where the verdict is body-changed. The bare-CR vectors in particular are where DKIM readers have disagreed. Needs
 * python3 with the dkim module ({@code scripts/ensure-tools}); without it the test is skipped, except in CI
 * (CI=true), where it fails.
 */
class DkimpyCanonicalizationTest {
    /** python3-dkim installs into the system python3, which a pyenv or venv python3 first on PATH does not see. */
    private static final List<String> PYTHONS = List.of("python3", "/usr/bin/python3");
    private static final Pattern SUMMARY = Pattern.compile("(?m)^(\\d+) vectors checked; (\\d+) mismatches$");

    @Test
    void dkimpyCanonicalizesEveryVectorBodyAsTheProtocolDoes() throws Exception {
        Optional<String> python = PYTHONS.stream().filter(DkimpyCanonicalizationTest::importsDkim).findFirst();
        if (!"true".equals(System.getenv("CI"))) {
            assumeThat(python).as("python3 with the dkim module (apt-get install python3-dkim)").isPresent();
        }
        assertThat(python).as("python3 with the dkim module (CI=true)").isPresent();

        Process p = new ProcessBuilder(python.get(), TestVectorsTest.DIR.resolve("dkimpy_body_check.py").toString(),
                "-v", TestVectorsTest.DIR.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("finished").isTrue();

        Matcher summary = SUMMARY.matcher(out);
        assertThat(summary.find()).as(out).isTrue();
        assertThat(Integer.parseInt(summary.group(1))).as("vectors checked\n" + out).isEqualTo(bodyHashVectors());
        assertThat(Integer.parseInt(summary.group(2))).as("mismatches\n" + out).isZero();
        assertThat(out).as(out).doesNotContain("MISMATCH").contains(
                "ok canon-bare-cr-after-empty-line:", "ok canon-bare-cr-after-empty-line-simple:",
                "ok canon-bare-cr-ends-body:", "ok canon-bare-cr-ends-body-simple:");
        assertThat(p.exitValue()).as(out).isZero();
    }

    /** Vectors that record a body hash: a recipient passes (intermediate.bodyHash), or one gets body-changed. */
    private static int bodyHashVectors() throws Exception {
        int n = 0;
        for (JsonNode v : TestVectorsTest.root().get("vectors")) {
            boolean bodyChanged = "body-changed".equals(v.path("expected").path("reason").asText());
            for (JsonNode r : v.path("recipients")) {
                bodyChanged |= "body-changed".equals(r.path("expected").path("reason").asText());
            }
            if (v.has("intermediate") || bodyChanged) {
                n++;
            }
        }
        return n;
    }

    private static boolean importsDkim(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import dkim").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
