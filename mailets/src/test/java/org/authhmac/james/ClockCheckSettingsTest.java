package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.Stream;
import org.apache.mailet.MailetException;
import org.authhmac.james.testing.TestPartners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code clock.reference} and {@code clock.checkEvery} in the partner file: what is read, what is refused. */
class ClockCheckSettingsTest {
    static final String PARTNER = "partner.a.example.keyset=a-b";

    static PartnerPolicies read(String... lines) throws MailetException {
        String[] all = Stream.concat(Stream.of(PARTNER), Stream.of(lines)).toArray(String[]::new);
        return PartnerPolicies.from(TestPartners.configuration(all));
    }

    @Test
    void withoutAReferenceNothingIsChecked() throws Exception {
        assertThat(read().clockCheck()).isEmpty();
    }

    @Test
    void aReferenceWithoutPortIsAskedOnPort123EveryFiveMinutes() throws Exception {
        assertThat(read("clock.reference=ntp://Time.B.Example").clockCheck())
                .contains(new PartnerPolicies.ClockCheck("time.b.example", 123, Duration.ofMinutes(5)));
    }

    @Test
    void readsThePortAndTheInterval() throws Exception {
        assertThat(read("clock.reference=ntp://127.0.0.1:11123", "clock.checkEvery=16s").clockCheck())
                .contains(new PartnerPolicies.ClockCheck("127.0.0.1", 11123, Duration.ofSeconds(16)));
        assertThat(read("clock.reference=ntp://[::1]:11123/", "clock.checkEvery=1d").clockCheck())
                .contains(new PartnerPolicies.ClockCheck("::1", 11123, Duration.ofDays(1)));
    }

    @Test
    void acceptsTheFirstAndTheLastUdpPort() throws Exception {
        assertThat(read("clock.reference=ntp://time.b.example:1").clockCheck()).hasValueSatisfying(c -> assertThat(c.port()).isEqualTo(1));
        assertThat(read("clock.reference=ntp://time.b.example:65535").clockCheck())
                .hasValueSatisfying(c -> assertThat(c.port()).isEqualTo(65535));
    }

    static Stream<Arguments> refusedValues() {
        return Stream.of(
                refused("another scheme", "clock.reference", "must be ntp://host[:port]", "clock.reference=http://time.b.example"),
                refused("a host without scheme", "clock.reference", "must be ntp://host[:port]", "clock.reference=time.b.example"),
                refused("no host", "clock.reference", "is not a URI", "clock.reference=ntp://"),
                refused("no host but a port", "clock.reference", "names no host", "clock.reference=ntp://:123"),
                refused("a port that is no number", "clock.reference", "names no host", "clock.reference=ntp://time.b.example:ntp"),
                refused("port 0", "clock.reference", "is no UDP port", "clock.reference=ntp://time.b.example:0"),
                refused("a port beyond 65535", "clock.reference", "is no UDP port", "clock.reference=ntp://time.b.example:65536"),
                refused("a user", "clock.reference", "nothing more", "clock.reference=ntp://me@time.b.example"),
                refused("a path", "clock.reference", "nothing more", "clock.reference=ntp://time.b.example/pool"),
                refused("a query", "clock.reference", "nothing more", "clock.reference=ntp://time.b.example?minpoll=4"),
                refused("a fragment", "clock.reference", "nothing more", "clock.reference=ntp://time.b.example#1"),
                refused("no URI at all", "clock.reference", "is not a URI", "clock.reference=ntp://time b"),
                refused("an interval under 16 s", "clock.checkEvery", "between 16s and 1d",
                        "clock.reference=ntp://time.b.example", "clock.checkEvery=15s"),
                refused("an interval over a day", "clock.checkEvery", "between 16s and 1d",
                        "clock.reference=ntp://time.b.example", "clock.checkEvery=25h"),
                refused("an interval that is no duration", "clock.checkEvery", "expected a duration",
                        "clock.reference=ntp://time.b.example", "clock.checkEvery=often"),
                refused("an interval without reference", "clock.checkEvery", "read only with clock.reference",
                        "clock.checkEvery=5m"),
                refused("an empty reference", "clock.reference", "has no value", "clock.reference="));
    }

    static Arguments refused(String what, String key, String reason, String... lines) {
        return Arguments.of(what, key, reason, lines);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedValues")
    void aBadValueStopsTheStartUpNamingTheKey(String what, String key, String reason, String[] lines) {
        assertThatThrownBy(() -> read(lines))
                .isInstanceOf(MailetException.class)
                .hasMessageStartingWith("auth-hmac: " + PartnerPolicies.PATH + ": invalid parameter '" + key + "': ")
                .hasMessageContaining(reason);
    }
}
