package org.authhmac.protocol.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.authhmac.protocol.ReplayCache.Outcome;
import org.authhmac.protocol.ReplayCache.SignatureId;
import org.authhmac.protocol.ReplayCacheException;
import org.junit.jupiter.api.Test;

/** The client's replay memory: it never forgets, and full means it cannot answer, never that it forgets. */
class SeenSignaturesTest {
    private static final Instant LONG_AGO = Instant.now().minus(Duration.ofDays(400));

    private static SignatureId signature(int n) {
        return new SignatureId("b.example", "mbx-a1", "nonce-" + n + "-0123456789abcdef");
    }

    @Test
    void aSignatureWhoseWindowClosedLongAgoIsStillRememberedSoAnOldCopyIsAReplay() throws Exception {
        SeenSignatures seen = new SeenSignatures(10);

        assertThat(seen.record(signature(1), "alice@b.example", 1, LONG_AGO)).isEqualTo(Outcome.FRESH);

        assertThat(seen.record(signature(1), "alice@b.example", 1, LONG_AGO)).isEqualTo(Outcome.REPLAY);
        assertThat(seen.size()).isEqualTo(1);
    }

    @Test
    void aFullMemoryRefusesNewSignaturesAndStillKnowsTheOnesItHolds() throws Exception {
        // given a memory of two entries, both taken
        SeenSignatures seen = new SeenSignatures(2);
        seen.record(signature(1), "alice@b.example", 1, LONG_AGO);
        seen.record(signature(2), "alice@b.example", 1, LONG_AGO);

        // then a new signature cannot be recorded (the verifier makes that temperror), and no old one was forgotten
        assertThatThrownBy(() -> seen.record(signature(3), "alice@b.example", 1, Instant.now()))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("replay memory full: 2 entries");
        assertThat(seen.record(signature(1), "alice@b.example", 1, LONG_AGO)).isEqualTo(Outcome.REPLAY);
        assertThat(seen.record(signature(2), "alice@b.example", 1, LONG_AGO)).isEqualTo(Outcome.REPLAY);
    }
}
