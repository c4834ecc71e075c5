package org.authhmac.testcontainers;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.testcontainers.containers.ContainerLaunchException;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;

/**
 * Ready when WebAdmin's {@code /healthcheck} answers 200 (every health check, ours included, is healthy). James
 * 3.8.1 keeps its JVM alive after "Fatal error while starting James", so that line in the log ends the wait at once,
 * with the log's tail, instead of at the timeout.
 */
final class JamesHealthy extends AbstractWaitStrategy {
    private static final String FATAL = "Fatal error while starting James";

    @Override
    protected void waitUntilReady() {
        URI health = URI.create("http://" + waitStrategyTarget.getHost() + ":"
                + waitStrategyTarget.getMappedPort(AuthHmacJames.WEBADMIN_PORT) + "/healthcheck");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(5)).GET().build();
        long deadline = System.nanoTime() + startupTimeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!waitStrategyTarget.isRunning()) {
                throw new ContainerLaunchException("James exited before it was healthy:\n" + tail());
            }
            if (waitStrategyTarget.getLogs(OutputFrame.OutputType.STDOUT, OutputFrame.OutputType.STDERR).contains(FATAL)) {
                throw new ContainerLaunchException("James failed to start:\n" + tail());
            }
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerLaunchException("interrupted while waiting for " + health, e);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerLaunchException("interrupted while waiting for " + health, e);
            }
        }
        throw new ContainerLaunchException(health + " not 200 after " + startupTimeout.toSeconds() + " s (last: " + last + ")\n" + tail());
    }

    private String tail() {
        String log = waitStrategyTarget.getLogs();
        String[] lines = log.split("\n");
        int from = Math.max(0, lines.length - 60);
        return String.join("\n", java.util.Arrays.copyOfRange(lines, from, lines.length));
    }
}
