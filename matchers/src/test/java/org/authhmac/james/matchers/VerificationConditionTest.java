package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import org.apache.mailet.MailetException;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.ReplayScope;
import org.authhmac.protocol.VerifierSettings;
import org.junit.jupiter.api.Test;

class VerificationConditionTest {
    static final String PARTNERS = "partners=a.example:partner-a, c.example:partner-c";

    static VerificationCondition parse(String condition) throws MailetException {
        return VerificationCondition.parse(condition, () -> {
            throw new UnknownHostException("no host name in this test");
        });
    }

    @Test
    void readsEveryParameterIntoItsTypedValue() throws Exception {
        // when
        VerificationCondition c = parse(PARTNERS + "; authservId=MX.B.Example; failOn=fail; headerName=X-Other;"
                + " previousPeriods=2; maxFutureSkew=2m; maxAge=1h; maxSignatures=3; replayScope=Signature;"
                + " subAddressSeparator=-; periodSeconds=3600");

        // then
        assertThat(c.partners()).containsExactly(Map.entry("a.example", "partner-a"), Map.entry("c.example", "partner-c"));
        assertThat(c.authservId()).isEqualTo("mx.b.example");
        assertThat(c.failOn()).containsExactly(AuthResult.FAIL);
        VerifierSettings s = c.settings();
        assertThat(s.headerName()).isEqualTo("X-Other");
        assertThat(s.previousPeriods()).isEqualTo(2);
        assertThat(s.maxFutureSkew()).isEqualTo(Duration.ofMinutes(2));
        assertThat(s.maxAge()).isEqualTo(Duration.ofHours(1));
        assertThat(s.maxHeaders()).isEqualTo(3);
        assertThat(s.replayScope()).isEqualTo(ReplayScope.SIGNATURE);
        assertThat(s.subAddressSeparator()).isEqualTo("-");
        assertThat(s.periodSeconds()).isEqualTo(3600);
    }

    @Test
    void onlyPartnersGivenMeansTheDefaultsAndThisHostsName() throws Exception {
        // when
        VerificationCondition c = parse(PARTNERS);

        // then
        assertThat(c.failOn()).containsExactlyInAnyOrder(AuthResult.FAIL, AuthResult.PERMERROR, AuthResult.NONE);
        assertThat(c.authservId()).isEqualTo("localhost");
        assertThat(c.settings()).isEqualTo(VerifierSettings.defaults());
    }

    @Test
    void anEmptySubAddressSeparatorTurnsSubAddressingOff() throws Exception {
        assertThat(parse(PARTNERS + "; subAddressSeparator=").settings().subAddressSeparator()).isEmpty();
    }

    @Test
    void countsAsFailureExactlyTheResultsOfFailOn() throws Exception {
        VerificationCondition c = parse(PARTNERS + "; failOn=permerror none");

        assertThat(c.countsAsFailure(AuthResult.PERMERROR)).isTrue();
        assertThat(c.countsAsFailure(AuthResult.NONE)).isTrue();
        assertThat(c.countsAsFailure(AuthResult.FAIL)).isFalse();
        assertThat(c.countsAsFailure(AuthResult.PASS)).isFalse();
    }

    @Test
    void theParsedConditionCannotBeChangedAfterwards() throws Exception {
        VerificationCondition c = parse(PARTNERS + "; failOn=fail");

        assertThatThrownBy(() -> c.failOn().add(AuthResult.PASS)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> c.partners().put("evil.example", "partner-a")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void aParameterGivenTwiceIsNamed() {
        assertThatThrownBy(() -> parse(PARTNERS + "; failOn=fail; failOn=none"))
                .isInstanceOf(MailetException.class).hasMessageContaining("'failOn'").hasMessageContaining("given twice");
    }

    @Test
    void passInFailOnIsRefused() {
        assertThatThrownBy(() -> parse(PARTNERS + "; failOn=pass"))
                .isInstanceOf(MailetException.class).hasMessageContaining("'failOn'").hasMessageContaining("pass cannot");
    }

    @Test
    void aFailOnOfSeparatorsOnlyNamesNoResult() {
        assertThatThrownBy(() -> parse(PARTNERS + "; failOn= , "))
                .isInstanceOf(MailetException.class).hasMessageContaining("'failOn'");
        assertThatThrownBy(() -> VerificationCondition.failOn(","))
                .isInstanceOf(MailetException.class).hasMessageContaining("names no result");
    }

    @Test
    void emptyPartsBetweenSemicolonsAreSkipped() throws Exception {
        assertThat(parse(";" + PARTNERS + ";;  ; failOn=none;").failOn()).containsExactly(AuthResult.NONE);
    }

    @Test
    void aHostWhoseOwnNameDoesNotResolveIsLocalhost() {
        assertThat(VerificationCondition.localHostName(() -> {
            throw new UnknownHostException("mx: Name or service not known");
        })).isEqualTo("localhost");
    }
}
