package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CanonicalizationPolicyTest {

    @ParameterizedTest(name = "c={0}")
    @CsvSource({
            "relaxed/relaxed, RELAXED, RELAXED, relaxed/relaxed",
            "simple/simple, SIMPLE, SIMPLE, simple/simple",
            "simple/relaxed, SIMPLE, RELAXED, simple/relaxed",
            "Relaxed/SIMPLE, RELAXED, SIMPLE, relaxed/simple",
            "relaxed, RELAXED, SIMPLE, relaxed/simple",
            "SIMPLE, SIMPLE, SIMPLE, simple/simple"})
    void readsHeaderAndBodyWithALoneAlgorithmNamingTheHeaders(String c, Canonicalization header, Canonicalization body,
                                                             String tag) {
        CanonicalizationPolicy policy = CanonicalizationPolicy.fromTag(c);

        assertThat(policy.header()).isEqualTo(header);
        assertThat(policy.body()).isEqualTo(body);
        assertThat(policy.tag()).isEqualTo(tag);
        assertThat(CanonicalizationPolicy.of(header, body)).isSameAs(policy);
    }

    @ParameterizedTest(name = "c={0}")
    @ValueSource(strings = {"", "/", "relaxed/", "/relaxed", "relaxed/relaxed/relaxed", "nofws", "relaxed/simple ", "relaxed;"})
    void refusesAnythingElse(String c) {
        assertThatThrownBy(() -> CanonicalizationPolicy.fromTag(c)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("c= must be simple or relaxed");
    }
}
