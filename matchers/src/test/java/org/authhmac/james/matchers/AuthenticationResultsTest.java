package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Optional;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which inbound Authentication-Results fields claim our authserv-id and are stripped as forgeries: every spelling an
 * RFC 8601 reader (a Sieve rule, a client, a later filter) takes for {@code mx.b.example}.
 */
class AuthenticationResultsTest {
    @ParameterizedTest
    @ValueSource(strings = {
            "mx.b.example; auth-hmac=pass reason=\"verified\"",
            "MX.B.Example; auth-hmac=pass",
            "(relay) mx.b.example (v) 1; auth-hmac=pass",
            "\"mx.b.example\"; auth-hmac=pass",
            "\"mx.b\\.example\"; auth-hmac=pass",
            "\"\\m\\x.b.example\" 1; auth-hmac=pass",
            "  \"mx.b.exampl\\e\"(x); auth-hmac=pass",
            "(relay \\) mx.c.example) mx.b.example; auth-hmac=pass",
            "\"mx.b.example; auth-hmac=pass",
    })
    void aFieldWhoseAuthservIdAnRfc8601ReaderTakesForOursClaimsIt(String value) {
        assertThat(AuthenticationResults.claims(value, "mx.b.example")).as(value).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "mx.other.example; dkim=pass",
            "\"mx.b.example x\"; auth-hmac=pass",
            "mx.b.example.evil; auth-hmac=pass",
    })
    void anotherAuthservIdDoesNotClaimIt(String value) {
        assertThat(AuthenticationResults.claims(value, "mx.b.example")).as(value).isFalse();
    }

    @Test
    void aFieldWithNothingBeforeItsFirstSemicolonHasNoAuthservId() {
        assertThat(AuthenticationResults.authservId("; auth-hmac=pass")).isEmpty();
        assertThat(AuthenticationResults.authservId(" (comment) ; auth-hmac=pass")).isEmpty();
    }

    @Test
    void keepsALoneBackslashThatEndsAnUnclosedQuotedAuthservId() {
        assertThat(AuthenticationResults.authservId("\"mx.b.example\\; auth-hmac=pass")).contains("mx.b.example\\");
        assertThat(AuthenticationResults.claims("\"mx.b.example\\; auth-hmac=pass", "mx.b.example")).isFalse();
    }

    @Test
    void readsAClosingParenthesisOutsideACommentAsText() {
        assertThat(AuthenticationResults.authservId("mx.other.example) (c) 1; auth-hmac=pass")).contains("mx.other.example)");
    }

    @Test
    void writesTheResultReasonFromDomainSigningDomainAndKeyInRfc8601Form() {
        RecordedVerdict pass = new RecordedVerdict(AuthResult.PASS, Reason.VERIFIED, Optional.of("k1"), Optional.of("a.example"),
                Optional.of(Instant.ofEpochSecond(1_800_000_000L)), "ok");

        assertThat(AuthenticationResults.value("mx.b.example", pass, Optional.of("a.example")))
                .isEqualTo("mx.b.example; auth-hmac=pass reason=\"verified\" header.from=a.example header.d=a.example header.s=k1");
    }

    @Test
    void leavesOutThePropertiesAVerdictWithoutSignatureDoesNotHave() {
        RecordedVerdict none = new RecordedVerdict(AuthResult.NONE, Reason.NO_SIGNATURE, Optional.empty(), Optional.empty(),
                Optional.empty(), "no signature");

        assertThat(AuthenticationResults.value("mx.b.example", none)).isEqualTo("mx.b.example; auth-hmac=none reason=\"no-signature\"");
    }
}
