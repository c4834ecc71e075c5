package org.authhmac.it.containers;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One docker-compose project (its own name, so it runs beside any other) of one compose file, with the variables the
 * file takes. Every call is the docker-compose command line an operator types.
 */
final class ComposeProject {
    private final Path repoRoot;
    private final Path composeFile;
    private final String name;
    private final Map<String, String> env;

    ComposeProject(Path repoRoot, Path composeFile, String name, String dockerHost, Map<String, String> variables) {
        this.repoRoot = repoRoot;
        this.composeFile = composeFile;
        this.name = name;
        this.env = new LinkedHashMap<>(variables);
        this.env.put("DOCKER_HOST", dockerHost);
    }

    String name() {
        return name;
    }

    /** Creates the network, the volumes and every container, and starts none (the keys are provisioned in between). */
    void createAll() {
        compose(Duration.ofMinutes(5), "up", "--no-start");
    }

    void start(String... services) {
        List<String> args = new ArrayList<>(List.of("start"));
        args.addAll(List.of(services));
        compose(Duration.ofMinutes(5), args.toArray(String[]::new));
    }

    /** Every service's output (James logs to the console), for the record when a test failed. */
    String logs() {
        return run(Duration.ofMinutes(2), "logs", "--no-color", "--timestamps").text();
    }

    /** Stops and removes the containers, the network and the volumes (TPM states, held mail). */
    ContainerTools.Output down() {
        return run(Duration.ofMinutes(5), "down", "-v", "--timeout", "20");
    }

    private void compose(Duration timeout, String... args) {
        ContainerTools.Output out = run(timeout, args);
        if (!out.ok()) {
            throw new IllegalStateException("docker-compose " + String.join(" ", args) + " exited " + out.exitCode() + ":\n" + out.text());
        }
    }

    private ContainerTools.Output run(Duration timeout, String... args) {
        List<String> command = new ArrayList<>(List.of("docker-compose", "--ansi", "never", "-p", name, "-f", composeFile.toString()));
        command.addAll(List.of(args));
        return ContainerTools.run(repoRoot, env, timeout, command.toArray(String[]::new));
    }
}
