package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Review attacks on today's From-scan changes (UTF-7 words, adjacent encoded words). Each From below is shown by
 * Python's email (policy=default and/or email.header.decode_header + make_header) with the partner's address
 * ceo@a.example (or ceo＠a.example, which the scan treats as a claim: NFKC) in the display name, so the mail must be
 * verified. A failing assertion is a fail-open: the mail is left alone as NOT_CLAIMED.
 */
class EncodedWordCharsetAttackTest {
    private static final Set<String> PARTNERS = Set.of("a.example");

    private static PartnerClaim claim(String from) {
        return PartnerClaim.of(List.of(from), Optional.of("evil.example"), PARTNERS);
    }

    @Nested
    class Utf7UnderAnotherLabel {
        /** Python's codecs normalise the label: utf7, u7, UTF_7, " utf-7" all decode as UTF-7 (both email APIs). */
        @ParameterizedTest
        @ValueSource(strings = {
                "=?utf7?q?ceo+AEA-a.example?= <x@evil.example>",
                "=?u7?q?ceo+AEA-a.example?= <x@evil.example>",
                "=?UTF_7?q?ceo+AEA-a.example?= <x@evil.example>",
                "=?unicode_1_1_utf_7?q?ceo+AEA-a.example?= <x@evil.example>",
        })
        void aUtf7WordUnderAnAliasPythonDecodesIsVerified(String from) {
            assertThat(claim(from).mustVerify()).as(from).isTrue();
        }
    }

    @Nested
    class BytesSplitAcrossAdjacentWords {
        /**
         * email.header.decode_header joins the bytes of adjacent encoded words of one charset before decoding (as
         * Thunderbird's jsmime does): a UTF-7 shifted run cut between two words is one run there; here each word is
         * decoded alone ("ceo+AE" gives U+FFFD), with or without the whitespace.
         */
        @ParameterizedTest
        @ValueSource(strings = {
                "=?utf-7?q?ceo+AE?= =?utf-7?q?A-a.example?= <x@evil.example>",
                "=?utf-7?b?Y2VvK0FF?= =?utf-7?b?QS1hLmV4YW1wbGU=?= <x@evil.example>",
        })
        void aUtf7RunSplitBetweenTwoWordsIsVerified(String from) {
            assertThat(claim(from).mustVerify()).as(from).isTrue();
        }

        /** The same for a UTF-8 FULLWIDTH COMMERCIAL AT (EF BC A0) cut between two words (older than today). */
        @ParameterizedTest
        @ValueSource(strings = {
                "=?utf-8?q?ceo=EF=BC?= =?utf-8?q?=A0a.example?= <x@evil.example>",
        })
        void aUtf8FullWidthAtSplitBetweenTwoWordsIsVerified(String from) {
            assertThat(claim(from).mustVerify()).as(from).isTrue();
        }
    }

    @Nested
    class Utf8UnderAnAliasTheJdkLacks {
        /** Python decodes utf_8, u8, utf as UTF-8; the JDK knows none of them, so the scan reads ISO-8859-1 (older). */
        @ParameterizedTest
        @ValueSource(strings = {
                "=?utf_8?q?ceo=EF=BC=A0a.example?= <x@evil.example>",
                "=?u8?q?ceo=EF=BC=A0a.example?= <x@evil.example>",
        })
        void aFullWidthAtInAUtf8WordUnderAnAliasIsVerified(String from) {
            assertThat(claim(from).mustVerify()).as(from).isTrue();
        }
    }

    @Nested
    class CodecsBeyondTheJdk {
        /**
         * Python's email decodes a word with any codec its codecs.lookup finds: escapes, punycode, UTF-16 without a
         * byte-order mark (little-endian there, big-endian in the JDK), the JIS X 0213 codecs (both email APIs).
         */
        @ParameterizedTest
        @ValueSource(strings = {
                "=?unicode_escape?q?ceo\\u0040a.example?= <x@evil.example>",
                "=?raw-unicode-escape?q?ceo\\u0040a.example?= <x@evil.example>",
                "=?punycode?q?ceoa.example-k050e?= <x@evil.example>",
                "=?unicode_escape?q?ceo\\N{COMMERCIAL_AT}a\\N{SOFT_HYPHEN}.example?= <x@evil.example>",
                "=?unicode_escape?q?ceo\\N{COMMERCIAL_AT}a\\N{SHY}.example?= <x@evil.example>",
                "=?unicode_escape?q?ceo\\N{COMMERCIAL_AT}a\\N{ZWSP}.example?= <x@evil.example>",
                "=?utf-16?b?YwBlAG8AIP9hAC4AZQB4AGEAbQBwAGwAZQA=?= <x@evil.example>",
                "=?shift_jis_2004?q?ceo=81=97a.example?= <x@evil.example>",
        })
        void aWordInACodecPythonDecodesIsVerified(String from) {
            assertThat(claim(from).mustVerify()).as(from).isTrue();
        }
    }

    @Nested
    class QuestionMarkInsideAWord {
        /** email.header.decode_header reads an encoded word's text up to the first "?=", "?" included. */
        @ParameterizedTest
        @ValueSource(strings = {
                "=?utf-8?q?ceo?x=40a.example?= <x@evil.example>",
                "=?utf-7?q?ceo?+AEA-a.example?= <x@evil.example>",
                "=?utf-8?q?ceo=EF=BC?= =?utf-8?q?=A0a.example??= <x@evil.example>",
        })
        void aWordWithAQuestionMarkInItsTextIsVerified(String from) {
            assertThat(claim(from).mustVerify()).as(from).isTrue();
        }
    }
}
