package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.authhmac.james.matchers.PartnerClaim.Basis;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which mail the matcher verifies: every reading of the From field counts, and doubt means verify. */
class PartnerClaimTest {
    static final Set<String> PARTNERS = Set.of("a.example", "xn--bcher-kva.example");
    static final Optional<String> OUTSIDER = Optional.of("evil.example");

    static PartnerClaim fromField(String value) {
        return PartnerClaim.of(List.of(value), OUTSIDER, PARTNERS);
    }

    @Nested
    class FromFieldsThatClaimThePartner {
        @ParameterizedTest
        @ValueSource(strings = {
                "ceo@a.example",
                "Board:ceo@a.example;",
                "Board: x@evil.example, ceo@a.example;",
                "\"CEO\" <ceo@A.Example>",
                "ceo@a.example.",
                "ceo@a(comment).example",
                "ceo@a . example",
                "ceo@a\r\n .example",
                "<@route.evil.example:ceo@a.example>",
                "ceo@a\u3002example",
                "ceo@a\uFF0Eexample",
                "ceo\uFF20a.example",
                "ceo@\uFF41.example",
                "ceo@a.ex\u00ADample",
                "ceo@b\u00FCcher.example",
                "ceo@b\u00C3\u00BCcher.example",
                "=?utf-8?q?ceo=40a.example?=",
                "=?iso-8859-1?b?Y2VvQGEuZXhhbXBsZQ==?= <x@evil.example>",
                "x@=?utf-8?q?a.example?=",
                "=?x-unknown?q?ceo=40a.example?= <x@evil.example>",
                "\"ceo@a.example\" <x@evil.example>",
                "ceo@\"a.example\"",
                "ceo@[a.example]",
                "x@evil.example, ceo@a.example",
                "ceo@a.ex\u0000ample",
                "ceo@a.example\u0000",
                "(ceo@a.example) x@evil.example",
        })
        void isVerified(String from) {
            PartnerClaim claim = fromField(from);

            assertThat(claim.mustVerify()).as(from).isTrue();
            assertThat(claim.basis()).as(from).isEqualTo(Basis.FROM_NAMES_PARTNER);
            assertThat(claim.claimedPartners()).as(from).containsAnyElementsOf(PARTNERS);
        }

        /**
         * A display name that a reader sees as the partner's address, with characters that render as nothing (format
         * characters, fillers, tags) or that reorder what is shown (bidi controls): {@code ceo@a.example} on screen.
         */
        @ParameterizedTest
        @ValueSource(strings = {
                "\"ceo@a.example\u200F\" <x@evil.example>",
                "\"ceo@a.exa\u2061mple\" <x@evil.example>",
                "\"ceo@a\u2062.example\" <x@evil.example>",
                "\"ceo@a.\u2066example\u2069\" <x@evil.example>",
                "\"ceo@a.e\u180Example\" <x@evil.example>",
                "\"ceo@a.e\u17B4xample\" <x@evil.example>",
                "\"ceo@a.e\uDB40\uDC20xample\" <x@evil.example>",
                "\"ceo@a\u3164.example\" <x@evil.example>",
                "=?utf-8?q?ceo=40a.example=E2=80=8F?= <x@evil.example>",
                "\"\u202Eelpmaxe.a@oec\" <x@evil.example>",
                "\"ceo@\u202Eelpmaxe.a\u202C\" <x@evil.example>",
                "\"\u200Fexample\u200F.\u200Fa\u200F@\u200Fceo\" <x@evil.example>",
        })
        void isVerifiedWhenInvisibleOrBidiCharactersHideThePartnerAddressInTheDisplayName(String from) {
            PartnerClaim claim = fromField(from);

            assertThat(claim.mustVerify()).as(from).isTrue();
            assertThat(claim.claimedPartners()).as(from).contains("a.example");
        }
    }

    @Test
    void anOutsiderWithARightToLeftDisplayNameIsLeftAlone() {
        PartnerClaim claim = fromField("\"\u05D3\u05E0\u05D4 \u200F\u05DB\u05D4\u05DF\" <dana@elsewhere.example>");

        assertThat(claim.mustVerify()).isFalse();
        assertThat(claim.basis()).isEqualTo(Basis.NOT_CLAIMED);
    }

    @Test
    void leavesAnOrdinaryOutsiderAlone() {
        PartnerClaim claim = fromField("\"News, Weekly\" <news@evil.example> (list)");

        assertThat(claim.mustVerify()).isFalse();
        assertThat(claim.basis()).isEqualTo(Basis.NOT_CLAIMED);
        assertThat(claim.authorDomain()).isEmpty();
    }

    @Test
    void aSubdomainOrALookalikeOfThePartnerIsNotThePartner() {
        assertThat(fromField("x@mail.a.example").mustVerify()).isFalse();
        assertThat(fromField("x@a.example.evil.example").mustVerify()).isFalse();
        assertThat(fromField("x@a-example.example").mustVerify()).isFalse();
    }

    @Test
    void verifiesWhenOnlyTheEnvelopeSenderIsThePartner() {
        PartnerClaim claim = PartnerClaim.of(List.of("x@evil.example"), Optional.of("A.EXAMPLE"), PARTNERS);

        assertThat(claim.mustVerify()).isTrue();
        assertThat(claim.basis()).isEqualTo(Basis.ENVELOPE_SENDER);
        assertThat(claim.claimedPartners()).containsExactly("a.example");
        assertThat(claim.authorDomain()).as("the envelope sender is never the author").contains("evil.example");
    }

    @Nested
    class FailsClosed {
        @Test
        void aMailWithoutFromIsVerified() {
            assertThat(PartnerClaim.of(List.of(), OUTSIDER, PARTNERS).basis()).isEqualTo(Basis.NO_FROM);
        }

        @Test
        void aMailWithTwoFromFieldsIsVerifiedAndHasNoAuthorDomain() {
            PartnerClaim claim = PartnerClaim.of(List.of("x@evil.example", "y@evil.example"), OUTSIDER, PARTNERS);

            assertThat(claim.basis()).isEqualTo(Basis.SEVERAL_FROM);
            assertThat(claim.authorDomain()).isEmpty();
        }

        @Test
        void anEmptyFromIsVerified() {
            assertThat(fromField(" \r\n ").basis()).isEqualTo(Basis.EMPTY_FROM);
        }

        @ParameterizedTest
        @ValueSource(strings = {"undisclosed-recipients:;", "MAILER-DAEMON", "x@", "<x@evil.example", "x@evil.example (unclosed"})
        void aFromNoStrictParserReadsAsMailboxesWithDomainsIsVerified(String from) {
            assertThat(fromField(from).basis()).as(from).isEqualTo(Basis.FROM_UNREADABLE);
        }

        @Test
        void aBadlyPaddedBase64WordThatMakesMime4jThrowAnErrorIsAVerdictNotAnEscapingError() {
            assertThat(fromField("=?utf-8?b?=QQA?= <ceo@a.example>").basis()).isEqualTo(Basis.FROM_NAMES_PARTNER);
            assertThat(fromField("=?utf-8?b?=QQA?= <x@evil.example>").basis()).isEqualTo(Basis.NOT_CLAIMED);
        }

        @Test
        void aFromFieldOverTheSizeBoundIsVerifiedWithoutBeingRead() {
            PartnerClaim claim = fromField("x@evil.example (" + "c".repeat(PartnerClaim.MAX_FIELD_CHARS) + ")");

            assertThat(claim.basis()).isEqualTo(Basis.FROM_OVER_BOUND);
            assertThat(claim.claimedPartners()).isEmpty();
            assertThat(claim.authorDomain()).isEmpty();
        }

        @Test
        void aFromFieldWithMoreDelimitersThanTheBoundIsVerifiedWithoutBeingRead() {
            String from = "<".repeat(PartnerClaim.MAX_DELIMITERS + 1) + "x@evil.example";

            assertThat(from.length()).isLessThan(PartnerClaim.MAX_FIELD_CHARS);
            assertThat(fromField(from).basis()).isEqualTo(Basis.FROM_OVER_BOUND);
        }

        @Test
        void aFromFieldWithMoreEncodedWordsThanTheBoundIsVerifiedWithoutBeingRead() {
            String from = "=?utf-8?q?A?= ".repeat(PartnerClaim.MAX_ENCODED_WORDS + 1) + "<x@evil.example>";

            assertThat(PartnerClaim.delimiters(from)).isLessThanOrEqualTo(PartnerClaim.MAX_DELIMITERS);
            assertThat(fromField(from).basis()).isEqualTo(Basis.FROM_OVER_BOUND);
        }

        @Test
        void aFromFieldAtEachBoundIsStillRead() {
            String longest = "x@evil.example (" + "c".repeat(PartnerClaim.MAX_FIELD_CHARS - 17) + ")";
            String delimiters = "(" + ",".repeat(PartnerClaim.MAX_DELIMITERS - 2) + ") x@evil.example";
            String words = "=?utf-8?q?A?= ".repeat(PartnerClaim.MAX_ENCODED_WORDS) + "<x@evil.example>";
            String quotes = "\"a\" ".repeat(PartnerClaim.MAX_QUOTES / 2) + "<x@evil.example>";

            assertThat(longest).hasSize(PartnerClaim.MAX_FIELD_CHARS);
            assertThat(PartnerClaim.delimiters(delimiters)).isEqualTo(PartnerClaim.MAX_DELIMITERS);
            assertThat(PartnerClaim.encodedWordStarts(words)).isEqualTo(PartnerClaim.MAX_ENCODED_WORDS);
            for (String from : List.of(longest, delimiters, words, quotes)) {
                assertThat(fromField(from).basis()).as(from).isEqualTo(Basis.NOT_CLAIMED);
            }
            assertThat(fromField("ceo@a.example (" + "c".repeat(PartnerClaim.MAX_FIELD_CHARS - 16) + ")").authorDomain())
                    .contains("a.example");
        }

        @Test
        void countsTheStartOfAnEncodedWordAsADelimiterButNotALoneEqualsSignOrQuestionMark() {
            assertThat(PartnerClaim.delimiters("=?")).isEqualTo(1);
            assertThat(PartnerClaim.delimiters("a?b=c=")).isZero();
            assertThat(PartnerClaim.encodedWordStarts("=?a?=?b")).isEqualTo(2);
        }

        @Test
        void aFromFieldWithMoreQuotesThanTheBoundIsVerifiedWithoutBeingRead() {
            String from = "\"a\" ".repeat(PartnerClaim.MAX_QUOTES / 2 + 1) + "<x@evil.example>";

            assertThat(PartnerClaim.delimiters(from)).isLessThanOrEqualTo(PartnerClaim.MAX_DELIMITERS);
            assertThat(fromField(from).basis()).isEqualTo(Basis.FROM_OVER_BOUND);
        }
    }

    @Nested
    class AuthorDomain {
        @Test
        void isTheDomainOfTheOneMailboxInLowerCaseAndALabels() {
            assertThat(fromField("\"Ceo\" <CEO@B\u00DCCHER.example>").authorDomain()).contains("xn--bcher-kva.example");
            assertThat(fromField("Alice <alice@A.Example> (sales)").authorDomain()).contains("a.example");
        }

        @Test
        void isReadAlikeOnBothJamesLinesWhenTheDisplayNameIsEightBit() {
            // mime4j 0.8.9 (James 3.8.1) refuses any non-ASCII char, 0.8.13 (James 3.9) does not
            assertThat(fromField("J\u00f6rg M\u00fcller <j@a.example>").authorDomain()).contains("a.example");
            assertThat(fromField("\"J\u00c3\u00b6rg\" <j@a.example>").authorDomain()).as("UTF-8 read one char per byte")
                    .contains("a.example");
        }

        @ParameterizedTest
        @ValueSource(strings = {
                "Board:ceo@a.example;",
                "ceo@a.example, x@a.example",
                "ceo@a(comment).example",
                "ceo@[192.0.2.1]",
                "ceo@a.example\u0000",
                "=?utf-8?q?ceo=40a.example?=",
                "x@=?utf-8?q?a.example?=",
                "ceo@a\u3002example",
        })
        void isAbsentWhenTheFromIsNotExactlyOneMailboxReadAlikeByTheStrictParsers(String from) {
            PartnerClaim claim = PartnerClaim.of(List.of(from), Optional.of("a.example"), PARTNERS);

            assertThat(claim.mustVerify()).as(from).isTrue();
            assertThat(claim.authorDomain()).as(from).isEmpty();
        }

        /**
         * One mailbox in a.example, so the protocol's reading and both strict parsers say a.example, but the reader sees
         * another address in the display name or a comment: a pass would vouch for what the reader takes as the author.
         * The partner's reference signer refuses such a field; this is the receiver's check of the same rule.
         */
        @ParameterizedTest
        @ValueSource(strings = {
                "\"ceo@b.example\" <mallory@a.example>",
                "mallory@a.example (ceo@b.example)",
                "=?utf-8?q?ceo=40b.example?= <mallory@a.example>",
                "\"ceo\uFF20b.example\" <mallory@a.example>",
                "\"ceo@b.example\u200F\" <mallory@a.example>",
                "\"ceo\u00EF\u00BC\u00A0b.example\" <mallory@a.example>",
                "=?utf-8?q?=40b.example_CEO?= <mallory@a.example>",
        })
        void isAbsentWhenTheFieldAlsoShowsAnAddressInAnotherDomain(String from) {
            PartnerClaim claim = fromField(from);

            assertThat(claim.mustVerify()).as(from).isTrue();
            assertThat(claim.authorDomain()).as(from).isEmpty();
        }

        /** As email.header.decode_header shows them: bytes of adjacent words joined, "?" inside a word, Python's aliases. */
        @ParameterizedTest
        @ValueSource(strings = {
                "=?utf-8?q?ceo=EF=BC?= =?utf-8?q?=A0b.example?= <mallory@a.example>",
                "=?utf-7?q?ceo+AE?= =?utf-7?q?A-b.example?= <mallory@a.example>",
                "=?utf-8?q?ceo?x=40b.example?= <mallory@a.example>",
                "=?u8?q?ceo=EF=BC=A0b.example?= <mallory@a.example>",
        })
        void isAbsentWhenTheDisplayNameShowsAnotherAddressAsPythonsEmailDecodesIt(String from) {
            PartnerClaim claim = fromField(from);

            assertThat(claim.mustVerify()).as(from).isTrue();
            assertThat(claim.authorDomain()).as(from).isEmpty();
        }

        @Test
        void aFieldThatIsNotOneMailboxCountsAsNamingAnotherAddress() {
            assertThat(PartnerClaim.namesAnotherAddress("mallory@a.example, ceo@b.example")).isTrue();
            assertThat(PartnerClaim.namesAnotherAddress("<mallory@a.example")).isTrue();
            assertThat(PartnerClaim.namesAnotherAddress("Mallory <mallory@a.example>")).isFalse();
        }

        @Test
        void isKeptWhenTheDisplayNameRepeatsTheAddressItself() {
            assertThat(fromField("\"mallory@a.example\" <mallory@a.example>").authorDomain()).contains("a.example");
        }
    }
}
