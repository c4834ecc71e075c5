package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

import org.authhmac.protocol.Canonicalization;
import org.junit.jupiter.api.Test;

class ConfigSyntaxTest {

    @Test
    void aBooleanIsTrueFalseYesNoOrOnOffInAnyCaseAndNothingElse() {
        for (String yes : new String[] {"true", "YES", " On "}) {
            assertThat(ConfigSyntax.bool(yes)).as(yes).contains(true);
        }
        for (String no : new String[] {"false", "No", "OFF"}) {
            assertThat(ConfigSyntax.bool(no)).as(no).contains(false);
        }
        for (String other : new String[] {"ture", "1", "0", "", "enabled", "y"}) {
            assertThat(ConfigSyntax.bool(other)).as(other).isEmpty();
        }
    }

    @Test
    void keyIdsAndPartnerKeysetNamesAreOneToSixtyFourLettersDigitsDotsUnderscoresOrHyphens() {
        assertThat(ConfigSyntax.isKeyId("k1.b_2-x")).isTrue();
        assertThat(ConfigSyntax.isKeyId("k".repeat(64))).isTrue();
        assertThat(ConfigSyntax.isKeyId("k".repeat(65))).isFalse();
        assertThat(ConfigSyntax.isKeyId("")).isFalse();
        assertThat(ConfigSyntax.isKeyId("k 1")).isFalse();
        assertThat(ConfigSyntax.isPartnerKeyset("partner-b")).isTrue();
        assertThat(ConfigSyntax.isPartnerKeyset("user:alice@b.example")).isFalse();
        assertThat(ConfigSyntax.isPartnerKeyset("k\u00e9")).isFalse();
    }

    @Test
    void aDomainIsReadInTheProtocolsFormAndAnythingElseIsEmpty() {
        assertThat(ConfigSyntax.domain(" A.Example. ")).contains("a.example");
        assertThat(ConfigSyntax.domain("bücher.example")).contains("xn--bcher-kva.example");
        for (String no : new String[] {"", ".", "a..example", "-a.example", "a-.example", "a_b.example", "a b.example",
                "a".repeat(64) + ".example"}) {
            assertThat(ConfigSyntax.domain(no)).as(no).isEmpty();
        }
    }

    @Test
    void aCanonicalizationIsReadAsTheProtocolReadsC() {
        assertThat(ConfigSyntax.canonicalization("relaxed/simple")).hasValueSatisfying(c -> {
            assertThat(c.header()).isEqualTo(Canonicalization.RELAXED);
            assertThat(c.body()).isEqualTo(Canonicalization.SIMPLE);
        });
        assertThat(ConfigSyntax.canonicalization("relaxed")).hasValueSatisfying(
                c -> assertThat(c.body()).isEqualTo(Canonicalization.SIMPLE));
        assertThat(ConfigSyntax.canonicalization("loose/relaxed")).isEmpty();
    }
}
