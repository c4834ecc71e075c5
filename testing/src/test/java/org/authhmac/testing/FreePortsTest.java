package org.authhmac.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class FreePortsTest {
    private static final Path RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

    @Test
    void theKernelsEphemeralRangeIsReadWhole() throws IOException {
        assumeThat(Files.exists(RANGE)).as("a Linux kernel").isTrue();
        String range;
        try (InputStream in = Files.newInputStream(RANGE)) {
            range = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
        int low = Integer.parseInt(range.split("\\s+")[0]);
        assumeThat(low).as("a range above the ports the harness hands out").isGreaterThan(FreePorts.LOWEST + 1000);

        assertThat(FreePorts.ephemeralLow()).isEqualTo(low);
    }

    @Test
    void everyPortHandedOutLiesBelowTheEphemeralRange() {
        int low = FreePorts.ephemeralLow();
        for (int i = 0; i < 20; i++) {
            int port = FreePorts.next();
            assertThat(port).isGreaterThanOrEqualTo(FreePorts.LOWEST).isLessThan(low);
        }
    }
}
