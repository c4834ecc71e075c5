package org.authhmac.bench;

import java.util.concurrent.TimeUnit;
import org.authhmac.james.matchers.FromClaims;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the matcher's decision "must this mail be verified?" costs for one From field: every reading of it (two
 * parsers, strict and lenient, encoded words decoded as Python's email does, the scan for an address), for the
 * costliest fields within the readings' bounds ({@link FromScanShapes}) against an ordinary one. The budget a single
 * mail must stay under: docs/PERFORMANCE.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class FromScanBenchmark {
    @Param({"benign", "adjacent-utf7-runs", "adjacent-latin-words", "adjacent-words-no-space", "one-long-utf7-word",
            "spaces-between-words", "utf7-plusses", "look-aheads", "punycode-words", "punycode-long-front",
            "unicode-escape-names"})
    public String field;

    private String from;

    @Setup
    public void setup() {
        from = FromScanShapes.all().get(field);
        if (from == null) {
            throw new IllegalArgumentException("unknown From field shape " + field);
        }
        if (FromClaims.basis(from, "a.example").equals("FROM_OVER_BOUND")) {
            throw new IllegalStateException(field + " is refused unread: it measures nothing of the readings");
        }
    }

    @Benchmark
    public String decide() {
        return FromClaims.basis(from, "a.example");
    }
}
