package org.authhmac.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.authhmac.protocol.Verdict;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

class AdversarialMessagesTest {
    static final List<String> SHAPES = AdversarialMessages.SHAPES;

    @ParameterizedTest
    @FieldSource("SHAPES")
    void eachShapeGetsItsVerdictAndHasABenignTwinOfTheSameSize(String shape) {
        AdversarialMessages.Shape s = AdversarialMessages.shape(shape);

        Verdict adversarial = AdversarialMessages.verifier().verify(s.adversarial(), 0, s.adversarial().length,
                Fixtures.ACCEPTED_AT, List.of("bob@b.example")).get("bob@b.example");
        Verdict benign = AdversarialMessages.verifier().verify(s.benign(), 0, s.benign().length,
                Fixtures.ACCEPTED_AT, List.of("bob@b.example")).get("bob@b.example");

        assertThat(adversarial.reason()).as("%s: %s", shape, adversarial).isEqualTo(s.expected());
        assertThat(benign).isInstanceOf(Verdict.Pass.class);
        assertThat(s.benign().length).isBetween(s.adversarial().length - 700, s.adversarial().length + 700);
        assertThat(AdversarialMessages.shape(shape).adversarial()).as("the same bytes every time").isEqualTo(s.adversarial());
    }

    @org.junit.jupiter.api.Test
    void theBenchmarkRunsEveryShape() throws Exception {
        String[] values = AdversarialBenchmark.class.getField("shape").getAnnotation(org.openjdk.jmh.annotations.Param.class).value();

        assertThat(values).containsExactlyElementsOf(SHAPES);
    }
}
