package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The From field's author domain as the strict parsers mail clients are built on read it. */
class StrictAuthorDomainTest {
    @Test
    void isTheDomainOfOneMailboxReadAlikeByBothParsers() {
        assertThat(StrictAuthorDomain.of("Ceo <CEO@A.Example>")).contains("a.example");
        assertThat(StrictAuthorDomain.of("Ceo\t<ceo@a.example>")).as("a tab is white space").contains("a.example");
        assertThat(StrictAuthorDomain.of("Ceo\r\n <ceo@a.example>")).as("folded").contains("a.example");
    }

    /** mime4j 0.8.9 (James 3.8.1) refuses any non-ASCII char, 0.8.13 (James 3.9) does not: both lines read these alike. */
    @ParameterizedTest
    @ValueSource(strings = {"J\u0080rg <j@a.example>", "\"J\u0080rg\" <j@a.example>", "J\u00f6rg <j@a.example>",
            "\u00ff <j@a.example>", "j@a.example (\u0080)"})
    void readsAnEightBitDisplayNameOrCommentAsAnyOther(String from) {
        assertThat(StrictAuthorDomain.of(from)).as(from).contains("a.example");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Ceo\u0001 <ceo@a.example>", "Ceo\u007F <ceo@a.example>", "Ceo <ceo@a.example>\u0000",
            "Ceo\u001B <ceo@a.example>", "\"Ceo\u0001\" <ceo@a.example>", "\"Ceo\u007F\" <ceo@a.example>",
            "ceo@a.example (\u0007)", "\"Ceo\\\u0001\" <ceo@a.example>"})
    void isAbsentWhenTheFieldHoldsAControlCharacter(String from) {
        assertThat(StrictAuthorDomain.of(from)).isEmpty();
    }

    @Test
    void isReadUpToTheFieldSizeBound() {
        String atTheBound = "ceo@a.example (" + "c".repeat(PartnerClaim.MAX_FIELD_CHARS - 16) + ")";

        assertThat(atTheBound).hasSize(PartnerClaim.MAX_FIELD_CHARS);
        assertThat(StrictAuthorDomain.of(atTheBound)).contains("a.example");
        assertThat(StrictAuthorDomain.of(atTheBound + " ")).isEmpty();
        assertThat(StrictAuthorDomain.of(null)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"<@relay.example:ceo@a.example>", "Ceo <@relay.example,@r2.example:ceo@a.example>",
            "Ceo < @relay.example : ceo@a.example >", "Ceo <@relay.example:ceo@a.example> (x)"})
    void isAbsentForASourceRoute(String from) {
        assertThat(StrictAuthorDomain.of(from)).isEmpty();
    }
}
