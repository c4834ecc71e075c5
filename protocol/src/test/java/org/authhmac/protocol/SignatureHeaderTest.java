package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SignatureHeaderTest {
    private static final String BH = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    private static final String MAC = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    private static final String VALID = "v=1; a=hmac-sha256; d=a.example; s=k1; t=1763776800; p=900; c=relaxed/relaxed;"
            + " r=b.example; n=Vb3kq9x0TtyZ2mQ8pL1aUw; h=from:from:to:subject; bh=" + BH + "; b=" + MAC;

    @Test
    void parsesEveryTagOfAValidHeader() throws Exception {
        SignatureHeader h = SignatureHeader.parse(VALID);

        assertThat(h.version()).isEqualTo(1);
        assertThat(h.algorithm()).isEqualTo("hmac-sha256");
        assertThat(h.domain()).isEqualTo("a.example");
        assertThat(h.keyId()).isEqualTo("k1");
        assertThat(h.time()).isEqualTo(1_763_776_800L);
        assertThat(h.periodSeconds()).isEqualTo(900);
        assertThat(h.canonicalization()).isEqualTo("relaxed/relaxed");
        assertThat(h.recipient()).isEqualTo("b.example");
        assertThat(h.nonce()).isEqualTo("Vb3kq9x0TtyZ2mQ8pL1aUw");
        assertThat(h.signedHeaders()).containsExactly("from", "from", "to", "subject");
        assertThat(h.bodyHash()).isEqualTo(BH);
        assertThat(h.mac()).isEqualTo(MAC);
        assertThat(h.period()).isEqualTo(1_959_752L);
    }

    @Test
    void formatsInSigningOrderAndParsesBackToTheSameValue() throws Exception {
        String withRc = VALID.replace("; n=", "; rc=1; n=");
        SignatureHeader h = SignatureHeader.parse(withRc);

        assertThat(h.format()).isEqualTo(withRc);
        assertThat(SignatureHeader.parse(h.format())).isEqualTo(h);
    }

    @Test
    void readsTheRecipientCountAndDefaultsItToOne() throws Exception {
        assertThat(SignatureHeader.parse(VALID).recipientCount()).isEqualTo(1);
        assertThat(SignatureHeader.parse(VALID.replace("; n=", "; rc=10000; n=")).recipientCount()).isEqualTo(10_000);
        assertThat(SignatureHeader.parse(VALID.replace("; n=", "; rc=007; n=")).recipientCount()).isEqualTo(7);
    }

    @ParameterizedTest(name = "rc={0}")
    @ValueSource(strings = {"0", "10001", "99999", "100000", "-1", "+3", "3a", "1 2", ""})
    void rejectsARecipientCountOutsideOneToTenThousand(String rc) {
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("; n=", "; rc=" + rc + "; n=")))
                .isInstanceOf(SignatureFormatException.class)
                .satisfies(e -> assertThat(((SignatureFormatException) e).reason()).isEqualTo(Reason.MALFORMED));
    }

    @Test
    void formatsAnUnsignedHeaderWithAnEmptyB() throws Exception {
        assertThat(SignatureHeader.parse(VALID).withMac(null).format()).endsWith("; bh=" + BH + "; b=");
    }

    @Test
    void acceptsFoldingWhitespaceInsideBase64AndHeaderList() throws Exception {
        String folded = VALID.replace("h=from:from:to:subject", "h=from : from:\r\n\tto:subject")
                .replace("b=" + MAC, "b=AAECAwQFBgcICQoLDA0O\r\n DxAREhMUFRYXGBkaGxwdHh8=");

        SignatureHeader h = SignatureHeader.parse(folded);

        assertThat(h.signedHeaders()).containsExactly("from", "from", "to", "subject");
        assertThat(h.mac()).isEqualTo(MAC);
    }

    @Test
    void defaultsPeriodAndCanonicalizationWhenAbsent() throws Exception {
        SignatureHeader h = SignatureHeader.parse(VALID.replace(" p=900;", "").replace(" c=relaxed/relaxed;", ""));

        assertThat(h.periodSeconds()).isEqualTo(900);
        assertThat(h.canonicalization()).isEqualTo("relaxed/relaxed");
    }

    @Test
    void readsALoneCanonicalizationAsHeaderAlgorithmWithSimpleBodyAsDkimDoes() throws Exception {
        SignatureHeader h = SignatureHeader.parse(VALID.replace("c=relaxed/relaxed", "c=relaxed"));

        assertThat(h.headerCanonicalization()).isEqualTo(Canonicalization.RELAXED);
        assertThat(h.bodyCanonicalization()).isEqualTo(Canonicalization.SIMPLE);
    }

    @ParameterizedTest(name = "c={0}")
    @ValueSource(strings = {"simple/simple", "simple/relaxed", "relaxed/simple", "Simple/RELAXED"})
    void readsEachHeaderAndBodyCanonicalizationPairInAnyCase(String c) throws Exception {
        SignatureHeader h = SignatureHeader.parse(VALID.replace("c=relaxed/relaxed", "c=" + c));
        String[] pair = c.toLowerCase(java.util.Locale.ROOT).split("/");

        assertThat(h.canonicalization()).isEqualTo(pair[0] + "/" + pair[1]);
        assertThat(h.headerCanonicalization()).isEqualTo(Canonicalization.fromToken(pair[0]));
        assertThat(h.bodyCanonicalization()).isEqualTo(Canonicalization.fromToken(pair[1]));
    }

    @Test
    void namesRelaxedForHeaderAndBodyWhenCIsAbsentOrTheDefault() throws Exception {
        SignatureHeader absent = SignatureHeader.parse(removeTag(VALID, "c"));
        SignatureHeader given = SignatureHeader.parse(VALID);

        assertThat(absent.headerCanonicalization()).isEqualTo(Canonicalization.RELAXED);
        assertThat(absent.bodyCanonicalization()).isEqualTo(Canonicalization.RELAXED);
        assertThat(given.headerCanonicalization()).isEqualTo(Canonicalization.RELAXED);
        assertThat(given.bodyCanonicalization()).isEqualTo(Canonicalization.RELAXED);
    }

    @Test
    void keepsItsOwnCopyOfTheSignedHeaderNamesItWasBuiltWith() {
        java.util.List<String> names = new java.util.ArrayList<>(java.util.List.of("from", "to"));
        SignatureHeader h = new SignatureHeader(1, "hmac-sha256", "a.example", "k1", 0, 900, "relaxed/relaxed", names,
                BH, "b.example", "Vb3kq9x0TtyZ2mQ8pL1aUw", MAC);

        names.add("subject");

        assertThat(h.signedHeaders()).containsExactly("from", "to");
        assertThatThrownBy(() -> h.signedHeaders().add("cc")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void ignoresUnknownTagsAndAcceptsATrailingSemicolon() throws Exception {
        SignatureHeader h = SignatureHeader.parse("x_future=whatever ; " + VALID + ";");

        assertThat(h.keyId()).isEqualTo("k1");
    }

    @Test
    void rejectsAVersionOtherThanOneAsUnsupportedVersion() {
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("v=1", "v=2")))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_VERSION));
    }

    @Test
    void rejectsAnotherAlgorithmAsUnsupportedAlgorithm() {
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("hmac-sha256", "hmac-sha1")))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_ALGORITHM));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "s=k1; s=k2",          // duplicate tag
            "d=a.example;;",       // empty tag-spec
            "1x=y",                // bad tag name
            "novalue",             // no '='
            "t=-5",                // not digits
            "t=1234567890123",     // more than 12 digits
            "p=30",                // below the minimum period
            "c=relaxed/fancy",     // unknown canonicalization
            "r=not a domain",      // whitespace in r=
            "r=bob@",              // empty domain
            "n=short",             // nonce under 16 chars
            "d=-bad-.example",     // label with leading '-'
            "h=to:subject",        // From not signed
            "h=from::to",          // empty name in h=
            "bh=AAAA",             // not 32 bytes
            "b=!!!notbase64!!!",   // not base64
            "b=",                  // empty MAC
            "s=key/with/slash",    // key id charset
    })
    void rejectsBrokenTagsAsMalformed(String broken) {
        String tag = broken.contains("=") ? broken.substring(0, broken.indexOf('=')) : null;
        String header = tag != null && VALID.contains(" " + tag + "=") || (tag != null && VALID.startsWith(tag + "="))
                ? replaceTag(VALID, tag, broken) : VALID + "; " + broken;

        assertThatThrownBy(() -> SignatureHeader.parse(header))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    @Test
    void acceptsAKeyIdOfTheCharactersAtTheEdgesOfItsRanges() throws Exception {
        // given / when
        SignatureHeader h = SignatureHeader.parse(replaceTag(VALID, "s", "s=az.AZ_09-"));

        // then
        assertThat(h.keyId()).isEqualTo("az.AZ_09-");
    }

    @ParameterizedTest
    @ValueSource(strings = {"k/1", "k:1", "k@1", "k[1", "k`1", "k{1"})
    void refusesAKeyIdWithACharacterJustOutsideItsRanges(String keyId) {
        assertThatThrownBy(() -> SignatureHeader.parse(replaceTag(VALID, "s", "s=" + keyId)))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    @ParameterizedTest
    @ValueSource(strings = {"v", "a", "d", "s", "t", "r", "n", "h", "bh", "b"})
    void rejectsAHeaderMissingARequiredTag(String tag) {
        String header = removeTag(VALID, tag);

        assertThatThrownBy(() -> SignatureHeader.parse(header))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    @Test
    void treatsTagNamesCaseSensitively() {
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("v=1", "V=1")))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED).hasToString("MALFORMED"));
    }

    @Test
    void rejectsALineBreakThatIsNotFolding() {
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("; s=k1", ";\r\ns=k1")))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("; s=k1", "; s=k\r1")))
                .isInstanceOf(SignatureFormatException.class);
    }

    @Test
    void rejectsWhitespaceInsideAScalarValue() {
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("t=1763776800", "t=1763 776800")))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    @Test
    void checksTheVersionBeforeTheAlgorithm() {
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("v=1", "v=2").replace("hmac-sha256", "rsa-sha256")))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_VERSION));
    }

    @Test
    void rejectsNonAsciiAsMalformed() {
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("d=a.example", "d=\u00e9.example")))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    @Test
    void holdsDomainsAndRecipientInLowerCase() throws Exception {
        SignatureHeader h = SignatureHeader.parse(VALID.replace("d=a.example", "d=A.Example").replace("r=b.example", "r=Bob@B.Example"));

        assertThat(h.domain()).isEqualTo("a.example");
        assertThat(h.recipient()).isEqualTo("bob@b.example");
        assertThat(h.bindsMailbox()).isTrue();
    }

    @Test
    void bindsAMailboxOnlyWhenRNamesLocalAtDomain() throws Exception {
        assertThat(SignatureHeader.parse(VALID).bindsMailbox()).isFalse();
        assertThat(SignatureHeader.parse(VALID.replace("r=b.example", "r=bob@b.example")).bindsMailbox()).isTrue();
    }

    /** VALID (12 tag-specs) with {@code n} unknown tags added in front. */
    private static String withUnknownTags(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append("x").append(i).append("=y; ");
        }
        return sb + VALID;
    }

    /** VALID with h= naming from and then {@code n - 1} more names. */
    private static String withSignedHeaderNames(int n) {
        StringBuilder h = new StringBuilder("from");
        for (int i = 1; i < n; i++) {
            h.append(":x-").append(i);
        }
        return VALID.replace("h=from:from:to:subject", "h=" + h);
    }

    private static void assertMalformed(String header) {
        assertThatThrownBy(() -> SignatureHeader.parse(header))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    /** sv= and pd=: the delivering server's verdict in a mailbox-bound signature (PROTOCOL.md 10.1). */
    @Nested
    class ServerVerdictTags {
        private static final String MAILBOX = VALID.replace("d=a.example", "d=b.example").replace("r=b.example", "r=bob@b.example");

        private static String with(String tags) {
            return MAILBOX.replace("; n=", "; rc=1; " + tags + "; n=");
        }

        @ParameterizedTest(name = "sv={0}")
        @ValueSource(strings = {"none", "fail", "permerror", "released", "notice"})
        void readsEachVerdictWithoutPartnerDomainAndFormatsItBackInSigningOrder(String sv) throws Exception {
            SignatureHeader h = SignatureHeader.parse(with("sv=" + sv));

            assertThat(h.serverVerdict()).isEqualTo(sv);
            assertThat(h.partnerDomain()).isNull();
            assertThat(h.format()).isEqualTo(with("sv=" + sv));
        }

        @Test
        void readsPassWithThePartnerDomainInLowerCase() throws Exception {
            SignatureHeader h = SignatureHeader.parse(with("sv=pass; pd=A.Example"));

            assertThat(h.serverVerdict()).isEqualTo("pass");
            assertThat(h.partnerDomain()).isEqualTo("a.example");
            assertThat(h.format()).isEqualTo(with("sv=pass; pd=a.example"));
        }

        @Test
        void leavesBothAbsentWhenTheSignatureHasNeither() throws Exception {
            SignatureHeader h = SignatureHeader.parse(MAILBOX);

            assertThat(h.serverVerdict()).isNull();
            assertThat(h.partnerDomain()).isNull();
            assertThat(h.format()).doesNotContain("sv=", "pd=");
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"sv=PASS; pd=a.example", "sv=pass", "sv=quarantined", "sv=", "sv=none; pd=a.example",
                "pd=a.example", "sv=pass; pd=a_example", "sv=pass; pd=bob@a.example", "sv=pass; pd=a.example a",
                "sv=pa ss; pd=a.example", "sv=none; sv=none"})
        void rejectsAnyOtherFormAsMalformed(String tags) {
            assertMalformed(with(tags));
        }

        @Test
        void rejectsTheVerdictInADomainBoundSignatureAsMalformed() {
            assertMalformed(VALID.replace("; n=", "; sv=pass; pd=a.example; n="));
            assertMalformed(VALID.replace("; n=", "; sv=none; n="));
        }
    }

    @Nested
    class Bounds {
        @Test
        void acceptsThirtyTwoTagSpecsAndATrailingSemicolon() throws Exception {
            assertThat(SignatureHeader.parse(withUnknownTags(20) + ";").keyId()).isEqualTo("k1");
        }

        @Test
        void rejectsAThirtyThirdTagSpecAsMalformed() {
            assertMalformed(withUnknownTags(21));
        }

        @Test
        void acceptsAnHListOfExactly1024Names() throws Exception {
            assertThat(SignatureHeader.parse(withSignedHeaderNames(1024)).signedHeaders()).hasSize(1024);
        }

        @Test
        void rejectsAnHListOf1025NamesAsMalformed() {
            assertMalformed(withSignedHeaderNames(1025));
        }

        @Test
        void acceptsAValueOfExactlyTheFieldBound() throws Exception {
            String prefix = VALID + "; x=";
            String value = prefix + "y".repeat(SignatureHeader.MAX_FIELD_OCTETS - prefix.length());

            assertThat(value).hasSize(SignatureHeader.MAX_FIELD_OCTETS);
            assertThat(SignatureHeader.parse(value).keyId()).isEqualTo("k1");
            assertMalformed(value + "y");
        }

        @Test
        void refusesMoreThanThirtyTwoTagSpecsByCountingSeparatorsBeforeReadingAnyTag() {
            // Thirty-three empty tag-specs: the count refuses them before the first is found to have no '='.
            assertThatThrownBy(() -> SignatureHeader.parse(";".repeat(33) + VALID))
                    .isInstanceOfSatisfying(SignatureFormatException.class,
                            e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED))
                    .hasMessageContaining("more than 32 tag-specs");
        }

        @Test
        void rejectsAValueLongerThanTheFieldBoundAsMalformed() {
            String value = VALID + "; x=" + "y".repeat(SignatureHeader.MAX_FIELD_OCTETS);

            assertMalformed(value);
        }
    }

    @Nested
    class Strictness {
        @Test
        void rejectsAnUnpaddedMacAsMalformed() {
            assertMalformed(VALID.replace("b=" + MAC, "b=" + MAC.substring(0, 43)));
        }

        @Test
        void rejectsAnUnpaddedBodyHashAsMalformed() {
            assertMalformed(VALID.replace("bh=" + BH, "bh=" + BH.substring(0, 43)));
        }

        @Test
        void rejectsBase64WhoseUnusedLastBitsAreSetAsMalformed() {
            // MAC ends in "h8=": the last sextet of "8", 0b111100, has its two unused bits clear; "9" sets one of them.
            assertMalformed(VALID.replace("b=" + MAC, "b=" + MAC.substring(0, 42) + "9="));
        }

        @ParameterizedTest(name = "last character {0}")
        @ValueSource(strings = {"A", "E", "I", "M", "Q", "U", "Y", "c", "g", "k", "o", "s", "w", "0", "4", "8"})
        void acceptsEveryBase64CharacterWhoseUnusedBitsAreClearBeforeThePadding(String last) throws Exception {
            String mac = MAC.substring(0, 42) + last + "=";

            assertThat(SignatureHeader.parse(VALID.replace("b=" + MAC, "b=" + mac)).mac()).isEqualTo(mac);
        }

        @ParameterizedTest(name = "last character {0}")
        @ValueSource(strings = {"B", "D", "Z", "a", "b", "d", "z", "1", "3", "9", "+", "/"})
        void rejectsEveryBase64CharacterWithAnUnusedBitSetBeforeThePaddingAsMalformed(String last) {
            assertMalformed(VALID.replace("b=" + MAC, "b=" + MAC.substring(0, 42) + last + "="));
            assertMalformed(VALID.replace("bh=" + BH, "bh=" + BH.substring(0, 42) + last + "="));
        }

        @ParameterizedTest
        @ValueSource(strings = {"h=:from", "h=from:", "h=from: :to", "h=from:\r\n :to"})
        void rejectsAnEmptyOrBlankNameAtEitherEndOrBetweenColonsOfHAsMalformed(String h) {
            assertMalformed(VALID.replace("h=from:from:to:subject", h));
        }

        @Test
        void acceptsFromAnywhereInHAndNamesOfTheFirstAndLastPrintableCharacters() throws Exception {
            SignatureHeader h = SignatureHeader.parse(VALID.replace("h=from:from:to:subject", "h=to:x!~:From"));

            assertThat(h.signedHeaders()).containsExactly("to", "x!~", "from");
        }

        @ParameterizedTest
        @ValueSource(strings = {"h=fro", "h=fromx", "h=xfrom", "h=to:from-x", "h=to:f-om"})
        void rejectsAnHThatNamesNoFromFieldAsMalformed(String h) {
            assertMalformed(VALID.replace("h=from:from:to:subject", h));
        }

        @Test
        void acceptsFoldingWhitespaceAroundTheColonsOfH() throws Exception {
            SignatureHeader h = SignatureHeader.parse(VALID.replace("h=from:from:to:subject", "h= from :\r\n from\t:to\r\n\t: subject "));

            assertThat(h.signedHeaders()).containsExactly("from", "from", "to", "subject");
        }

        @ParameterizedTest
        @ValueSource(strings = {"h=fr om:to", "h=from:su\r\n bject", "h=from:to\tx"})
        void rejectsFoldingWhitespaceInsideAnHNameAsMalformed(String h) {
            assertMalformed(VALID.replace("h=from:from:to:subject", h));
        }

        @Test
        void ignoresAnUnknownTagWhoseValueHasFoldingWhitespaceBetweenRuns() throws Exception {
            SignatureHeader h = SignatureHeader.parse("x=one two\r\n\tthree  four; " + VALID);

            assertThat(h).isEqualTo(SignatureHeader.parse(VALID));
        }

        @Test
        void rejectsWhitespaceInsideTheVersionAsMalformed() {
            assertMalformed(VALID.replace("v=1", "v=1 1"));
        }
    }

    /** The tag=value list syntax (RFC 6376 3.2) under every signature header. */
    @Nested
    class TagListSyntax {
        @Test
        void acceptsFoldingWhitespaceAroundEachEqualsSignAndSemicolon() throws Exception {
            String spaced = VALID.replace("=", " = ").replace(";", " ;\r\n\t");

            assertThat(SignatureHeader.parse(spaced)).isEqualTo(SignatureHeader.parse(VALID));
        }

        @Test
        void acceptsAFinalSemicolonFollowedByFoldingWhitespace() throws Exception {
            assertThat(SignatureHeader.parse(VALID + ";\r\n ")).isEqualTo(SignatureHeader.parse(VALID));
            assertThat(SignatureHeader.parse(VALID + "; \t")).isEqualTo(SignatureHeader.parse(VALID));
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"A=1", "Z=1", "z=1", "zZ9_=1", "Az=1"})
        void ignoresUnknownTagsNamedWithLettersAtTheEdgesOfTheirRanges(String tag) throws Exception {
            assertThat(SignatureHeader.parse(tag + "; " + VALID)).isEqualTo(SignatureHeader.parse(VALID));
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"@x=1", "[x=1", "`x=1", "{x=1", "x-y=1", "x.y=1", "x@=1", "x[=1", "x`=1", "x{=1", "=1", " =1"})
        void rejectsATagNameThatIsNotALetterFollowedByLettersDigitsAndUnderscoresAsMalformed(String tag) {
            assertMalformed(tag + "; " + VALID);
        }

        @Test
        void rejectsATagWithAnEmptyNameAfterFoldingWhitespaceAsMalformed() {
            assertMalformed(VALID.replace("; s=k1", ";\r\n =k1"));
            assertMalformed(VALID + "; \t=x");
        }

        @ParameterizedTest(name = "{index}")
        @ValueSource(strings = {" \r", " \n", "\r ", "\n ", "\r\r\n "})
        void rejectsABareCarriageReturnOrLineFeedBeforeATagNameAsMalformed(String fws) {
            assertMalformed(VALID.replace("; a=", ";" + fws + "a="));
        }

        @Test
        void rejectsABareCarriageReturnOrLineFeedAtTheStartOfTheValueAsMalformed() {
            assertMalformed("\r" + VALID);
            assertMalformed("\n" + VALID);
        }

        @ParameterizedTest(name = "{index}")
        @ValueSource(strings = {"\u0000", "\u0001", "\u001f", "\u007f", "\u0080", "\u00e9", "\u2028"})
        void rejectsAValueCharacterOutsideVisibleAsciiEvenInAnUnknownTagAsMalformed(String c) {
            assertMalformed("x=one" + c + "two; " + VALID);
        }

        @Test
        void acceptsTheFirstAndLastVisibleAsciiCharactersInAValue() throws Exception {
            assertThat(SignatureHeader.parse("x=!~; " + VALID)).isEqualTo(SignatureHeader.parse(VALID));
        }

        @Test
        void rejectsALineBreakAtTheEndOfTheValueAsMalformed() {
            assertMalformed(VALID + "\r\n");
            assertMalformed(VALID + ";\r\n");
        }

        @Test
        void quotesAtMostFortyCharactersOfABadTagNameAndShowsControlCharactersAsQuestionMarks() {
            assertThatThrownBy(() -> SignatureHeader.parse("x\u007f y\u0001=1; " + VALID))
                    .hasMessageContaining("'x? y?'");
            assertThatThrownBy(() -> SignatureHeader.parse("x".repeat(39) + "-=1; " + VALID))
                    .hasMessageContaining("'" + "x".repeat(39) + "-'");
            assertThatThrownBy(() -> SignatureHeader.parse("x".repeat(40) + "-=1; " + VALID))
                    .hasMessageContaining("'" + "x".repeat(40) + "...'");
        }
    }

    /**
     * The value rules of the tags that pick the key (d=, p=), make the replay key (n=) and bind the recipient (r=):
     * each bound accepted where it is and refused one step beyond (PROTOCOL.md 3).
     */
    @Nested
    class TagValueRules {
        private String with(String tag, String value) {
            return replaceTag(VALID, tag, tag + "=" + value);
        }

        @ParameterizedTest(name = "p={0}")
        @ValueSource(strings = {"60", "900", "86400", "00060"})
        void acceptsAPeriodLengthFromOneMinuteToOneDay(String p) throws Exception {
            assertThat(SignatureHeader.parse(with("p", p)).periodSeconds()).isEqualTo(Integer.parseInt(p));
        }

        @ParameterizedTest(name = "p={0}")
        @ValueSource(strings = {"59", "0", "86401", "99999", "100000", "086400", "-900", "9e2", "90 0"})
        void rejectsAPeriodLengthOutsideOneMinuteToOneDayAsMalformed(String p) {
            assertMalformed(with("p", p));
        }

        @Test
        void acceptsASigningTimeOfTwelveDigitsAndRefusesOneOfThirteen() throws Exception {
            assertThat(SignatureHeader.parse(with("t", "999999999999")).time()).isEqualTo(999_999_999_999L);
            assertMalformed(with("t", "0999999999999"));
        }

        @ParameterizedTest(name = "n={0}")
        @ValueSource(strings = {"abcdefghijklmnop", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                "0123456789_-ABCD"})
        void acceptsANonceOfSixteenToSixtyFourBase64urlCharacters(String n) throws Exception {
            assertThat(SignatureHeader.parse(with("n", n)).nonce()).isEqualTo(n);
        }

        @ParameterizedTest(name = "n={0}")
        @ValueSource(strings = {"abcdefghijklmno", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_x",
                "abcdefghijklmno+", "abcdefghijklmno/", "abcdefghijklmno=", "abcdefghijklmno.", "abcdefghijklmno\u00e9",
                "abcdefgh@jklmnop", "abcdefgh:jklmnop", "abcdefgh[jklmnop", "abcdefgh`jklmnop", "abcdefgh{jklmnop"})
        void rejectsANonceOfOtherLengthOrOtherCharactersAsMalformed(String n) {
            assertMalformed(with("n", n));
        }

        @ParameterizedTest(name = "d={0}")
        @ValueSource(strings = {"a", "a-b.example", "xn--bcher-kva.example", "0.example", "z9.example"})
        void acceptsAnLdhDomain(String d) throws Exception {
            assertThat(SignatureHeader.parse(with("d", d)).domain()).isEqualTo(d);
        }

        @Test
        void acceptsADomainWithALabelOfSixtyThreeAndTwoHundredFiftyThreeCharactersInAll() throws Exception {
            String label63 = "l".repeat(63);
            String d253 = label63 + "." + label63 + "." + label63 + "." + "m".repeat(61);

            assertThat(SignatureHeader.parse(with("d", label63 + ".example")).domain()).isEqualTo(label63 + ".example");
            assertThat(d253).hasSize(253);
            assertThat(SignatureHeader.parse(with("d", d253)).domain()).isEqualTo(d253);
        }

        @ParameterizedTest(name = "d={0}")
        @ValueSource(strings = {"a-.example", "a.example-", "-a.example", "a.example.", ".a.example", "a..example",
                "a_b.example", "a b.example", "b\u00fccher.example", "bob@a.example", "[192.0.2.1]", "a`.example",
                "a{.example", "a/.example", "a:.example"})
        void rejectsALabelThatIsEmptyOrEndsInAHyphenOrHoldsAnotherCharacterAsMalformed(String d) {
            assertMalformed(with("d", d));
        }

        @Test
        void rejectsALabelOfSixtyFourOrADomainOfTwoHundredFiftyFourCharactersAsMalformed() {
            String label63 = "l".repeat(63);

            assertMalformed(with("d", "l".repeat(64) + ".example"));
            assertMalformed(with("d", label63 + "." + label63 + "." + label63 + "." + "m".repeat(62)));
        }

        @Test
        void acceptsAKeyIdOfSixtyFourCharactersAndRefusesOneOfSixtyFive() throws Exception {
            String s64 = "k".repeat(64);

            assertThat(SignatureHeader.parse(with("s", s64)).keyId()).isEqualTo(s64);
            assertMalformed(with("s", s64 + "k"));
        }

        @ParameterizedTest(name = "r={0}")
        @ValueSource(strings = {"bob@b.example", "b.o.b@b.example", "bob+tag@b.example", "o'hara@b.example",
                "!#$%&'*+-/=?^_`{|}~@b.example"})
        void acceptsARecipientMailboxWithADotAtomLocalPart(String r) throws Exception {
            assertThat(SignatureHeader.parse(with("r", r)).recipient()).isEqualTo(r);
        }

        @Test
        void acceptsALocalPartOfTheLettersAndDigitsAtTheEdgesOfTheirRanges() throws Exception {
            assertThat(SignatureHeader.parse(with("r", "az09@b.example")).recipient()).isEqualTo("az09@b.example");
        }

        @Test
        void acceptsALocalPartOfSixtyFourCharacters() throws Exception {
            String r = "l".repeat(64) + "@b.example";

            assertThat(SignatureHeader.parse(with("r", r)).recipient()).isEqualTo(r);
        }

        @ParameterizedTest(name = "r={0}")
        @ValueSource(strings = {"@b.example", ".bob@b.example", "bob.@b.example", "b..ob@b.example",
                "\"bob\"@b.example", "bo(b)@b.example", "bo,b@b.example", "bo\\b@b.example", "b\u00f6b@b.example",
                "bob@b_example", "bob@b.example.", "bob@-b.example", "bo:b@b.example", "bo[b]@b.example"})
        void rejectsARecipientMailboxThatIsNotADotAtomAtADomainAsMalformed(String r) {
            assertMalformed(with("r", r));
        }

        @Test
        void rejectsALocalPartOfSixtyFiveCharactersAsMalformed() {
            assertMalformed(with("r", "l".repeat(65) + "@b.example"));
        }
    }

    private static String replaceTag(String header, String tag, String replacement) {
        StringBuilder sb = new StringBuilder();
        for (String part : header.split(";")) {
            String t = part.trim();
            if (!sb.isEmpty()) {
                sb.append("; ");
            }
            sb.append(t.startsWith(tag + "=") ? replacement : t);
        }
        return sb.toString();
    }

    private static String removeTag(String header, String tag) {
        StringBuilder sb = new StringBuilder();
        for (String part : header.split(";")) {
            String t = part.trim();
            if (t.startsWith(tag + "=")) {
                continue;
            }
            if (!sb.isEmpty()) {
                sb.append("; ");
            }
            sb.append(t);
        }
        return sb.toString();
    }
}
