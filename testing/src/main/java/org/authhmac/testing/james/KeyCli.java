package org.authhmac.testing.james;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The operator's key CLI ({@code auth-hmac}, the executable jar from cli/), run as an operator runs it: a separate
 * process reading the server's conf/auth-hmac.properties, so it acts on the same vault (and TPM) as that James.
 */
public final class KeyCli {
    private final Path javaExecutable;
    private final Path cliJar;

    public KeyCli(Path javaExecutable, Path cliJar) {
        this.javaExecutable = javaExecutable;
        this.cliJar = cliJar;
    }

    public static KeyCli fromSystemProperties() {
        return new KeyCli(Path.of(System.getProperty("java.home"), "bin", "java"), JamesRuntime.cliJar());
    }

    public record Result(int exitCode, String output) {
    }

    /** Runs {@code auth-hmac -c <config> args...}; a non-zero exit is an error carrying the CLI's output. */
    public String run(Path config, String... args) {
        Result r = tryRun(config, args);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("auth-hmac " + String.join(" ", args) + " exited " + r.exitCode() + ":\n" + r.output());
        }
        return r.output();
    }

    public Result tryRun(Path config, String... args) {
        List<String> cmd = new ArrayList<>(List.of(javaExecutable.toString(), "-jar", cliJar.toString(), "-c", config.toString()));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("auth-hmac " + String.join(" ", args) + " did not finish in 120 s");
            }
            Result result = new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
            int export = cmd.indexOf("--export");
            if (result.exitCode() == 0 && export > 0 && export + 1 < cmd.size()) {
                // a key that left its vault: the suite's last test searches the servers' files for it
                SecretsLedger.recordKeyFile("exported by auth-hmac " + args[0], Path.of(cmd.get(export + 1)));
            }
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
