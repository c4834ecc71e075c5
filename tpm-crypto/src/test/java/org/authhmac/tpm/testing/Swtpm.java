package org.authhmac.tpm.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real swtpm TPM 2.0 emulator process on free loopback ports, with its own state directory.
 * It can be killed and started again on the same ports and state, to test outages.
 *
 * <p>When swtpm is not installed the test is skipped on a developer machine and fails in CI
 * (environment variable CI=true), so a CI run can never pass without exercising the TPM.
 */
public final class Swtpm implements AutoCloseable {
    private final Path stateDir;
    private final boolean ownsStateDir;
    private final int port;
    private Process process;

    private Swtpm(Path stateDir, boolean ownsStateDir, int port) {
        this.stateDir = stateDir;
        this.ownsStateDir = ownsStateDir;
        this.port = port;
    }

    /** Starts a fresh emulator with an empty state directory of its own. */
    public static Swtpm start() {
        requireInstalled();
        try {
            Path dir = Files.createTempDirectory("swtpm-");
            Swtpm tpm = new Swtpm(dir, true, freePortPair());
            tpm.restart();
            return tpm;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts an emulator on the given state directory (kept on close), for example one shared by two runs. */
    public static Swtpm start(Path stateDir) {
        requireInstalled();
        Swtpm tpm = new Swtpm(stateDir, false, freePortPair());
        tpm.restart();
        return tpm;
    }

    public static boolean installed() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, "swtpm"))) {
                return true;
            }
        }
        return false;
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
        return port;
    }

    public Path stateDir() {
        return stateDir;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Kills the emulator at once (SIGKILL), as a crash or a power cut would. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    /** (Re)starts the emulator on the same ports and state directory, and waits until it accepts connections. */
    public synchronized void restart() {
        kill();
        List<String> cmd = new ArrayList<>(List.of(
                "swtpm", "socket", "--tpm2",
                "--server", "type=tcp,port=" + port + ",bindaddr=127.0.0.1",
                "--ctrl", "type=tcp,port=" + (port + 1) + ",bindaddr=127.0.0.1",
                "--flags", "not-need-init,startup-clear",
                "--tpmstate", "dir=" + stateDir));
        try {
            process = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(stateDir.resolve("swtpm.log").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start swtpm", e);
        }
        awaitListening(Duration.ofSeconds(10));
    }

    private void awaitListening(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("swtpm exited with " + process.exitValue() + ", see " + stateDir.resolve("swtpm.log"));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
        throw new IllegalStateException("swtpm did not listen on 127.0.0.1:" + port + " within " + timeout);
    }

    @Override
    public synchronized void close() {
        kill();
        if (ownsStateDir) {
            try (Stream<Path> files = Files.walk(stateDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // best effort: a temp directory left behind is harmless
            }
        }
    }

    /** Two consecutive free ports (command, control) on loopback. */
    static int freePortPair() {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket a = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int p = a.getLocalPort();
                if (p >= 65535) {
                    continue;
                }
                try (ServerSocket b = new ServerSocket(p + 1, 1, InetAddress.getLoopbackAddress())) {
                    return p;
                } catch (IOException taken) {
                    // try another pair
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free pair of loopback ports");
    }
}
