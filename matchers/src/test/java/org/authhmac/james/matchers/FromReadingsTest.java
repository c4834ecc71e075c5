package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which domains a From field is read as naming, and when it is clear. An attacker writes the field so that one
 * reader sees the partner and another does not; each case here is a form only some readings catch.
 */
class FromReadingsTest {
    static FromReadings.Reading read(String from) {
        return FromReadings.read(from);
    }

    /** The UTF-8 bytes of the text, one char per byte: how jakarta.mail reads an RFC 6532 header by default. */
    static String utf8BytesAsChars(String text) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    @Nested
    class StrictReaders {
        @Test
        void aMailboxOnlyMime4jReadsStrictlyLeavesTheFieldClear() {
            // jakarta.mail refuses the dot-dot local part; mime4j's strict parser reads it with its domain
            FromReadings.Reading reading = read("x..y@evil.example");

            assertThat(reading.domains()).containsExactly("evil.example");
            assertThat(reading.clear()).isTrue();
        }

        /** A punycode word whose lone surrogates pair up in Java: read (the scan threw, "never throws"). */
        @Test
        void aPunycodeWordOfPairingLoneSurrogatesIsRead() {
            FromReadings.Reading reading = read("=?punycode?q?x-qc4gm6hss60bga?= <ceo@a.example>");

            assertThat(reading.domains()).contains("a.example");
        }

        @Test
        void aPlainAddressIsReadAsItsDomainAndLeavesTheFieldClear() {
            FromReadings.Reading reading = read("Ceo <ceo@A.Example>");

            assertThat(reading.domains()).containsExactly("a.example");
            assertThat(reading.clear()).isTrue();
        }

        @Test
        void aBadlyPaddedBase64WordMime4jFailsOnLeavesAFieldJakartaRefusesUnclear() {
            FromReadings.Reading reading = read("=?utf-8?b?=QQA?= <x..y@evil.example>");

            assertThat(reading.domains()).containsExactly("evil.example");
            assertThat(reading.clear()).isFalse();
        }

        @ParameterizedTest
        @ValueSource(strings = {
                "=?x-unknown?q?J=F6rg?= <x..y@evil.example>",
                "=?utf-8?q?J=C3=B6rg?= <x..y@evil.example>",
                "=?x-unknown*de?q?J=F6rg?= =?utf-8?q?M=C3=BCller?= <x..y@evil.example>",
        })
        void anEncodedDisplayNameInAnyCharsetLeavesAFieldMime4jReadsClear(String from) {
            // mime4j's strict parser fails on a charset name Java does not know: the name is read as ISO-8859-1
            FromReadings.Reading reading = read(from);

            assertThat(reading.domains()).containsExactly("evil.example");
            assertThat(reading.clear()).isTrue();
        }

        @Test
        void mime4jsPlainErrorIsAParseFailureAndAnyOtherErrorIsRethrown() {
            assertThat(FromReadings.mime4jDecodingError(new Error("java.io.IOException: Unexpected padding character")))
                    .isFalse();
            StackOverflowError other = new StackOverflowError();
            assertThatThrownBy(() -> FromReadings.mime4jDecodingError(other)).isSameAs(other);
        }
    }

    @Nested
    class DomainLength {
        /** Three labels of 63 characters and a last one of the rest. */
        static String domainOf(int chars) {
            return ("a".repeat(63) + ".").repeat(3) + "a".repeat(chars - 3 * 64);
        }

        @Test
        void aDomainOfTheMaximum255CharactersIsReadAndTheFieldStaysClear() {
            String domain = domainOf(FromReadings.MAX_DOMAIN_CHARS);

            FromReadings.Reading reading = read("x@" + domain);

            assertThat(domain).hasSize(255);
            assertThat(reading.domains()).containsExactly(domain);
            assertThat(reading.clear()).isTrue();
        }

        @Test
        void aDomainOf256CharactersLeavesTheFieldUnclear() {
            assertThat(read("x@" + domainOf(FromReadings.MAX_DOMAIN_CHARS + 1)).clear()).isFalse();
        }

        @Test
        void anOverlongDomainInTheDisplayNameLeavesTheFieldUnclear() {
            FromReadings.Reading reading = read("\"x@" + "a".repeat(300) + "\" <x@evil.example>");

            assertThat(reading.clear()).isFalse();
        }

        @Test
        void freeTextAfterAnAddressInTheDisplayNameIsNoOverlongDomain() {
            String words = "and the board of directors of the company ".repeat(10);
            assertThat(words.length()).isGreaterThan(FromReadings.MAX_DOMAIN_CHARS);

            FromReadings.Reading reading = read("\"ceo@b.example " + words + "\" <x@evil.example>");

            assertThat(reading.domains()).contains("b.example", "evil.example");
            assertThat(reading.clear()).isTrue();
        }

        @Test
        void freeTextAfterAnAddressInTheDisplayNameWithNoBreakSpacesIsNoOverlongDomain() {
            // the right single quote (beyond Latin-1) keeps the other 8-bit reading of the no-break spaces a space
            String words = "the\u00A0board\u2019s\u00A0directors\u00A0".repeat(12);

            FromReadings.Reading reading = read("\"ceo@b.example\u00A0" + words + "\" <x@evil.example>");

            assertThat(reading.clear()).isTrue();
        }

        @Test
        void textJoinedAcrossWhitespaceIsADomainUpTo255Characters() {
            String tail = "b".repeat(FromReadings.MAX_DOMAIN_CHARS - 1);

            assertThat(read("\"x@a " + tail + "\" <x@evil.example>").domains()).contains("a" + tail);
            assertThat(read("\"x@a " + tail + "b\" <x@evil.example>").domains()).doesNotContain("a" + tail + "b");
        }
    }

    @Nested
    class WhitespaceInTheDisplayName {
        @Test
        void anAddressFollowedByWordsIsReadUpToTheFirstSpace() {
            assertThat(read("\"ceo@a.example on behalf\" <x@evil.example>").domains())
                    .contains("a.example", "evil.example");
        }

        @Test
        void aDomainSplitByASpaceIsAlsoReadJoined() {
            assertThat(read("\"ceo@a.exam ple\" <x@evil.example>").domains()).contains("a.example");
        }

        @Test
        void aCommaEndsTheDomain() {
            assertThat(read("\"ceo@a.example, CFO\" <x@evil.example>").domains()).contains("a.example");
        }
    }

    @Nested
    class FullWidthForms {
        static final String FULL_WIDTH = "\uFF43\uFF45\uFF4F\uFF20\uFF41\uFF0E\uFF45\uFF58\uFF41\uFF4D\uFF50\uFF4C\uFF45";

        @Test
        void anAddressWrittenWhollyInFullWidthFormsIsRead() {
            assertThat(read(FULL_WIDTH).domains()).contains("a.example");
        }

        @Test
        void aWhollyFullWidthAddressWithAnInvisibleMarkIsRead() {
            // IDNA refuses the right-to-left mark: only the text without it reads as the partner
            String marked = FULL_WIDTH.replace("\uFF45\uFF58", "\uFF45\u200F\uFF58");

            assertThat(read(marked).domains()).contains("a.example");
        }

        @Test
        void aWhollyFullWidthAddressInUtf8ReadOneCharPerByteIsRead() {
            String bytes = utf8BytesAsChars(FULL_WIDTH);
            assertThat(bytes.chars()).allMatch(c -> c >= 0x80);

            assertThat(read(bytes).domains()).contains("a.example");
        }

        @ParameterizedTest
        @ValueSource(strings = {"\uFF20a.example", "\uFE6Ba.example"})
        void aFieldThatStartsWithAFullWidthOrSmallAtIsRead(String from) {
            assertThat(read(from).domains()).contains("a.example");
        }
    }

    /** What the parsers themselves return, beside the scan. */
    @Nested
    class ParserReadings {
        @ParameterizedTest
        @ValueSource(strings = {"ceo@a.example Sales", "@a.example Sales"})
        void jakartaMailsLenientReadingTakesTheWordsAfterAnAddressIntoItsDomain(String from) {
            assertThat(read(from).domains()).as(from)
                    .containsExactlyInAnyOrder("a.example", "a.example sales", "a.examplesales");
        }

        /**
         * A line break not followed by whitespace is no folding: unfolded, the words run together; jakarta.mail's
         * lenient list parser (not its header parser) ends the address there, as a reader that shows the line does.
         */
        @ParameterizedTest
        @ValueSource(strings = {"ceo@a.example\nSales", "ceo@a.example\r\nSales", "ceo@a.example\rSales"})
        void anAddressThatALineBreakEndsIsRead(String from) {
            assertThat(read(from).domains()).contains("a.example", "a.examplesales");
        }

        @Test
        void aDomainAParserReturnsIsReadAsItStandsAndInNfkc() {
            // IDNA refuses the right-to-left mark, so the full-width letter stays in the domain as it stands
            assertThat(read("ceo@\uFF41.example\u200F Sales").domains())
                    .contains("\uFF41.example\u200F sales", "a.example\u200F sales");
        }

        @Test
        void mime4jsLenientParserCountsBytesSoADomainAfterATwoByteCharacterReachesItCut() {
            // as James's IMAP ENVELOPE shows it
            assertThat(read("\u0101 <x@b.example>").domains()).containsExactlyInAnyOrder("b.example", "b.exampl");
        }
    }

    @Nested
    class QuotesInTheDisplayName {
        @Test
        void aQuotedWordFollowedByAnAtomIsReadUpToTheQuote() {
            // RFC 5322 phrase: two words; readers show them with or without a space between
            assertThat(read("\"ceo@a.example\"Sales <x@evil.example>").domains()).contains("a.example", "a.examplesales");
        }

        @Test
        void quotesInsideADecodedDomainAreDropped() {
            assertThat(read("=?utf-8?q?ceo=40a.\"example\"?= <x@evil.example>").domains()).contains("a.example");
        }

        @Test
        void aNulInsideThePartnerAddressIsDroppedOrEndsIt() {
            assertThat(read("\"ceo@a.ex\u0000ample\" <x@evil.example>").domains()).contains("a.example", "a.ex");
        }
    }

    @Nested
    class AtSigns {
        @Test
        void anEncodedWordThatDecodesToAnAtAndADomainIsRead() {
            assertThat(read("=?utf-8?q?=40a.example?=").domains()).containsExactly("a.example");
        }

        @Test
        void anAtInsideBracketsIsRead() {
            assertThat(read("[@a.example]").domains()).contains("a.example");
        }
    }

    @Nested
    class EncodedWordsInTheDisplayName {
        @ParameterizedTest
        @ValueSource(strings = {"Y2VvQGEuZXhhbXBsZQ==", "Y2VvQGEuZXhhbXBsZQ", "Y2VvQGEuZXhhbXBsZS4=", "Y2VvQGEuZXhhbXBsZS4"})
        void aBase64WordIsDecodedWithOrWithoutItsPadding(String b64) {
            // "ceo@a.example" and "ceo@a.example."
            assertThat(read("=?utf-8?b?" + b64 + "?= <x@evil.example>").domains()).contains("a.example");
        }

        @Test
        void aBase64WordWithOneCharacterTooManyIsDecodedWithoutIt() {
            // "ceo@a.example" and two zero bytes, unpadded, and a stray last character that encodes no byte
            assertThat(read("=?utf-8?b?Y2VvQGEuZXhhbXBsZQAAA?= <x@evil.example>").domains()).contains("a.example");
        }

        @ParameterizedTest
        @ValueSource(strings = {
                "=?utf-8?q?ceo=40a.example=4?= <x@evil.example>",
                "=?utf-8?q?ceo=40a.example=?= <x@evil.example>",
        })
        void aQWordEndingInAnIncompleteEscapeIsDecoded(String from) {
            assertThat(read(from).domains()).contains("a.example");
        }

        @Test
        void aQEscapeOfAControlCharacterIsDecoded() {
            assertThat(read("=?utf-8?q?ceo=40a.ex=00ample?= <x@evil.example>").domains()).contains("a.example");
        }

        /**
         * RFC 2047 (6.2): whitespace between two encoded words is not shown, so a reader shows "ceo@a.example Sales";
         * a reader that keeps it shows "ceo@a.ex ample Sales". Both are read.
         */
        @ParameterizedTest
        @ValueSource(strings = {
                "=?utf-8?q?ceo=40a.ex?= =?utf-8?q?ample_Sales?= <x@evil.example>",
                "=?utf-8?q?ceo=40a.ex?=\t =?utf-8?b?YW1wbGU=?= =?utf-8?q?_Sales?= <x@evil.example>",
                "=?utf-8?q?ceo=40a.?= =?iso-8859-1?q?ex?= =?utf-8?q?ample_Sales?= <x@evil.example>",
        })
        void adjacentEncodedWordsAreReadWithoutTheWhitespaceBetweenThem(String from) {
            assertThat(read(from).domains()).contains("a.example", "a.ex");
        }

        @Test
        void aMailWhoseAdjacentEncodedWordsShowThePartnerAddressIsVerified() {
            PartnerClaim claim = PartnerClaim.of(List.of("=?utf-8?q?ceo=40a.ex?= =?utf-8?q?ample_Sales?= <x@evil.example>"),
                    Optional.of("evil.example"), Set.of("a.example"));

            assertThat(claim.mustVerify()).isTrue();
            assertThat(claim.claimedPartners()).containsExactly("a.example");
        }

        /**
         * UTF-7 (RFC 2152), which the JDK lacks and readers such as Python's email decode: "+AEA-" is "@", a base64
         * run ends at its "-" or at the first character outside base64, and "+-" is "+".
         */
        @ParameterizedTest
        @ValueSource(strings = {
                "=?utf-7?q?ceo+AEA-a.example?= <x@evil.example>",
                "=?UTF-7?b?Y2VvK0FFQS1hLmV4YW1wbGU=?= <x@evil.example>",
                "=?unicode-1-1-utf-7?q?ceo+AEA_a.example?= <x@evil.example>",
                "=?utf-7?q?ceo+AEAAYQAu-example?= <x@evil.example>",
                "=?utf-7?q?ceo+AEAAYQ-.example?= <x@evil.example>",
                "=?utf-7?q?c+-eo+AEA-a.example+AEA?= <x@evil.example>",
        })
        void aUtf7EncodedWordIsDecoded(String from) {
            assertThat(read(from).domains()).as(from).contains("a.example");
        }

        @Test
        void aUtf7PlusSignBeforeTheAtIsText() {
            assertThat(read("=?utf-7?q?c+-AEA-a.example?= <x@evil.example>").domains()).doesNotContain("a.example");
        }

        /**
         * As email.header.decode_header with make_header: only whitespace (str.isspace: a no-break space too) between
         * two encoded words is dropped and their bytes joined; other text between them stays, and ends the run.
         */
        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "=?utf-8?q?ceo?= x =?utf-8?q?=40a.example?=|ceo x @a.example",
                "Ceo =?utf-8?q?x?= =?utf-8?q?y?= <a@b>|Ceo xy <a@b>",
                "=?utf-8?q?ceo=EF=BC?=\u00a0=?utf-8?q?=A0a.example?=|ceo\uff20a.example",
                "=?utf-8?q?ceo?= =?iso-8859-1?q?=40a.example?=|ceo@a.example",
        })
        void adjacentEncodedWordsAreDecodedTogetherAsPythonDoes(String field, String text) {
            assertThat(EncodedWords.decodeAdjacentWordsTogether(field)).isEqualTo(text);
        }

        @Test
        void anUnderscoreInAQWordIsASpace() {
            assertThat(read("=?utf-8?q?ceo=40a.example_Sales?= <x@evil.example>").domains()).contains("a.example");
        }
    }

    @Nested
    class ControlCharacters {
        @Test
        void aDeleteCharacterInsideTheDomainIsDroppedOrEndsIt() {
            assertThat(read("\"ceo@a.ex\u007Fample\" <x@evil.example>").domains()).contains("a.example", "a.ex");
        }
    }

    /**
     * Unicode's Default_Ignorable_Code_Point characters render as nothing: the text a reader sees is without them.
     * Each range is given by its ends.
     */
    @Nested
    class InvisibleCharacters {
        static IntStream ignorable() {
            return IntStream.of(0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180F, 0x200B, 0x200F,
                    0x202A, 0x202E, 0x2060, 0x206F, 0x3164, 0xFE00, 0xFE0F, 0xFEFF, 0xFFA0, 0xFFF0, 0xFFF8, 0x1BCA0,
                    0x1BCA3, 0x1D173, 0x1D17A, 0xE0000, 0xE0FFF);
        }

        /** The neighbours of those ranges, which render. */
        static IntStream visible() {
            return IntStream.of(0x00AC, 0x00AE, 0x180A, 0x1810, 0x200A, 0x2010, 0x2029, 0x202F, 0x205F, 0x2070, 0xFDFF,
                    0xFE10, 0xFFEF, 0xFFF9, 0x1BC9F, 0x1BCA4, 0x1D172, 0x1D17B, 0xE1000);
        }

        @ParameterizedTest
        @MethodSource("ignorable")
        void anIgnorableCodePointIsRemoved(int cp) {
            assertThat(TextForms.withoutIgnorables("ceo@a.ex" + Character.toString(cp) + "ample"))
                    .isEqualTo("ceo@a.example");
        }

        @ParameterizedTest
        @MethodSource("visible")
        void aCodePointBesideTheIgnorableRangesIsKept(int cp) {
            String text = "ceo@a.ex" + Character.toString(cp) + "ample";

            assertThat(TextForms.withoutIgnorables(text)).isEqualTo(text);
        }

        @Test
        void aRightToLeftMarkInsideThePartnerAddressOfTheDisplayNameIsUnseen() {
            assertThat(read("\"ceo@a.ex\u200Fample\" <x@evil.example>").domains()).contains("a.example");
        }
    }

    @Nested
    class OtherEightBitReading {
        @Test
        void aDomainBeyondLatin1IsAlsoReadAsItsUtf8BytesOneCharPerByte() {
            // U+0101 is C4 81 in UTF-8: "\u00C4" and a C1 control, which ends the domain or is dropped: b\u00E4.example
            assertThat(read("ceo@b\u0101.example").domains())
                    .contains("xn--b-oha.example", "xn--b-0fa.example");
        }

        @ParameterizedTest
        @ValueSource(strings = {"\u00FF", "\u0080"})
        void aLatin1CharThatIsNoUtf8IsReadAsAReplacementCharacter(String c) {
            assertThat(read("ceo@a.ex" + c + "ample, x@b.example").domains()).contains("a.ex\uFFFDample");
        }
    }

    @Nested
    class NormalForm {
        @Test
        void aDomainOfNonAsciiCharactersOnlyIsReadAsALabel() {
            assertThat(read("ceo@\u00FC").domains()).contains("xn--tda");
        }
    }

    /**
     * An encoded word in the display name decodes to text no parser reads as an address: the scan reads it as it
     * stands and without its comments (quoted-pairs and quoted strings kept, nested comments removed).
     */
    @Nested
    class CommentsInAnEncodedDisplayName {
        static String displayName(String decoded) {
            return "=?utf-8?q?" + decoded.replace("@", "=40").replace(" ", "_") + "?= <x@evil.example>";
        }

        @ParameterizedTest
        @ValueSource(strings = {
                "ceo@a(x).example",
                "ceo@a(x(y)z).example",
                "ceo@a(x\\)).example",
                "ceo\\@a(x).example",
                "x) ceo@a(y).example",
                "\"(x\" ceo@a(y).example",
                "ceo@a(\").exa(x)mple",
        })
        void anAddressWithACommentInsideItsDomainIsRead(String decoded) {
            assertThat(read(displayName(decoded)).domains()).as(decoded).contains("a.example");
        }

        @Test
        void aBackslashThatEndsTheFieldIsText() {
            assertThat(read("x@evil.example, =?utf-8?q?ceo=40a(x).example=5C?=").domains()).contains("a.example");
        }
    }
}
