package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.mailet.MailetException;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.ReplayScope;
import org.authhmac.protocol.VerifierSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** conf/auth-hmac-partners.properties, read as James hands it over ({@link TestPartners}): its values, its checks. */
class PartnerPoliciesTest {
    static final String FILE = "conf/auth-hmac-partners.properties";

    static PartnerPolicies read(String... lines) throws MailetException {
        return PartnerPolicies.from(TestPartners.configuration(lines));
    }

    @Test
    void aMaxAgeOfExactlyThePeriodsWindowIsAccepted() throws Exception {
        // (previousPeriods + 1) x periodSeconds = 2 x 900 s
        assertThat(read("partner.a.example.keyset=a-b", "partner.a.example.maxAge=1800s").partners().get("a.example").maxAge())
                .contains(Duration.ofSeconds(1800));
    }

    @Test
    void aKeyWithACharacterJustBeyondAsciiIsRefusedAndShownEscapedAroundPrintableAscii() {
        // a space, DEL (0x7f, ASCII but not printable), then U+0080: the first character that is not ASCII
        assertThatThrownBy(() -> read("partner.a.example.keyset=a-b", "partner.a\\ b\\u007f\\u0080.example.keyset=x"))
                .isInstanceOf(MailetException.class)
                .hasMessageContaining("'partner.a b\\u007f\\u0080.example.keyset'");
    }

    @Test
    void aValueWithACharacterJustBeyondAsciiIsRefused() {
        assertThatThrownBy(() -> read("partner.a.example.keyset=a-b", "authservId=mx.b\\u0080.example"))
                .isInstanceOf(MailetException.class).hasMessageContaining("'authservId'");
    }

    @Test
    void aFailOnOfSeparatorsOnlyNamesNoResult() {
        // James's reader drops empty list items before this; the reader refuses what is left empty all the same.
        assertThatThrownBy(() -> PartnerPolicyReader.failOn("partner.a.example.failOn", " , "))
                .isInstanceOf(MailetException.class).hasMessageContaining("'partner.a.example.failOn'")
                .hasMessageContaining("names no result");
    }

    @Test
    void readsEveryKeyIntoItsTypedValue() throws Exception {
        // when
        PartnerPolicies p = read(
                "# what we agreed with our partners",
                "authservId=MX.B.Example",
                "headerName=X-Other",
                "maxSignatures=3",
                "subAddressSeparator=-",
                "replayCache.capacity=1000",
                "replayCache.domainSharePercent=10",
                "",
                "partner.A.Example.keyset=partner-a",
                "partner.A.Example.periodSeconds=3600",
                "partner.A.Example.previousPeriods=2",
                "partner.A.Example.maxFutureSkew=2m",
                "partner.A.Example.maxAge=1h",
                "partner.A.Example.replayScope=Signature",
                "partner.A.Example.alignment=strict",
                "partner.A.Example.failOn=fail",
                "partner.c.example.keyset=partner-c");

        // then
        assertThat(p.authservId()).contains("mx.b.example");
        assertThat(p.shared().headerName()).isEqualTo("X-Other");
        assertThat(p.shared().maxHeaders()).isEqualTo(3);
        assertThat(p.shared().subAddressSeparator()).isEqualTo("-");
        assertThat(p.replayCache()).isEqualTo(new PartnerPolicies.ReplayCacheSize(1000, 10));
        assertThat(p.keysetByDomain()).containsExactly(Map.entry("a.example", "partner-a"), Map.entry("c.example", "partner-c"));
        assertThat(p.partners().get("a.example")).isEqualTo(new PartnerPolicy("a.example", "partner-a", 3600, 2,
                Duration.ofMinutes(2), Optional.of(Duration.ofHours(1)), ReplayScope.SIGNATURE, PartnerPolicy.Alignment.STRICT,
                Set.of(AuthResult.FAIL)));
        VerifierSettings a = p.verifierSettings(p.partners().get("a.example"));
        assertThat(a.headerName()).isEqualTo("X-Other");
        assertThat(a.maxHeaders()).isEqualTo(3);
        assertThat(a.subAddressSeparator()).isEqualTo("-");
        assertThat(a.periodSeconds()).isEqualTo(3600);
        assertThat(a.previousPeriods()).isEqualTo(2);
        assertThat(a.maxFutureSkew()).isEqualTo(Duration.ofMinutes(2));
        assertThat(a.maxAge()).isEqualTo(Duration.ofHours(1));
        assertThat(a.replayScope()).isEqualTo(ReplayScope.SIGNATURE);
    }

    @Test
    void onlyKeysetsGivenMeansTheDefaults() throws Exception {
        // when
        PartnerPolicies p = read("partner.a.example.keyset=partner-a", "partner.c.example.keyset=partner-c");

        // then
        assertThat(p.authservId()).as("the host name, found by the matcher").isEmpty();
        assertThat(p.shared()).isEqualTo(VerifierSettings.defaults());
        assertThat(p.replayCache()).isEqualTo(new PartnerPolicies.ReplayCacheSize(200_000, 25));
        assertThat(p.replayCache().domainCapacity()).isEqualTo(50_000);
        assertThat(p.partners().values()).containsExactly(
                new PartnerPolicy("a.example", "partner-a", 900, 1, Duration.ofMinutes(5), Optional.empty(), ReplayScope.RECIPIENT,
                        PartnerPolicy.Alignment.STRICT, Set.of(AuthResult.FAIL, AuthResult.PERMERROR, AuthResult.NONE)),
                new PartnerPolicy("c.example", "partner-c", 900, 1, Duration.ofMinutes(5), Optional.empty(), ReplayScope.RECIPIENT,
                        PartnerPolicy.Alignment.STRICT, Set.of(AuthResult.FAIL, AuthResult.PERMERROR, AuthResult.NONE)));
        assertThat(p.verifierSettings(p.partners().get("a.example"))).isEqualTo(VerifierSettings.defaults());
    }

    @Test
    void theEndsOfEveryRangeAreAccepted() throws Exception {
        PartnerPolicies low = read("partner.a.example.keyset=a-b", "partner.a.example.periodSeconds=60",
                "partner.a.example.previousPeriods=0", "partner.a.example.maxFutureSkew=0", "partner.a.example.maxAge=1ms",
                "maxSignatures=1", "replayCache.capacity=1", "replayCache.domainSharePercent=1");
        PartnerPolicies high = read("partner.a.example.keyset=" + "k".repeat(64), "partner.a.example.periodSeconds=86400",
                "partner.a.example.previousPeriods=96", "maxSignatures=50", "replayCache.capacity=2147483647",
                "replayCache.domainSharePercent=100");

        PartnerPolicy a = low.partners().get("a.example");
        assertThat(List.of(a.periodSeconds(), a.previousPeriods(), low.shared().maxHeaders())).containsExactly(60, 0, 1);
        assertThat(a.maxFutureSkew()).isZero();
        assertThat(a.maxAge()).contains(Duration.ofMillis(1));
        assertThat(low.replayCache()).isEqualTo(new PartnerPolicies.ReplayCacheSize(1, 1));
        PartnerPolicy h = high.partners().get("a.example");
        assertThat(List.of(h.periodSeconds(), h.previousPeriods(), high.shared().maxHeaders())).containsExactly(86_400, 96, 50);
        assertThat(high.replayCache()).isEqualTo(new PartnerPolicies.ReplayCacheSize(Integer.MAX_VALUE, 100));
    }

    @Test
    void aDomainMayHoldItsPercentOfTheReplayCacheAndAtLeastOneEntry() {
        assertThat(PartnerPolicies.ReplayCacheSize.DEFAULT.domainCapacity()).isEqualTo(50_000);
        assertThat(new PartnerPolicies.ReplayCacheSize(Integer.MAX_VALUE, 100).domainCapacity()).isEqualTo(Integer.MAX_VALUE);
        assertThat(new PartnerPolicies.ReplayCacheSize(40, 25).domainCapacity()).isEqualTo(10);
        assertThat(new PartnerPolicies.ReplayCacheSize(3, 25).domainCapacity()).isEqualTo(1);
    }

    @Test
    void anEmptySubAddressSeparatorTurnsSubAddressingOff() throws Exception {
        assertThat(read("partner.a.example.keyset=a-b", "subAddressSeparator=").shared().subAddressSeparator()).isEmpty();
    }

    @Test
    void failOnWithCommasKeepsEveryResult() throws Exception {
        assertThat(read("partner.a.example.keyset=a-b", "partner.a.example.failOn=fail, permerror,none,neutral")
                .partners().get("a.example").failOn())
                .containsExactlyInAnyOrder(AuthResult.FAIL, AuthResult.PERMERROR, AuthResult.NONE, AuthResult.NEUTRAL);
        assertThat(read("partner.a.example.keyset=a-b", "partner.a.example.failOn=permerror none")
                .partners().get("a.example").failOn())
                .containsExactlyInAnyOrder(AuthResult.PERMERROR, AuthResult.NONE);
    }

    static Stream<Arguments> refusedFiles() {
        return Stream.of(
                refused("an unknown shared key", "authservID", "unknown; expected partner.<domain>.<setting> or one of [authservId, ",
                        "partner.a.example.keyset=a-b", "authservID=mx.b.example"),
                refused("an unknown partner setting", "partner.a.example.periodSecond", "the setting one of [alignment, failOn, ",
                        "partner.a.example.keyset=a-b", "partner.a.example.periodSecond=900"),
                refused("a partner key without domain", "partner.keyset", "unknown", "partner.keyset=a-b"),
                refused("a partner key with an empty domain", "partner..keyset", "is required", "partner..keyset=a-b"),
                refused("a partner domain that is no domain name", "partner.a_b.example.keyset", "is not a domain name",
                        "partner.a_b.example.keyset=a-b"),
                refused("a partner key given twice", "partner.a.example.keyset", "given twice",
                        "partner.a.example.keyset=a-b", "partner.a.example.keyset=a-b"),
                refused("a partner key given twice with two values", "partner.a.example.periodSeconds", "given twice",
                        "partner.a.example.keyset=a-b", "partner.a.example.periodSeconds=900", "partner.a.example.periodSeconds=60"),
                refused("two spellings of one domain", "partner.A.Example.keyset", "given twice",
                        "partner.a.example.keyset=a-b", "partner.A.Example.keyset=evil"),
                refused("two spellings of one domain, each with a setting of its own", "partner.A.Example.failOn", "given twice",
                        "partner.a.example.keyset=a-b", "partner.a.example.failOn=fail", "partner.A.Example.failOn=none"),
                refused("a shared key given twice", "maxSignatures", "given twice",
                        "partner.a.example.keyset=a-b", "maxSignatures=3", "maxSignatures=5"),
                refused("a partner without keyset", "partner.c.example.keyset", "is required",
                        "partner.a.example.keyset=a-b", "partner.c.example.periodSeconds=900"),
                refused("a partner with an empty keyset", "partner.a.example.keyset", "has no value", "partner.a.example.keyset="),
                refused("an empty period, which is no wish for the default", "partner.a.example.periodSeconds", "has no value",
                        "partner.a.example.keyset=a-b", "partner.a.example.periodSeconds="),
                refused("an empty shared setting", "authservId", "has no value", "partner.a.example.keyset=a-b", "authservId="),
                refused("no partner at all", "partner.<domain>.keyset", "names no partner", "authservId=mx.b.example"),
                refused("an empty file", "partner.<domain>.keyset", "names no partner"),
                refused("a bad keyset name", "partner.a.example.keyset", "must be 1..64 characters",
                        "partner.a.example.keyset=a/b"),
                refused("a keyset name too long", "partner.a.example.keyset", "must be 1..64 characters",
                        "partner.a.example.keyset=" + "k".repeat(65)),
                refused("a period below a minute", "partner.a.example.periodSeconds", "must be 60..86400",
                        "partner.a.example.keyset=a-b", "partner.a.example.periodSeconds=59"),
                refused("a period above a day", "partner.a.example.periodSeconds", "must be 60..86400",
                        "partner.a.example.keyset=a-b", "partner.a.example.periodSeconds=86401"),
                refused("a period that is no number", "partner.a.example.periodSeconds", "expected a whole number",
                        "partner.a.example.keyset=a-b", "partner.a.example.periodSeconds=15m"),
                refused("negative previous periods", "partner.a.example.previousPeriods", "must be 0..96",
                        "partner.a.example.keyset=a-b", "partner.a.example.previousPeriods=-1"),
                refused("more than 96 previous periods", "partner.a.example.previousPeriods", "must be 0..96",
                        "partner.a.example.keyset=a-b", "partner.a.example.previousPeriods=97"),
                refused("no signature evaluated", "maxSignatures", "must be 1..50",
                        "partner.a.example.keyset=a-b", "maxSignatures=0"),
                refused("more than 50 signatures evaluated", "maxSignatures", "must be 1..50",
                        "partner.a.example.keyset=a-b", "maxSignatures=51"),
                refused("an empty replay cache", "replayCache.capacity", "must be 1..",
                        "partner.a.example.keyset=a-b", "replayCache.capacity=0"),
                refused("a replay cache of words", "replayCache.capacity", "expected a whole number",
                        "partner.a.example.keyset=a-b", "replayCache.capacity=many"),
                refused("a replay cache beyond int", "replayCache.capacity", "expected a whole number",
                        "partner.a.example.keyset=a-b", "replayCache.capacity=2147483648"),
                refused("no share of the replay cache", "replayCache.domainSharePercent", "must be 1..100",
                        "partner.a.example.keyset=a-b", "replayCache.domainSharePercent=0"),
                refused("a share with a percent sign", "replayCache.domainSharePercent", "expected a whole number",
                        "partner.a.example.keyset=a-b", "replayCache.domainSharePercent=25%"),
                refused("more than the whole replay cache", "replayCache.domainSharePercent", "must be 1..100",
                        "partner.a.example.keyset=a-b", "replayCache.domainSharePercent=101"),
                refused("an empty maxAge", "partner.a.example.maxAge", "has no value",
                        "partner.a.example.keyset=a-b", "partner.a.example.maxAge="),
                refused("a maxAge beyond the periods, which would only keep replay entries longer", "partner.a.example.maxAge",
                        "is longer than the periods accept", "partner.a.example.keyset=a-b", "partner.a.example.maxAge=1801s"),
                refused("a substitution of the environment", "authservId", "holds a ${...} substitution",
                        "partner.a.example.keyset=a-b", "authservId=${env:HOSTNAME}"),
                refused("a substitution of another key", "partner.a.example.keyset", "holds a ${...} substitution",
                        "partner.a.example.keyset=${authservId}", "authservId=mx.b.example"),
                refused("a zero maxAge", "partner.a.example.maxAge", "must be positive",
                        "partner.a.example.keyset=a-b", "partner.a.example.maxAge=0s"),
                refused("a negative maxAge", "partner.a.example.maxAge", "expected a duration",
                        "partner.a.example.keyset=a-b", "partner.a.example.maxAge=-5m"),
                refused("a skew of more digits than a long holds", "partner.a.example.maxFutureSkew", "too long a duration",
                        "partner.a.example.keyset=a-b", "partner.a.example.maxFutureSkew=99999999999999999999"),
                refused("a maxAge of more days than a Duration holds", "partner.a.example.maxAge", "too long a duration",
                        "partner.a.example.keyset=a-b", "partner.a.example.maxAge=999999999999999d"),
                refused("a skew that is no duration", "partner.a.example.maxFutureSkew", "expected a duration",
                        "partner.a.example.keyset=a-b", "partner.a.example.maxFutureSkew=soon"),
                refused("an unknown replay scope", "partner.a.example.replayScope", "expected recipient or signature",
                        "partner.a.example.keyset=a-b", "partner.a.example.replayScope=mailbox"),
                refused("an unknown alignment", "partner.a.example.alignment", "expected strict",
                        "partner.a.example.keyset=a-b", "partner.a.example.alignment=relaxed"),
                refused("pass in failOn", "partner.a.example.failOn", "pass cannot count as failure",
                        "partner.a.example.keyset=a-b", "partner.a.example.failOn=fail,pass"),
                refused("temperror in failOn", "partner.a.example.failOn", "temperror is never a failure",
                        "partner.a.example.keyset=a-b", "partner.a.example.failOn=temperror"),
                refused("an unknown result in failOn", "partner.a.example.failOn", "unknown result 'failed'",
                        "partner.a.example.keyset=a-b", "partner.a.example.failOn=fail,failed"),
                refused("nothing in failOn", "partner.a.example.failOn", "has no value",
                        "partner.a.example.keyset=a-b", "partner.a.example.failOn="),
                refused("only commas in failOn", "partner.a.example.failOn", "has no value",
                        "partner.a.example.keyset=a-b", "partner.a.example.failOn=, "),
                refused("a comma in a partner's single-valued setting", "partner.a.example.periodSeconds", "with a comma",
                        "partner.a.example.keyset=a-b", "partner.a.example.periodSeconds=900,60"),
                refused("a comma in a keyset", "partner.a.example.keyset", "with a comma", "partner.a.example.keyset=a-b,c-b"),
                refused("a comma in a shared setting", "authservId", "with a comma",
                        "partner.a.example.keyset=a-b", "authservId=mx.b.example,mx.c.example"),
                refused("an authserv-id that is no domain name", "authservId", "is not a domain name",
                        "partner.a.example.keyset=a-b", "authservId=mx b"),
                refused("a header name with a colon", "headerName", "is not a header field name",
                        "partner.a.example.keyset=a-b", "headerName=X-Auth:HMAC"),
                refused("a sub-address separator of letters", "subAddressSeparator", "atext",
                        "partner.a.example.keyset=a-b", "subAddressSeparator=plus"));
    }

    /** A file of these lines, refused for a reason the message gives after the key. */
    static Arguments refused(String what, String key, String reason, String... lines) {
        return Arguments.of(what, key, reason, lines);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedFiles")
    void aFileTheReaderRefusesStopsTheStartUpNamingTheKeyAndTheFile(String what, String key, String reason, String[] lines) {
        assertThatThrownBy(() -> read(lines))
                .isInstanceOf(MailetException.class)
                .hasMessageStartingWith("auth-hmac: " + FILE + ": invalid parameter '" + key + "': ")
                .hasMessageContaining(reason);
    }

    @Test
    void theGoverningPolicyIsTheAuthorDomainsThenTheFirstClaimedThenTheFilesFirst() throws Exception {
        // given three partners, c first in the file
        PartnerPolicies p = read("partner.c.example.keyset=c-b", "partner.a.example.keyset=a-b", "partner.d.example.keyset=d-b");

        // then the author's partner, wherever it stands among the claimed
        assertThat(p.governing(Optional.of("d.example"), List.of("a.example", "d.example")).domain()).isEqualTo("d.example");
        // else, with an author that is no partner or none, the first claimed partner
        assertThat(p.governing(Optional.of("evil.example"), List.of("evil.example", "a.example", "d.example")).domain())
                .isEqualTo("a.example");
        assertThat(p.governing(Optional.empty(), List.of("d.example", "a.example")).domain()).isEqualTo("d.example");
        // else the file's first
        assertThat(p.governing(Optional.empty(), List.of()).domain()).isEqualTo("c.example");
        assertThat(p.governing(Optional.of("evil.example"), List.of("evil.example")).domain()).isEqualTo("c.example");
    }

    @Test
    void failOnIsTheUnionOfTheClaimedPartnersOrOfAllWhenNoneIsClaimed() throws Exception {
        PartnerPolicies p = read("partner.a.example.keyset=a-b", "partner.a.example.failOn=fail",
                "partner.c.example.keyset=c-b", "partner.c.example.failOn=none",
                "partner.d.example.keyset=d-b", "partner.d.example.failOn=neutral");

        assertThat(p.failOn(List.of("a.example"))).containsExactly(AuthResult.FAIL);
        assertThat(p.failOn(List.of("a.example", "c.example"))).containsExactlyInAnyOrder(AuthResult.FAIL, AuthResult.NONE);
        assertThat(p.failOn(List.of("evil.example", "c.example"))).containsExactly(AuthResult.NONE);
        assertThat(p.failOn(List.of())).containsExactlyInAnyOrder(AuthResult.FAIL, AuthResult.NONE, AuthResult.NEUTRAL);
        assertThat(p.failOn(List.of("evil.example"))).containsExactlyInAnyOrder(AuthResult.FAIL, AuthResult.NONE, AuthResult.NEUTRAL);
    }

    @Test
    void withoutAuthorDomainAMailFailsOnEveryPartnersFailOnWhateverItClaims() throws Exception {
        PartnerPolicies p = read("partner.a.example.keyset=a-b", "partner.a.example.failOn=fail",
                "partner.c.example.keyset=c-b", "partner.c.example.failOn=none");

        assertThat(p.failOn(Optional.of("a.example"), List.of("a.example"))).containsExactly(AuthResult.FAIL);
        assertThat(p.failOn(Optional.of("evil.example"), List.of("a.example"))).containsExactly(AuthResult.FAIL);
        assertThat(p.failOn(Optional.empty(), List.of("a.example"))).containsExactlyInAnyOrder(AuthResult.FAIL, AuthResult.NONE);
        assertThat(p.failOn(Optional.empty(), List.of())).containsExactlyInAnyOrder(AuthResult.FAIL, AuthResult.NONE);
    }

    @Test
    void aPartnerDomainTypedInUtf8IsRefusedNotReadAsAnotherDomain() {
        // James reads the file as ISO-8859-1: bücher arrives as bÃ¼cher, whose A-label is no partner's
        assertThatThrownBy(() -> read("partner.bücher.example.keyset=a-b"))
                .isInstanceOf(MailetException.class)
                .hasMessageStartingWith("auth-hmac: " + FILE + ": invalid parameter 'partner.b\\u00c3\\u00bccher.example.keyset': ")
                .hasMessageContaining("outside ASCII", "A-label");
    }

    @Test
    void aValueTypedInUtf8IsRefusedNamingItsKey() {
        assertThatThrownBy(() -> read("partner.xn--bcher-kva.example.keyset=a-b", "authservId=mx.bücher.example"))
                .isInstanceOf(MailetException.class)
                .hasMessageStartingWith("auth-hmac: " + FILE + ": invalid parameter 'authservId': ")
                .hasMessageContaining("outside ASCII");
    }

    @Test
    void aPartnerDomainWrittenAsItsALabelIsThatDomain() throws Exception {
        assertThat(read("partner.XN--BCHER-KVA.example.keyset=a-b").domains()).containsExactly("xn--bcher-kva.example");
    }

    @Test
    void thePoliciesCannotBeChangedAfterwards() throws Exception {
        PartnerPolicies p = read("partner.a.example.keyset=a-b", "partner.a.example.failOn=fail");
        PartnerPolicy a = p.partners().get("a.example");

        assertThatThrownBy(() -> a.failOn().add(AuthResult.PASS)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> p.partners().put("evil.example", a)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> p.domains().add("evil.example")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> p.failOn(List.of()).add(AuthResult.PASS)).isInstanceOf(UnsupportedOperationException.class);
        p.keysetByDomain().put("evil.example", "a-b");
        assertThat(p.domains()).containsExactly("a.example");
    }

    @Test
    void thePoliciesKeepNothingOfTheCollectionsTheyWereMadeFrom() {
        Map<String, PartnerPolicy> partners = new LinkedHashMap<>();
        Set<AuthResult> failOn = EnumSet.of(AuthResult.FAIL);
        PartnerPolicy a = new PartnerPolicy("a.example", "a-b", 900, 1, Duration.ofMinutes(5), Optional.empty(),
                ReplayScope.RECIPIENT, PartnerPolicy.Alignment.STRICT, failOn);
        partners.put("a.example", a);
        PartnerPolicies p = new PartnerPolicies(partners, Optional.empty(), VerifierSettings.defaults(),
                PartnerPolicies.ReplayCacheSize.DEFAULT);

        failOn.add(AuthResult.NONE);
        partners.put("evil.example", a);

        assertThat(a.failOn()).containsExactly(AuthResult.FAIL);
        assertThat(p.domains()).containsExactly("a.example");
    }
}
