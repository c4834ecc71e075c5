package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.authhmac.protocol.fuzz.FuzzFixtures.ACCEPTED_AT;
import static org.authhmac.protocol.fuzz.FuzzFixtures.RECIPIENT;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * p= is in the KDF context, so every period length is a key of its own: a verifier that derived keys for any p= a
 * forger writes would let forgeries miss every key cache and make the TPM work. It accepts only its configured
 * period length, and says so before it asks for a key.
 */
class PeriodLengthPolicyTest {
    static final String MESSAGE = "From: Alice <alice@a.example>\r\nTo: Bob <bob@b.example>\r\nSubject: p\r\n\r\nHello\r\n";

    static String signedWithPeriod(int seconds) throws Exception {
        List<String> lines = new Signer(SignerSettings.defaults().withPeriodSeconds(seconds))
                .sign(new ByteArrayInputStream(MESSAGE.getBytes(StandardCharsets.ISO_8859_1)), List.of(FuzzFixtures.request()),
                        FuzzFixtures.keys());
        return lines.get(0) + "\r\n" + MESSAGE;
    }

    static Verdict verify(String message, VerifierSettings settings, CountingKeys keys) {
        return new Verifier(settings, keys, new InMemoryReplayCache(10, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)))
                .verify(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)), ACCEPTED_AT, RECIPIENT);
    }

    @ParameterizedTest
    @ValueSource(ints = {60, 600, 3600, 86_400})
    void aSignatureWithAnotherPeriodLengthIsUnknownKeyWithoutAnyKeyDerivation(int p) throws Exception {
        // given: a signature made with a valid t and the right key, but another period length than the verifier's 900
        CountingKeys keys = new CountingKeys(FuzzFixtures.keys());

        // when
        Verdict v = verify(signedWithPeriod(p), VerifierSettings.defaults(), keys);

        // then
        assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
        assertThat(v.reason()).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(v.detail()).isEqualTo("p=" + p + " is not the configured period length 900");
        assertThat(keys.derivations.get()).as("key derivations").isZero();
    }

    @Test
    void aVerifierConfiguredForThePeriodLengthPassesIt() throws Exception {
        CountingKeys keys = new CountingKeys(FuzzFixtures.keys());

        Verdict v = verify(signedWithPeriod(60), VerifierSettings.defaults().withPeriodSeconds(60), keys);

        assertThat(v.result()).isEqualTo(AuthResult.PASS);
        assertThat(keys.derivations.get()).isEqualTo(1);
    }

    @Test
    void theDefaultPeriodLengthIsNineHundredSeconds() {
        assertThat(VerifierSettings.defaults().periodSeconds()).isEqualTo(900);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 59, 86_401, -900})
    void aPeriodLengthOutsideSixtyToOneDayIsRefused(int seconds) {
        assertThatThrownBy(() -> VerifierSettings.defaults().withPeriodSeconds(seconds))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("periodSeconds");
    }
}
