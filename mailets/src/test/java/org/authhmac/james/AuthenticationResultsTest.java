package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

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
}
