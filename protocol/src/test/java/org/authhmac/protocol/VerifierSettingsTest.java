package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The verification policy's ranges: each accepted at its ends and refused one step beyond, naming the setting. */
class VerifierSettingsTest {
    private static final VerifierSettings DEFAULTS = VerifierSettings.defaults();

    @Test
    void defaultsAreThoseOfTheProtocol() {
        assertThat(DEFAULTS.headerName()).isEqualTo("X-Auth-HMAC");
        assertThat(DEFAULTS.previousPeriods()).isEqualTo(1);
        assertThat(DEFAULTS.maxFutureSkew()).isEqualTo(Duration.ofSeconds(300));
        assertThat(DEFAULTS.maxAge()).isNull();
        assertThat(DEFAULTS.maxHeaders()).isEqualTo(5);
        assertThat(DEFAULTS.allowedAlgorithms()).containsExactly("hmac-sha256");
        assertThat(DEFAULTS.maxHeaderBytes()).isEqualTo(1024 * 1024);
        assertThat(DEFAULTS.replayScope()).isEqualTo(ReplayScope.RECIPIENT);
        assertThat(DEFAULTS.subAddressSeparator()).isEqualTo("+");
        assertThat(DEFAULTS.periodSeconds()).isEqualTo(900);
    }

    @Test
    void theMaximumAgeIsTheCurrentAndThePreviousPeriodsUnlessConfigured() {
        assertThat(DEFAULTS.maxAgeFor(900)).isEqualTo(Duration.ofSeconds(1800));
        assertThat(DEFAULTS.withPreviousPeriods(0).maxAgeFor(60)).isEqualTo(Duration.ofSeconds(60));
        assertThat(DEFAULTS.withPreviousPeriods(96).maxAgeFor(86_400)).isEqualTo(Duration.ofDays(97));
        assertThat(DEFAULTS.withMaxAge(Duration.ofMinutes(20)).maxAgeFor(900)).isEqualTo(Duration.ofMinutes(20));
    }

    @Test
    void acceptsEachRangeAtBothEnds() {
        assertThat(DEFAULTS.withPreviousPeriods(0).previousPeriods()).isZero();
        assertThat(DEFAULTS.withPreviousPeriods(96).previousPeriods()).isEqualTo(96);
        assertThat(DEFAULTS.withMaxFutureSkew(Duration.ZERO).maxFutureSkew()).isZero();
        assertThat(DEFAULTS.withMaxAge(Duration.ofNanos(1)).maxAge()).isEqualTo(Duration.ofNanos(1));
        assertThat(DEFAULTS.withMaxHeaders(1).maxHeaders()).isEqualTo(1);
        assertThat(DEFAULTS.withMaxHeaders(50).maxHeaders()).isEqualTo(50);
        assertThat(DEFAULTS.withMaxHeaderBytes(1024).maxHeaderBytes()).isEqualTo(1024);
        assertThat(DEFAULTS.withPeriodSeconds(60).periodSeconds()).isEqualTo(60);
        assertThat(DEFAULTS.withPeriodSeconds(86_400).periodSeconds()).isEqualTo(86_400);
        assertThat(DEFAULTS.withSubAddressSeparator("").subAddressSeparator()).isEmpty();
        assertThat(DEFAULTS.withSubAddressSeparator("-_-_-_-_").subAddressSeparator()).isEqualTo("-_-_-_-_");
        assertThat(DEFAULTS.withAllowedAlgorithms(Set.of("HMAC-SHA256")).allowedAlgorithms()).containsExactly("hmac-sha256");
    }

    @ParameterizedTest(name = "previousPeriods={0}")
    @ValueSource(ints = {-1, 97})
    void refusesPreviousPeriodsOutsideZeroToNinetySix(int n) {
        assertThatThrownBy(() -> DEFAULTS.withPreviousPeriods(n))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("previousPeriods");
    }

    @Test
    void refusesANegativeFutureSkew() {
        assertThatThrownBy(() -> DEFAULTS.withMaxFutureSkew(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxFutureSkew");
    }

    @ParameterizedTest(name = "maxAge={0} s")
    @ValueSource(longs = {0, -1})
    void refusesAMaximumAgeThatIsNotPositive(long seconds) {
        assertThatThrownBy(() -> DEFAULTS.withMaxAge(Duration.ofSeconds(seconds)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxAge");
    }

    @ParameterizedTest(name = "maxHeaders={0}")
    @ValueSource(ints = {0, 51})
    void refusesToEvaluateNoneOrMoreThanFiftySignatureHeaders(int n) {
        assertThatThrownBy(() -> DEFAULTS.withMaxHeaders(n))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxHeaders");
    }

    @Test
    void refusesAHeaderBlockBoundUnderOneKibibyte() {
        assertThatThrownBy(() -> DEFAULTS.withMaxHeaderBytes(1023))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxHeaderBytes");
    }

    @ParameterizedTest(name = "periodSeconds={0}")
    @ValueSource(ints = {59, 86_401})
    void refusesAPeriodLengthOutsideOneMinuteToOneDay(int seconds) {
        assertThatThrownBy(() -> DEFAULTS.withPeriodSeconds(seconds))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("periodSeconds");
    }

    @Test
    void refusesNoAlgorithmAndAnyAlgorithmOtherThanHmacSha256() {
        assertThatThrownBy(() -> DEFAULTS.withAllowedAlgorithms(Set.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allowedAlgorithms");
        assertThatThrownBy(() -> DEFAULTS.withAllowedAlgorithms(Set.of("hmac-sha256", "hmac-sha1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hmac-sha1");
    }

    @ParameterizedTest(name = "separator=''{0}''")
    @ValueSource(strings = {"@", " ", "+\t", "-_-_-_-_-", "a", "1", "\u00e9"})
    void refusesASubAddressSeparatorThatIsNotOneToEightAtextSymbols(String separator) {
        assertThatThrownBy(() -> DEFAULTS.withSubAddressSeparator(separator))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("subAddressSeparator");
    }

    @Test
    void refusesMissingValues() {
        assertThatThrownBy(() -> DEFAULTS.withMaxFutureSkew(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> DEFAULTS.withReplayScope(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> DEFAULTS.withSubAddressSeparator(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> DEFAULTS.withAllowedAlgorithms(null)).isInstanceOf(NullPointerException.class);
    }
}
