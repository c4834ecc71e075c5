package org.authhmac.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What is written to System.err while a test's action runs: where slf4j-simple logs, the audit lines (logger
 * org.authhmac.audit) too. System.err is put back whatever the action does.
 */
public final class Stderr {
    private Stderr() {
    }

    /** A test's action: it may throw anything. */
    public interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Every line written to System.err while {@code action} runs. */
    public static List<String> lines(ThrowingRunnable action) throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    /** The lines written to System.err while {@code action} runs that contain {@code text}. */
    public static List<String> linesContaining(String text, ThrowingRunnable action) throws Exception {
        return lines(action).stream().filter(l -> l.contains(text)).toList();
    }
}
