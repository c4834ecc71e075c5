package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
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
                "ansi_x3.4_1968, ascii", "ansi_x3.4-1968, ascii", "HZ-GB-2312, hz", "unicode-escape, unicode_escape", "punycode, punycode",
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
        /** The decoder table built afresh from codec names: each codec with the JDK charset that reads as Python's. */
        @Test
        void givesEachCodecTheJdkCharsetThatDecodesItAsPythonDoes() {
            Map<String, Function<byte[], String>> decoders = PythonCodecs.decoders(Map.of(
                    "utf_16", List.of("utf_16", "u16"), "utf_32", List.of("utf_32", "u32"),
                    "utf_8_sig", List.of("utf_8_sig"), "euc_jis_2004", List.of("euc_jis_2004", "eucjis2004"),
                    "shift_jis_2004", List.of("shift_jis_2004", "sjis_2004"), "iso2022_jp_2004", List.of("iso2022_jp_2004"),
                    "latin_1", List.of("latin_1", "l1"), "no_such_codec", List.of("no_such_codec")));
            Function<String, byte[]> bytes = text -> text.getBytes(StandardCharsets.ISO_8859_1);
            assertThat(decoders.get("utf_16").apply(bytes.apply("c\0@\0"))).isEqualTo("c@");
            assertThat(decoders.get("utf_32").apply(bytes.apply("@\0\0\0"))).isEqualTo("@");
            assertThat(decoders.get("utf_8_sig").apply(bytes.apply("\u00ef\u00bc\u00a0"))).isEqualTo("\uff20");
            assertThat(decoders.get("euc_jis_2004").apply(bytes.apply("\u00a1\u00f7"))).isEqualTo("\uff20");
            assertThat(decoders.get("shift_jis_2004").apply(bytes.apply("\u0081\u0097"))).isEqualTo("\uff20");
            assertThat(decoders.get("iso2022_jp_2004").apply(bytes.apply("\u001b$B!w\u001b(B"))).isEqualTo("\uff20");
            assertThat(decoders.get("latin_1").apply(bytes.apply("caf\u00e9"))).isEqualTo("caf\u00e9");
            assertThat(decoders).doesNotContainKey("no_such_codec").containsKeys("utf_7", "unicode_escape", "punycode");
        }

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
            assertThat(decoded("unicode_escape", "\\xG0\\u004G\\U00110000")).isEqualTo("\\xG0\\u004G\\U00110000");
            assertThat(decoded("unicode_escape", "ceo\\N")).isEqualTo("ceo\\N");
            assertThat(decoded("unicode_escape", "ceo\\N{COMMERCIAL AT")).isEqualTo("ceo\\N{COMMERCIAL AT");
        }

        @Test
        void decodesTheNulOctalAndLargestEscapesAndTheLineContinuation() {
            assertThat(decoded("unicode_escape", "\\x00\\u0000\\U00000000")).isEqualTo("\0\0\0");
            assertThat(decoded("unicode_escape", "\\0\\7\\12")).isEqualTo("\0\u0007\n");
            assertThat(decoded("unicode_escape", "\\1000")).as("at most three octal digits").isEqualTo("@0");
            assertThat(decoded("unicode_escape", "\\U0010FFFF")).isEqualTo("\udbff\udfff");
            assertThat(decoded("unicode_escape", "ceo\\\n@a")).isEqualTo("ceo@a");
            assertThat(decoded("unicode_escape", "\\N{COMMERCIAL AT}a.example")).isEqualTo("@a.example");
            assertThat(decoded("unicode_escape", "\\N{NULL}")).isEqualTo("\0");
        }

        /**
         * Not Python's: the JDK reads a character name with spaces around it. The closing brace is looked for within
         * 100 characters (longer than any name), so that reading stays linear.
         */
        @Test
        void readsACharacterNameOfAtMostAHundredCharacters() {
            String name = "COMMERCIAL AT" + " ".repeat(87);
            assertThat(decoded("unicode_escape", "\\N{" + name + "}")).isEqualTo("@");
            assertThat(decoded("unicode_escape", "\\N{" + name + " }")).isEqualTo("\\N{" + name + " }");
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "ceo\\u0040a|ceo@a", "ceo\\\\u0040a|ceo\\\\u0040a", "ceo\\\\\\u0040a|ceo\\\\@a", "\\x40\\U00000040|\\x40@",
        })
        void decodesRawUnicodeEscapeOnlyAfterAnOddNumberOfBackslashes(String bytes, String text) {
            assertThat(decoded("raw_unicode_escape", bytes)).isEqualTo(text);
        }

        @Test
        void decodesRawUnicodeEscapeUpToTheEndOfTheText() {
            assertThat(decoded("raw_unicode_escape", "ceo\\\\")).isEqualTo("ceo\\\\");
            assertThat(decoded("raw_unicode_escape", "a\\u0000")).isEqualTo("a\0");
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "ceoa.example-k050e|ceo\uff20a.example", "abc|\u0082\u0081\u0080", "-abc|\u0082\u0081\u0080", "ceo-|ceo",
                "bcher-kva|b\u00fccher", "ceo@a.example-|ceo@a.example",
                "ceoa.example-K050E|ceo\uff20a.example", "dn32g|\udbff\udfff",
                "ceoa.example-gq9y24k4y2o3t6r|\u65e5\u672c\u8a9eceo\uff20a.example",
                "ceoa.example-bz5v926kf9d8068e|\u65e5\u672c\u5979ceo\uff20a.example",
                "ceoa.example-BZ5V926KF9D8068E|\u65e5\u672c\u5979ceo\uff20a.example",
                "WDA2911KSBA4GBXB9CI4A9F|\u00ff\uff20\uff41\uff0e\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45",
                "ceo@a.example-yi18lqa|ceo\ud83d\ude00@\ud83d\ude01a.example",
                "egbpdaj6bu4bxfgehfvwxn|\u0644\u064a\u0647\u0645\u0627\u0628\u062a\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064a\u061f",
        })
        void decodesPunycodeAsAWholeText(String bytes, String text) {
            assertThat(decoded("punycode", bytes)).isEqualTo(text);
        }

        @Test
        void stopsAtABadPunycodeEncodingAndKeepsWhatItHas() {
            assertThat(decoded("punycode", "ceo-9")).isEqualTo("ceo");
            assertThat(decoded("punycode", "a-9999999999")).isEqualTo("a");
            assertThat(decoded("punycode", "ceo-qr157a")).as("U+110000").isEqualTo("ceo");
        }

        /** Python's integers have no bound: an insertion index up to 2^31 - 1 (a base of 2047 characters) is read. */
        @Test
        void decodesAPunycodeInsertionIndexUpToTheLargestInt() {
            assertThat(decoded("punycode", "a".repeat(2047) + "-w416146o"))
                    .isEqualTo("a".repeat(2047) + Character.toString(0x10007F));
        }

        /**
         * Python's punycode inserts lone surrogates as code points of their own; two adjacent ones pair up in a Java
         * String, which then holds fewer code points than Python's text: an insertion after a supplementary character
         * must still find its place (it threw IndexOutOfBoundsException out of the From scan).
         */
        @Test
        void decodesLoneSurrogatesThatPairUpBeforeASupplementaryInsertion() {
            assertThat(decoded("punycode", "x-qc4gm6hss60bga")).as("'\\ud800\\udc00\\U0001F600x\\U0001F601' in Python")
                    .isEqualTo("\ud800\udc00\ud83d\ude00x\ud83d\ude01");
        }

        @Test
        void hasNoDecoderForACodecThatIsNoTextEncoding() {
            assertThat(PythonCodecs.decoder("base64")).isEqualTo(Optional.empty());
        }
    }
}
