package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UntrustedTextTest {
    @ParameterizedTest(name = "U+{0}")
    @ValueSource(ints = {0x00, 0x09, 0x0A, 0x0D, 0x1B, 0x7F, 0x85, 0x9B, 0x9F, 0x200B, 0x200E, 0x200F, 0x2028, 0x2029,
            0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x061C, 0xFEFF, 0xD800})
    void replacesEveryControlFormatSeparatorAndBidiCharacterInALogValue(int cp) {
        String value = "bob" + new String(Character.toChars(cp)) + "@b.example";

        String logged = UntrustedText.forLog(value);

        assertThat(logged).isEqualTo("bob_@b.example");
    }

    @Test
    void aLogValueCannotStartALineOrHoldASpace() {
        assertThat(UntrustedText.forLog("x\r\nauth-hmac release mail=y")).doesNotContain("\r", "\n", " ");
        assertThat(UntrustedText.forLog("a\u00A0b")).isEqualTo("a_b");
        assertThat(UntrustedText.forLog(null)).isEqualTo("-");
    }

    @Test
    void keepsOrdinaryLettersOfAnyScript() {
        assertThat(UntrustedText.forLog("müller@bücher.example")).isEqualTo("müller@bücher.example");
        assertThat(UntrustedText.forNotice("Grüße aus Köln")).isEqualTo("Grüße aus Köln");
    }

    @Test
    void cutsALongValueAndSaysHowMuchWasCut() {
        assertThat(UntrustedText.forLog("x".repeat(UntrustedText.MAX_LENGTH + 50)))
                .hasSize(UntrustedText.MAX_LENGTH + "...(+50)".length()).endsWith("...(+50)");
    }

    @Test
    void aNoticeShowsLinksAndAddressesDefanged() {
        assertThat(UntrustedText.forNotice("log in at https://evil.example/login or HTTP://x.example"))
                .isEqualTo("log in at hxxps://evil[.]example/login or HxxP://x[.]example");
        assertThat(UntrustedText.forNotice("write to ceo@a.example or mailto:x@y.example"))
                .isEqualTo("write to ceo[@]a[.]example or mailto[:]x[@]y[.]example");
        assertThat(UntrustedText.forNotice("www.evil。example and evil．example")).isEqualTo("www[.]evil[.]example and evil[.]example");
        assertThat(UntrustedText.forNotice("ceo＠a[.]example")).contains("[@]");
    }

    /**
     * A link whose host has no dot (a decimal IPv4 address, an intranet name) is defanged only through its scheme, and
     * linkifiers find a scheme after a word character too: GitHub's after {@code _}, others after any letter.
     */
    @ParameterizedTest
    @ValueSource(strings = {"_", "x", "1", "é", "_-"})
    void aNoticeDefangsASchemeThatFollowsAWordCharacter(String before) {
        String notice = UntrustedText.forNotice("pay at " + before + "https://2130706433/pay, " + before + "HTTP://intranet/x, "
                + before + "file://evil/share, " + before + "mailto:ceo");

        assertThat(notice).doesNotContainIgnoringCase("https:").doesNotContainIgnoringCase("http:")
                .doesNotContainIgnoringCase("file:").doesNotContainIgnoringCase("mailto:");
    }

    @Test
    void aNoticeKeepsLineBreaksOutAndBidiOverridesVisible() {
        assertThat(UntrustedText.forNotice("invoice\r\nBcc: x \u202Efdp.exe")).isEqualTo("invoice  Bcc: x _fdp[.]exe");
    }
}
