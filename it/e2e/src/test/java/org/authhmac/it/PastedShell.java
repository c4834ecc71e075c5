package org.authhmac.it;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One bash, as a reader of the demo's banner has it open in a folder of their own: lines pasted into it run there in
 * order, in the same shell (a variable one line sets is there for the next), with the environment a reader's shell
 * has (PATH without the JDK scripts/mvn put first, no JAVA_HOME). The lines reach bash on a descriptor of their own
 * and each runs with /dev/null as its input, so that no command can swallow the lines pasted after it. Everything
 * pasted and printed goes to a transcript.
 */
final class PastedShell implements AutoCloseable {
    private static final String EOF = "\u0000eof";
    private final Process bash;
    private final Writer in;
    private final BlockingQueue<String> out = new LinkedBlockingQueue<>();
    private final StringBuilder transcript = new StringBuilder();
    private final String mark = "pasted-line-done-" + UUID.randomUUID() + " ";

    /** What a pasted line printed (standard output and error) and its exit status. */
    record Ran(String line, String output, int status) {
    }

    PastedShell(Path cwd) {
        // the lines come on fd 3; each runs with fd 3 closed and stdin from /dev/null
        String loop = "exec 3<&0 </dev/null; while IFS= read -r -u 3 line; do eval \"$line\" 3<&-; printf '%s%d\\n' '"
                + mark + "' \"$?\"; done";
        ProcessBuilder pb = new ProcessBuilder("bash", "--norc", "--noprofile", "-c", loop).directory(cwd.toFile())
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        Map<String, String> inherited = Map.copyOf(env);
        env.clear();
        env.put("PATH", readersPath(inherited));
        for (String keep : List.of("HOME", "USER", "LOGNAME", "LANG", "TMPDIR")) {
            if (inherited.containsKey(keep)) {
                env.put(keep, inherited.get(keep));
            }
        }
        try {
            bash = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        in = new OutputStreamWriter(bash.getOutputStream(), StandardCharsets.UTF_8);
        Thread.ofPlatform().daemon().name("pasted-shell-out").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(bash.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    out.add(line);
                }
            } catch (IOException e) {
                // the shell is gone; the EOF below ends any wait
            }
            out.add(EOF);
        });
    }

    /**
     * Pastes the lines at once, as a reader pastes a block: each runs as soon as the one before it ends. Stops at the
     * first line that exits non-zero, or that has not ended within {@code eachWithin}, and fails there.
     */
    List<Ran> paste(List<String> lines, Duration eachWithin) {
        List<Ran> ran = new ArrayList<>();
        for (String line : lines) {
            Ran r = run(line, eachWithin);
            if (r.status() != 0) {
                throw new AssertionError("pasted line exited " + r.status() + ": " + line + "\ntranscript:\n" + transcript());
            }
            ran.add(r);
        }
        return ran;
    }

    /** Runs one line and returns what it printed and its status, whatever that is. */
    Ran run(String line, Duration within) {
        if (line.contains("\n")) {
            throw new IllegalArgumentException("one line at a time: " + line);
        }
        transcript.append("$ ").append(line).append('\n');
        try {
            in.write(line + "\n");
            in.flush();
        } catch (IOException e) {
            throw new AssertionError("the shell is gone\ntranscript:\n" + transcript(), e);
        }
        StringBuilder printed = new StringBuilder();
        long started = System.nanoTime();
        long deadline = started + within.toNanos();
        while (true) {
            String got;
            try {
                got = out.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
            if (got == null || got.equals(EOF)) {
                transcript.append(printed);
                throw new AssertionError((got == null ? "pasted line did not end within " + within : "the shell ended")
                        + ": " + line + "\ntranscript:\n" + transcript());
            }
            int at = got.indexOf(mark);
            if (at >= 0) {
                // a command whose output has no final newline leaves it in front of the mark
                printed.append(got, 0, at);
                int status = Integer.parseInt(got.substring(at + mark.length()).strip());
                transcript.append(printed).append(printed.isEmpty() || printed.charAt(printed.length() - 1) == '\n' ? "" : "\n")
                        .append("# exit ").append(status).append(", ").append((System.nanoTime() - started) / 1_000_000).append(" ms\n");
                return new Ran(line, printed.toString(), status);
            }
            printed.append(got).append('\n');
        }
    }

    /** A shell variable as the pasted lines left it. */
    String variable(String name) {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException(name);
        }
        return run("printf '%s' \"$" + name + "\"", Duration.ofSeconds(10)).output();
    }

    String transcript() {
        return transcript.toString();
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!bash.waitFor(10, TimeUnit.SECONDS)) {
                bash.destroyForcibly();
            }
        } catch (InterruptedException e) {
            bash.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** PATH without the JDK that scripts/mvn put first: the banner's commands must find their Java 21+ themselves. */
    private static String readersPath(Map<String, String> env) {
        String jdkBin = env.containsKey("JAVA_HOME") ? Path.of(env.get("JAVA_HOME"), "bin").toString() : null;
        return Stream.of(env.getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator))
                .filter(dir -> !dir.equals(jdkBin))
                .collect(Collectors.joining(File.pathSeparator));
    }
}
