package org.authhmac.testing.tpm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * The JUnit face of {@link SwtpmProcess}: a real swtpm TPM 2.0 emulator on free loopback ports with its own
 * state directory, which a test can kill and start again on the same ports and state to cause an outage.
 *
 * <p>When swtpm is not installed the test is skipped on a developer machine and fails in CI
 * (environment variable CI=true), so a CI run can never pass without exercising the TPM.
 */
public final class Swtpm implements AutoCloseable {
    private final SwtpmProcess process;
    private final boolean ownsStateDir;

    private Swtpm(SwtpmProcess process, boolean ownsStateDir) {
        this.process = process;
        this.ownsStateDir = ownsStateDir;
    }

    /** Starts a fresh emulator with an empty state directory of its own. */
    public static Swtpm start() {
        requireInstalled();
        try {
            return started(Files.createTempDirectory("swtpm-"), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts an emulator on the given state directory (kept on close), for example one shared by two runs. */
    public static Swtpm start(Path stateDir) {
        requireInstalled();
        return started(stateDir, false);
    }

    private static Swtpm started(Path stateDir, boolean owns) {
        Swtpm tpm = new Swtpm(new SwtpmProcess(stateDir), owns);
        tpm.process.start();
        return tpm;
    }

    public static boolean installed() {
        return SwtpmProcess.installed();
    }

    /** Skips the calling test when swtpm is missing, except in CI, where it fails. */
    public static void requireInstalled() {
        if (installed()) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("swtpm is not installed, and CI=true: TPM tests must run in CI (apt-get install swtpm swtpm-tools)");
        }
        Assumptions.abort("swtpm is not installed (apt-get install swtpm swtpm-tools); skipping outside CI");
    }

    public String host() {
        return "127.0.0.1";
    }

    /** The TPM command port; the control port is {@code port() + 1}. */
    public int port() {
        return process.port();
    }

    public Path stateDir() {
        return process.stateDir();
    }

    public boolean isRunning() {
        return process.isRunning();
    }

    /** Kills the emulator at once (SIGKILL), as a crash or a power cut would. */
    public void kill() {
        process.kill();
    }

    /** (Re)starts the emulator on the same ports and state directory, and waits until it accepts connections. */
    public void restart() {
        process.kill();
        process.start();
    }

    @Override
    public void close() {
        process.close();
        if (ownsStateDir) {
            try (Stream<Path> files = Files.walk(process.stateDir())) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // best effort: a temp directory left behind is harmless
            }
        }
    }
}
