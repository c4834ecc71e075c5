package org.authhmac.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one message shaped against the verifier costs per byte, against a benign message of the same size in the
 * same run (AdversarialMessages has the shapes; BenchMain reports the ratio, goal at most 3). Both go through the
 * in-place path the validating matcher takes, with software period keys.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// -XX:+AlwaysPreTouch: the heap is touched at start-up, else the first pass through it pays a page fault per 4 KiB
// allocated, in the warm-up and beyond for a message that allocates a few MiB (as the tiny-field shapes do).
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public class AdversarialBenchmark {
    @Param({"tags-at-bound", "tags-beyond-bound", "long-h", "tiny-fields-unknown-key", "tiny-fields-known-key",
            "folded-signature", "folded-subject", "header-wsp-runs", "body-wsp-runs", "empty-lines", "bare-cr-body"})
    public String shape;

    AdversarialMessages.Shape messages;
    Verifier verifier;

    private static final List<String> RECIPIENT = List.of("bob@b.example");

    @Setup(Level.Trial)
    public void setup() {
        messages = AdversarialMessages.shape(shape);
        verifier = AdversarialMessages.verifier();
        // Twice each: the second run shows that a message that passes passes again (the replay cache forgets it).
        for (int i = 0; i < 2; i++) {
            Verdict a = verify(messages.adversarial());
            if (a.reason() != messages.expected()) {
                throw new IllegalStateException(shape + ": expected " + messages.expected() + ", got " + a);
            }
            Verdict b = verify(messages.benign());
            if (!(b instanceof Verdict.Pass)) {
                throw new IllegalStateException(shape + ": the benign message of the same size does not verify: " + b);
            }
        }
    }

    Verdict verify(byte[] message) {
        return verifier.verify(message, 0, message.length, Fixtures.ACCEPTED_AT, RECIPIENT).get("bob@b.example");
    }

    @Benchmark
    public Verdict adversarial() {
        return verify(messages.adversarial());
    }

    @Benchmark
    public Verdict benign() {
        return verify(messages.benign());
    }
}
