package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ReplayIdsTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "bob@b.example | bob@b.example",
            "BOB@B.Example | bob@b.example",
            "bob+x@b.example | bob@b.example",
            "bob+x+y@b.example | bob@b.example",
            "\"bob\"@b.example | bob@b.example",
            "\"b\\ob\"@b.example | bob@b.example",
            "\"Bob+x\"@b.example | bob@b.example",
            "<bob+x@b.example> | bob@b.example",
            " bob@b.example. | bob@b.example",
            "bob@B\u00fccher.example | bob@xn--bcher-kva.example",
            "first.last@b.example | first.last@b.example",
            "\"bob smith\"@b.example | \"bob smith\"@b.example",
            "\"Bob\\ Smith+x\"@b.example | \"bob smith\"@b.example",
            "\"a@b\"@b.example | \"a@b\"@b.example",
            "+x@b.example | \"\"@b.example",
            "\"\"@b.example | \"\"@b.example",
            "@b.example | \"\"@b.example",
            "\"bob\\\"@b.example | \"bob\\\\\"@b.example",
            "b.example | b.example",
    })
    void isTheReceivingMailboxNotTheAddressAsTyped(String recipient, String id) {
        assertThat(ReplayIds.of(recipient, "+")).isEqualTo(id);
    }

    @ParameterizedTest(name = "separator ''{0}''")
    @ValueSource(strings = {"", "-"})
    void keepsThePlusWhenAnotherOrNoSeparatorIsConfigured(String separator) {
        assertThat(ReplayIds.of("bob+x@b.example", separator)).isEqualTo("bob+x@b.example");
    }

    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {"", "+", "-", "--", "=", "#", "_", "!", "~", "!#$%&'*+"})
    void acceptsNoSeparatorOrAtextSymbols(String separator) {
        assertThat(ReplayIds.isSeparator(separator)).isTrue();
    }

    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {"a", "1", "@", ".", " ", "\"", "+++++++++"})
    void refusesLettersDigitsSpecialsAndLongSeparators(String separator) {
        assertThat(ReplayIds.isSeparator(separator)).isFalse();
    }
}
