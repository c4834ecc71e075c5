package org.authhmac.protocol.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.authhmac.protocol.Verdict;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole verifier on arbitrary message bytes. It has no checked exception to throw: every input must give
 * one verdict per recipient. With in-memory keys and a roomy replay cache nothing can be temporarily
 * unavailable, so a temperror here can only mean that an unchecked exception was caught inside (the verifier
 * fails closed on those): that counts as a finding too.
 */
class VerifierFuzzTest {
    private static final List<String> RECIPIENTS = List.of(FuzzFixtures.RECIPIENT, "b.example", "carol@c.example");

    static Stream<Arguments> seeds() {
        return FuzzSeeds.of("verifier");
    }

    @MethodSource("seeds")
    @FuzzTest
    void givesEveryRecipientAVerdictForAnyMessageBytes(byte[] message) {
        Map<String, Verdict> verdicts = FuzzFixtures.verifier()
                .verify(new ByteArrayInputStream(message), FuzzFixtures.ACCEPTED_AT, RECIPIENTS);

        assertThat(verdicts).containsOnlyKeys(RECIPIENTS);
        // The in-place path (the matcher's) on a fresh verifier decides exactly the same.
        assertThat(FuzzFixtures.verifier().verify(message, 0, message.length, FuzzFixtures.ACCEPTED_AT, RECIPIENTS))
                .isEqualTo(verdicts);
        for (Verdict v : verdicts.values()) {
            assertThat(v).isNotNull();
            assertThat(v).as("fail-closed catch-all hides an unchecked exception: %s", v)
                    .isNotInstanceOf(Verdict.TempError.class);
            assertThat(v.detail()).isNotNull();
            if (v instanceof Verdict.Pass) {
                assertThat(v.signature()).isPresent();
            }
        }
    }
}
