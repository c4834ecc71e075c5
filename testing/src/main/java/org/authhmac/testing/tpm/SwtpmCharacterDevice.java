package org.authhmac.testing.tpm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A swtpm TPM 2.0 emulator behind a character device, as /dev/tpmrm0 is: {@code swtpm chardev} serves the master
 * side of a pseudo-terminal in raw mode and {@link #path()} opens its slave side. A small python3 launcher makes the
 * pseudo-terminal (the vTPM proxy device would need a kernel module) and holds the slave open; the path goes through
 * /proc because this machine's /dev/pts does not list the terminals of other namespaces. Closing the launcher's
 * standard input ends both processes.
 */
public final class SwtpmCharacterDevice implements AutoCloseable {
    private static final String LAUNCHER = String.join("\n",
            "import os, subprocess, sys, tty",
            "master, slave = os.openpty()",
            "tty.setraw(slave)",
            "tpm = subprocess.Popen(['swtpm', 'chardev', '--tpm2', '--fd', str(master), '--tpmstate', 'dir=' + sys.argv[1],",
            "                        '--flags', 'not-need-init,startup-clear'], pass_fds=[master])",
            "os.close(master)",
            "print(slave, flush=True)",
            "try:",
            "    sys.stdin.read()",
            "finally:",
            "    tpm.kill()",
            "    tpm.wait()");

    private final Process launcher;
    private final Path path;
    private final Path stateDir;

    private SwtpmCharacterDevice(Process launcher, Path path, Path stateDir) {
        this.launcher = launcher;
        this.path = path;
        this.stateDir = stateDir;
    }

    /** Starts the emulator; skips the calling test (fails in CI) when swtpm or python3 is missing. */
    public static SwtpmCharacterDevice start() {
        Swtpm.requireInstalled();
        try {
            Path state = Files.createTempDirectory("swtpm-chardev-");
            Process p = new ProcessBuilder(List.of("python3", "-c", LAUNCHER, state.toString()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(state.resolve("launcher.log").toFile()))
                    .start();
            String fd = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            if (fd == null || !fd.matches("\\d+")) {
                p.destroyForcibly();
                throw new IllegalStateException("swtpm chardev did not start, see " + state.resolve("launcher.log"));
            }
            return new SwtpmCharacterDevice(p, Path.of("/proc", Long.toString(p.pid()), "fd", fd), state);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start python3 and swtpm chardev", e);
        }
    }

    /** The character device to open read-write, one command written and one response read at a time. */
    public Path path() {
        return path;
    }

    public Path stateDir() {
        return stateDir;
    }

    @Override
    public void close() {
        try {
            launcher.getOutputStream().close();
            if (!launcher.waitFor(5, TimeUnit.SECONDS)) {
                launcher.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            launcher.destroyForcibly();
        }
    }
}
