package org.authhmac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.authhmac.testing.tpm.Swtpm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code java -jar cli/target/auth-hmac-cli.jar ...} works on its own: everything it needs is inside. */
class ShadedJarIT {
    private static final Path JAR = Path.of("target", "auth-hmac-cli.jar");

    @TempDir
    Path dir;

    record Result(int exit, String out) {
    }

    private Result java(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java")); // the JDK 21+ running this test
        cmd.add("-jar");
        cmd.add(JAR.toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void provisionsAndChecksATpmKeyFromTheCommandLine() throws Exception {
        assertThat(JAR).exists();
        try (Swtpm swtpm = Swtpm.start()) {
            Files.createDirectories(dir.resolve("conf"));
            Files.writeString(dir.resolve("conf/auth-hmac.properties"),
                    "vault.backend=tpm\ntpm.device=tcp\ntpm.port=" + swtpm.port() + "\n");

            // run from the server root, as James runs: conf/auth-hmac.properties is found without -c
            Result generate = java("keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--export", "k1.key");
            Result list = java("keys", "list");
            Result check = java("keys", "check");

            assertThat(generate.exit()).as(generate.out()).isZero();
            assertThat(list.out()).containsPattern("k1\\s+partner-b\\s+PRIMARY");
            assertThat(check.exit()).as(check.out()).isZero();
            assertThat(check.out()).contains("two derivations match", "OK");
            assertThat(dir.resolve("k1.key")).exists();
        }
    }

    @Test
    void printsUsageAndVersion() throws Exception {
        Result help = java("--help");
        Result version = java("--version");

        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("auth-hmac", "keys");
        assertThat(version.out()).contains("auth-hmac 0.1.0");
    }
}
