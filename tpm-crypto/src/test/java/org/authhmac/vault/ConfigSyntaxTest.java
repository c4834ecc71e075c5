package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

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
}
