package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.tpm.Swtpm;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * docs/INSTALL.md as its reader follows it: every {@code sh} block of the page, in the page's order, run by one bash in
 * a fresh empty folder, with only {@code SRC} (the checkout) set, as the page tells its reader. The walk-through ends
 * with bob reading alice's first mail over IMAP with {@code auth-hmac=pass}; its "Stopping" block must stop what it
 * started. A command that fails stops the run and names its line in the page.
 */
class InstallGuideIT {
    private static final Path PAGE = JamesRuntime.repoPath("docs/INSTALL.md");
    private static final String STOP_HEADING = "Stopping";
    private static final Duration WALK_THROUGH_LIMIT = Duration.ofMinutes(10);
    private static final Pattern PAGE_PORT = Pattern.compile("(?:127\\.0\\.0\\.1:|port=|--(?:smtp|submission|imap|webadmin) )(\\d{2,5})");

    /** A fenced block of the page: its info string, the heading it is under, and the page line of its first line. */
    record Block(String info, String heading, int firstLine, List<String> lines) {
    }

    @Test
    void followingTheGuideCommandByCommandGivesAFirstMailThatPasses() throws Exception {
        Swtpm.requireInstalled();
        requireTool("curl");
        List<Block> blocks = shellBlocks(Files.readAllLines(PAGE, StandardCharsets.UTF_8));
        List<Block> stop = blocks.stream().filter(b -> b.heading().equals(STOP_HEADING)).toList();
        assertThat(blocks).as("sh blocks in " + PAGE).hasSizeGreaterThan(5);
        assertThat(stop).as("a '" + STOP_HEADING + "' section with an sh block in " + PAGE).isNotEmpty();
        requireFreePorts(blocks);

        Path target = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work")).toAbsolutePath().getParent();
        Path work = Files.createTempDirectory(Files.createDirectories(target), "install-guide-");
        Path transcript = work.resolveSibling(work.getFileName() + ".log");
        Script walkThrough = Script.of(blocks, true);
        long started = System.nanoTime();
        Optional<Integer> exit = Optional.empty();
        List<Long> leftRunning;
        try {
            exit = run(walkThrough, work, transcript);
        } finally {
            if (exit.isEmpty() || exit.get() != 0) {
                // the page stopped half-way: its own stop block, then whatever is left of what it started
                run(Script.of(stop, false), work, work.resolveSibling(work.getFileName() + "-stop.log"));
            }
            leftRunning = stopWhatThePageStarted(work);
        }
        String out = Files.readString(transcript, StandardCharsets.UTF_8);
        System.out.printf("install guide: %d sh blocks in %d s, exit %s, transcript %s%n", blocks.size(),
                Duration.ofNanos(System.nanoTime() - started).toSeconds(), exit.map(String::valueOf).orElse("none (timeout)"), transcript);

        assertThat(exit).as("the walk-through finished within %s; transcript %s", WALK_THROUGH_LIMIT, transcript).isPresent();
        assertThat(exit.get()).as("exit of the walk-through, %s%n%s%n%s", walkThrough.failedAt(out), tail(out, 40), serverLogs(work))
                .isZero();
        assertThat(out).as("bob's mail over IMAP, in %s", transcript)
                .contains("X-Auth-HMAC: v=1; a=hmac-sha256; d=a.example; s=k1;")
                .contains("Authentication-Results: mx.b.example; auth-hmac=pass reason=\"verified\" header.from=a.example");
        assertThat(leftRunning).as("processes the page started and its '%s' block did not stop", STOP_HEADING).isEmpty();
        deleteRecursively(work); // two copies of James's 120 MB libs/; the transcript stays
    }

    /** The {@code sh} blocks of a Markdown page, in order; other info strings (text, sh-example, sh-build) are not run. */
    static List<Block> shellBlocks(List<String> page) {
        List<Block> blocks = new ArrayList<>();
        String heading = "";
        for (int i = 0; i < page.size(); i++) {
            String line = page.get(i);
            if (line.startsWith("```")) {
                String info = line.substring(3).trim();
                int first = i + 2;
                List<String> body = new ArrayList<>();
                for (i++; i < page.size() && !page.get(i).startsWith("```"); i++) {
                    body.add(page.get(i));
                }
                if (info.equals("sh")) {
                    blocks.add(new Block(info, heading, first, body));
                }
            } else if (line.startsWith("#")) {
                heading = line.replaceFirst("^#+\\s*", "").trim();
            }
        }
        return blocks;
    }

    /** The blocks as one bash script, and which page line each script line came from. */
    record Script(String text, Map<Integer, Integer> pageLineOf) {
        static Script of(List<Block> blocks, boolean stopOnError) {
            StringBuilder text = new StringBuilder();
            Map<Integer, Integer> pageLine = new java.util.HashMap<>();
            int scriptLine = 0;
            List<String> prelude = stopOnError
                    ? List.of("set -euo pipefail", "trap 'echo \"install guide: exit $? at script line $LINENO\"' ERR")
                    : List.of("set +e");
            for (String line : prelude) {
                text.append(line).append('\n');
                scriptLine++;
            }
            for (Block block : blocks) {
                text.append("echo '### docs/INSTALL.md line ").append(block.firstLine()).append("'\n");
                scriptLine++;
                for (int i = 0; i < block.lines().size(); i++) {
                    text.append(block.lines().get(i)).append('\n');
                    pageLine.put(++scriptLine, block.firstLine() + i);
                }
            }
            return new Script(text.toString(), pageLine);
        }

        /** The page line of the command that failed, from the ERR trap's line in the transcript. */
        String failedAt(String transcript) {
            Matcher m = Pattern.compile("install guide: exit (\\d+) at script line (\\d+)").matcher(transcript);
            if (!m.find()) {
                return "no failing command reported";
            }
            Integer line = pageLineOf.get(Integer.parseInt(m.group(2)));
            return "exit " + m.group(1) + " at docs/INSTALL.md line " + (line == null ? "?" : line);
        }
    }

    /** Runs a script with bash in the folder, with the environment a reader's shell has plus SRC; empty on timeout. */
    private static Optional<Integer> run(Script script, Path work, Path transcript) throws IOException, InterruptedException {
        Path file = Path.of(transcript.toString().replaceFirst("\\.log$", ".sh"));
        Files.writeString(file, script.text(), StandardCharsets.UTF_8);
        ProcessBuilder pb = new ProcessBuilder("bash", file.toString()).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(transcript.toFile()));
        Map<String, String> env = pb.environment();
        Map<String, String> inherited = Map.copyOf(env);
        env.clear();
        env.put("PATH", readersPath(inherited));
        for (String keep : List.of("HOME", "USER", "LOGNAME", "LANG", "TMPDIR")) {
            if (inherited.containsKey(keep)) {
                env.put(keep, inherited.get(keep));
            }
        }
        env.put("SRC", JamesRuntime.repoPath("").toString());
        Process bash = pb.start();
        if (!bash.waitFor(WALK_THROUGH_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            bash.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            return Optional.empty();
        }
        return Optional.of(bash.exitValue());
    }

    /** PATH without the JDK that scripts/mvn put first: the page must find its Java 21+ itself, as on a reader's host. */
    private static String readersPath(Map<String, String> env) {
        String jdkBin = env.containsKey("JAVA_HOME") ? Path.of(env.get("JAVA_HOME"), "bin").toString() : null;
        return Stream.of(env.getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator))
                .filter(dir -> !dir.equals(jdkBin))
                .collect(Collectors.joining(File.pathSeparator));
    }

    /**
     * Waits for every process named in a *.pid file of the folder to end (30 s), then kills what is left, but only a
     * process whose command line names the folder: a pid reused by somebody else's process is left alone.
     * Returns the pids that were still running.
     */
    private static List<Long> stopWhatThePageStarted(Path work) throws IOException, InterruptedException {
        List<ProcessHandle> started = new ArrayList<>();
        try (Stream<Path> files = Files.list(work)) {
            for (Path pidFile : files.filter(f -> f.getFileName().toString().endsWith(".pid")).toList()) {
                String pid = Files.readString(pidFile).strip();
                if (pid.matches("\\d+")) {
                    ProcessHandle.of(Long.parseLong(pid))
                            .filter(p -> p.info().commandLine().map(c -> c.contains(work.toString())).orElse(false))
                            .ifPresent(started::add);
                }
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (started.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        List<Long> left = started.stream().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList();
        for (ProcessHandle p : started) {
            if (p.isAlive()) {
                p.destroyForcibly();
                try {
                    p.onExit().get(10, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    // reported through the returned list
                }
            }
        }
        return left;
    }

    private static void requireFreePorts(List<Block> blocks) {
        TreeSet<Integer> ports = new TreeSet<>();
        for (Block b : blocks) {
            Matcher m = PAGE_PORT.matcher(String.join("\n", b.lines()));
            while (m.find()) {
                ports.add(Integer.parseInt(m.group(1)));
            }
        }
        assertThat(ports).as("the page's fixed ports").isNotEmpty();
        for (int port : ports) {
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                // free
            } catch (IOException taken) {
                throw new IllegalStateException("127.0.0.1:" + port + ", a port docs/INSTALL.md uses, is taken (a walk-through "
                        + "still running from an earlier try?): " + taken.getMessage());
            }
        }
    }

    /** Skips outside CI, fails in CI (CI=true), as the TPM tests do with swtpm. */
    private static void requireTool(String tool) {
        boolean found = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
        if (found) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException(tool + " is not installed, and CI=true: the install guide must run in CI (apt-get install " + tool + ")");
        }
        Assumptions.abort(tool + " is not installed (apt-get install " + tool + "); skipping outside CI");
    }

    private static String serverLogs(Path work) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String log : List.of("james-a/james.log", "james-b/james.log")) {
            Path file = work.resolve(log);
            if (Files.exists(file)) {
                out.append("--- ").append(log).append(" (last 30 lines)\n").append(tail(Files.readString(file), 30)).append('\n');
            }
        }
        return out.toString();
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
