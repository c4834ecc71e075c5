package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SharedProbeTest {

    @Test
    void aProbeThatThrowsAnErrorFailsItsRequestsAndTheNextRequestProbesAgain() {
        AtomicInteger calls = new AtomicInteger();
        SharedProbe<String> probe = new SharedProbe<>(() -> {
            if (calls.incrementAndGet() == 1) {
                throw new StackOverflowError("deep");
            }
            return "answered";
        });

        assertThatThrownBy(() -> probe.result().block(Duration.ofSeconds(5)))
                .hasMessageContaining("the probe failed")
                .hasRootCauseInstanceOf(StackOverflowError.class);

        assertThat(probe.result().block(Duration.ofSeconds(5))).isEqualTo("answered");
        assertThat(calls.get()).isEqualTo(2);
    }

    @Test
    void anExceptionFailsItsRequestsAndTheNextRequestProbesAgain() {
        AtomicInteger calls = new AtomicInteger();
        SharedProbe<String> probe = new SharedProbe<>(() -> {
            if (calls.incrementAndGet() == 1) {
                throw new java.io.IOException("connection refused");
            }
            return "answered";
        });

        assertThatThrownBy(() -> probe.result().block(Duration.ofSeconds(5))).hasRootCauseMessage("connection refused");

        assertThat(probe.result().block(Duration.ofSeconds(5))).isEqualTo("answered");
    }
}
