package org.authhmac.it.containers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The container tools this module needs (podman with its Docker API, docker-compose, the images), made ready by the
 * repository's own scripts, as a reader of docs/CONTAINERS.md makes them ready.
 *
 * <p>When they cannot be had the test is skipped on a developer machine and fails in CI (environment variable
 * CI=true), so a CI run can never pass without running the compose file.
 */
final class ContainerTools {
    private ContainerTools() {
    }

    /** What a finished command printed (stdout and stderr together). */
    record Output(int exitCode, String text) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /**
     * Runs scripts/containers-setup then scripts/images, and returns the DOCKER_HOST to use: the environment's when
     * set, else the one containers-setup prints (podman's Docker API socket).
     */
    static String prepare(Path repoRoot) {
        Output setup = run(repoRoot, Map.of(), Duration.ofMinutes(10), "scripts/containers-setup");
        if (!setup.ok()) {
            unavailable("scripts/containers-setup failed (podman, docker-compose or podman's Docker API):\n" + setup.text());
        }
        Output images = run(repoRoot, Map.of(), Duration.ofMinutes(20), "scripts/images");
        if (!images.ok()) {
            unavailable("scripts/images could not build the swtpm and James images:\n" + images.text());
        }
        String fromEnv = System.getenv("DOCKER_HOST");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        return setup.text().lines().filter(l -> l.startsWith("DOCKER_HOST=")).reduce((first, last) -> last)
                .map(l -> l.substring("DOCKER_HOST=".length()).trim())
                .orElseThrow(() -> new IllegalStateException("scripts/containers-setup printed no DOCKER_HOST:\n" + setup.text()));
    }

    /** Skips the calling test class, except in CI, where it fails. */
    static void unavailable(String why) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException(why + "\nCI=true: the compose test must run in CI");
        }
        Assumptions.abort(why + "\nskipping outside CI (CI=true makes this a failure)");
    }

    /** Runs a command in a folder with extra environment variables; a command that cannot start exits 127. */
    static Output run(Path dir, Map<String, String> env, Duration timeout, String... command) {
        ProcessBuilder pb = new ProcessBuilder(List.of(command)).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            // read on another thread, so that a command that never ends cannot hold the test past its timeout
            StringBuilder text = new StringBuilder();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try {
                    text.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException ignored) {
                    // the process was killed: what was read so far is in text
                }
            });
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                reader.join(5_000);
                return new Output(124, String.join(" ", command) + " did not finish in " + timeout + ":\n" + text);
            }
            reader.join(5_000);
            return new Output(p.exitValue(), text.toString());
        } catch (IOException e) {
            return new Output(127, "cannot run " + String.join(" ", command) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
