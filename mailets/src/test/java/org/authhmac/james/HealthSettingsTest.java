package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.Stream;
import org.apache.mailet.MailetException;
import org.authhmac.james.testing.TestPartners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code health.*} in the partner file: when a partner counts as degraded. */
class HealthSettingsTest {
    static PartnerPolicies read(String... lines) throws MailetException {
        String[] all = Stream.concat(Stream.of("partner.a.example.keyset=a-b"), Stream.of(lines)).toArray(String[]::new);
        return PartnerPolicies.from(TestPartners.configuration(all));
    }

    @Test
    void withoutTheKeysAPartnerIsDegradedAtHalfItsLimitsOverAnHour() throws Exception {
        assertThat(read().health()).isEqualTo(new PartnerPolicies.Health(50, Duration.ofHours(1)));
    }

    @Test
    void bothKeysAreRead() throws Exception {
        assertThat(read("health.offsetWarnPercent=80", "health.window=15m").health())
                .isEqualTo(new PartnerPolicies.Health(80, Duration.ofMinutes(15)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1m", "60s", "7d", "604800s"})
    void aWindowFromOneMinuteToSevenDaysIsTaken(String window) throws Exception {
        assertThat(read("health.window=" + window).health().window()).isEqualTo(Duration.ofSeconds(
                window.endsWith("m") ? 60 : window.endsWith("d") ? 604_800 : Long.parseLong(window.replace("s", ""))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"59s", "604801s", "8d", "0"})
    void aWindowOutsideOneMinuteToSevenDaysStopsStartUpNamingTheKey(String window) {
        assertThatThrownBy(() -> read("health.window=" + window)).isInstanceOf(MailetException.class)
                .hasMessageContaining("health.window");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "100"})
    void aShareFromOneToAHundredPercentIsTaken(String percent) throws Exception {
        assertThat(read("health.offsetWarnPercent=" + percent).health().offsetWarnPercent()).isEqualTo(Integer.parseInt(percent));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "101", "half"})
    void aShareOutsideOneToAHundredStopsStartUpNamingTheKey(String percent) {
        assertThatThrownBy(() -> read("health.offsetWarnPercent=" + percent)).isInstanceOf(MailetException.class)
                .hasMessageContaining("health.offsetWarnPercent");
    }
}
