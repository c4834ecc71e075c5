package org.authhmac.testing.tpm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.authhmac.testing.FreePorts;

/**
 * A swtpm TPM 2.0 emulator on loopback with a persistent state folder, startable again on the same ports after a
 * kill (a TPM outage). It uses no JUnit, so the e2e harness and its demo can use it; {@link Swtpm} is the JUnit face of it.
 */
public final class SwtpmProcess implements AutoCloseable {
    private final Path stateDir;
    private final int port;
    private Process process;
    private Thread hook;

    public SwtpmProcess(Path stateDir) {
        this.stateDir = stateDir.toAbsolutePath();
        this.port = FreePorts.nextPair();
    }

    public static boolean installed() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, "swtpm"))) {
                return true;
            }
        }
        return false;
    }

    /** TPM command port; control port is port() + 1. */
    public int port() {
        return port;
    }

    public Path stateDir() {
        return stateDir;
    }

    public synchronized SwtpmProcess start() {
        if (process != null && process.isAlive()) {
            return this;
        }
        try {
            Files.createDirectories(stateDir);
            process = new ProcessBuilder(List.of("swtpm", "socket", "--tpm2",
                    "--server", "type=tcp,port=" + port + ",bindaddr=127.0.0.1",
                    "--ctrl", "type=tcp,port=" + (port + 1) + ",bindaddr=127.0.0.1",
                    "--flags", "not-need-init,startup-clear",
                    "--tpmstate", "dir=" + stateDir))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(stateDir.resolve("swtpm.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start swtpm (apt-get install swtpm swtpm-tools)", e);
        }
        Process started = process;
        hook = new Thread(started::destroyForcibly, "kill-swtpm-" + port);
        Runtime.getRuntime().addShutdownHook(hook);
        awaitListening(Duration.ofSeconds(10));
        return this;
    }

    /** SIGKILL: the TPM disappears at once, as a crashed daemon or a pulled device would. */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // hook already running
        }
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
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
    public void close() {
        kill();
    }
}
