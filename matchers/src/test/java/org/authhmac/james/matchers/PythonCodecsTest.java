package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Expected values are Python 3.11's (codecs.lookup(label), bytes.decode(codec)) unless a test says otherwise. */
class PythonCodecsTest {
    private static String decoded(String label, String bytes) {
        return PythonCodecs.decoder(label).orElseThrow().apply(bytes.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Nested
    class Labels {
        @ParameterizedTest
        @CsvSource({
                "utf-7, utf_7", "UTF-7, utf_7", "utf7, utf_7", "u7, utf_7", "UTF_7, utf_7", "unicode_1_1_utf_7, utf_7",
                "unicode-1-1-utf-7, utf_7", "' utf-7 ', utf_7", "utf--7, utf_7", "UTF 7, utf_7",
                "utf-8, utf_8", "utf_8, utf_8", "u8, utf_8", "utf, utf_8", "cp65001, utf_8", "utf8_ucs2, utf_8",
                "latin-1, latin_1", "l1, latin_1", "iso-8859-1, latin_1", "8859, latin_1", "us-ascii, ascii",
                "u16, utf_16", "unicodebigunmarked, utf_16_be", "utf_32le, utf_32_le", "ks_c_5601-1987, euc_kr",
                "ansi_x3.4_1968, ascii", "ansi_x3.4-1968, ascii", "unicode-escape, unicode_escape", "punycode, punycode",
        })
        void readsTheLabelAsPythonsCodecsDo(String label, String codec) {
            assertThat(PythonCodecs.codec(label)).as(label).contains(codec);
        }

        /** A module name with a dot is never imported; x-utf-7 and utf-7-imap are no Python names. */
        @ParameterizedTest
        @ValueSource(strings = {"utf.7", "x-utf-7", "utf-7-imap", "", "aliases", "mbcs"})
        void knowsNoLabelPythonDoesNotKnow(String label) {
            assertThat(PythonCodecs.codec(label)).as(label).isEmpty();
        }

        @Test
        void normalisesEveryRunOfOtherCharactersToOneUnderscore() {
            assertThat(PythonCodecs.normalised(" -UTF;#\u00e97..8-")).isEqualTo("utf_7..8");
        }
    }

    @Nested
    class Decoders {
        @Test
        void decodesUtf16WithoutByteOrderMarkAsLittleEndianAndWithOneAsItSays() {
            assertThat(decoded("utf-16", "c\0@\0")).isEqualTo("c@");
            assertThat(decoded("utf-16", "\u00fe\u00ff\0c")).isEqualTo("c");
            assertThat(decoded("utf-32", "c\0\0\0")).isEqualTo("c");
        }

        @Test
        void decodesUtf8UnderItsPythonAliases() {
            assertThat(decoded("u8", "\u00ef\u00bc\u00a0")).isEqualTo("\uff20");
        }

        @Test
        void decodesTheJisX0213CodecsAsTheirJisX0208Subset() {
            assertThat(decoded("shift_jis_2004", "\u0081\u0097")).isEqualTo("\uff20");
            assertThat(decoded("euc_jis_2004", "\u00a1\u00f7")).isEqualTo("\uff20");
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "ceo\\u0040a|ceo@a", "ceo\\\\u0040a|ceo\\u0040a", "\\x40\\101\\N{COMMERCIAL AT}\\'\\z|@A@'\\z",
        })
        void decodesUnicodeEscapeAsAPythonStringLiteral(String bytes, String text) {
            assertThat(decoded("unicode_escape", bytes)).isEqualTo(text);
        }

        /**
         * Python's {@code \N{...}} knows every name alias of Unicode's NameAliases.txt (SHY, ZWSP, BOM, ...) and the
         * names Unicode gives by rule (Hangul syllables, CJK unified ideographs), which the JDK's
         * Character.codePointOf does not: an alias hides a soft hyphen or a zero-width space in an address as well.
         */
        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "\\N{SHY}|\u00ad", "\\N{zwsp}|\u200b", "\\N{BYTE ORDER MARK}|\ufeff", "\\N{ZWNJ}|\u200c",
                "\\N{HANGUL SYLLABLE GA}|\uac00", "\\N{HANGUL SYLLABLE GGAG}|\uae4d", "\\N{HANGUL SYLLABLE A}|\uc544",
                "\\N{HANGUL SYLLABLE HIH}|\ud7a3", "\\N{CJK UNIFIED IDEOGRAPH-4E00}|\u4e00",
                "\\N{CJK UNIFIED IDEOGRAPH-2A6DF}|\ud869\udedf",
        })
        void decodesTheCharacterNamesPythonKnowsBeyondTheJdks(String bytes, String text) {
            assertThat(decoded("unicode_escape", bytes)).isEqualTo(text);
        }

        /** Python reads the Hangul and CJK names in upper case only, and only for a syllable or an ideograph. */
        @ParameterizedTest
        @ValueSource(strings = {
                "\\N{hangul syllable ga}", "\\N{HANGUL SYLLABLE }", "\\N{HANGUL SYLLABLE GX}", "\\N{HANGUL SYLLABLE GAX}",
                "\\N{CJK UNIFIED IDEOGRAPH-4e00}", "\\N{CJK UNIFIED IDEOGRAPH-E000}", "\\N{CJK UNIFIED IDEOGRAPH-4E0}",
                "\\N{CJK UNIFIED IDEOGRAPH-004E00}", "\\N{CJK UNIFIED IDEOGRAPH-4E0G}", "\\N{NO SUCH ALIAS}",
        })
        void keepsACharacterNamePythonDoesNotKnowAsItStands(String bytes) {
            assertThat(decoded("unicode_escape", bytes)).isEqualTo(bytes);
        }

        /** Python refuses these (unknown name, short {@code \x}, a final backslash); another reader may not. */
        @Test
        void keepsAnEscapePythonRefusesAsItStands() {
            assertThat(decoded("unicode_escape", "\\U00000040\\N{NO SUCH NAME}\\x4"))
                    .isEqualTo("@\\N{NO SUCH NAME}\\x4");
            assertThat(decoded("unicode_escape", "caf\u00e9\\")).isEqualTo("caf\u00e9\\");
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "ceo\\u0040a|ceo@a", "ceo\\\\u0040a|ceo\\\\u0040a", "ceo\\\\\\u0040a|ceo\\\\@a", "\\x40\\U00000040|\\x40@",
        })
        void decodesRawUnicodeEscapeOnlyAfterAnOddNumberOfBackslashes(String bytes, String text) {
            assertThat(decoded("raw_unicode_escape", bytes)).isEqualTo(text);
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "ceoa.example-k050e|ceo\uff20a.example", "abc|\u0082\u0081\u0080", "-abc|\u0082\u0081\u0080", "ceo-|ceo",
                "bcher-kva|b\u00fccher", "ceo@a.example-|ceo@a.example",
                "egbpdaj6bu4bxfgehfvwxn|\u0644\u064a\u0647\u0645\u0627\u0628\u062a\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064a\u061f",
        })
        void decodesPunycodeAsAWholeText(String bytes, String text) {
            assertThat(decoded("punycode", bytes)).isEqualTo(text);
        }

        @Test
        void stopsAtABadPunycodeEncodingAndKeepsWhatItHas() {
            assertThat(decoded("punycode", "ceo-9")).isEqualTo("ceo");
            assertThat(decoded("punycode", "a-9999999999")).isEqualTo("a");
        }

        @Test
        void hasNoDecoderForACodecThatIsNoTextEncoding() {
            assertThat(PythonCodecs.decoder("base64")).isEqualTo(Optional.empty());
        }
    }
}
