package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class PeriodKeyTest {
    static final byte[] KEY_BYTES = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    static final KdfContext CONTEXT = new KdfContext("k1", "a.example", 900, 1_959_752L);

    @Test
    void macsFromOneKeySharedByManyThreadsEqualTheJdkHmacOfEachInput() throws Exception {
        // Given one key shared by every thread, as the Signer and Verifier share it across James's spool threads
        PeriodKey key = PeriodKey.of(CONTEXT, KEY_BYTES);
        int threads = 8;
        int perThread = 2_000;

        // When each thread MACs its own inputs at the same time
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<Integer>> mismatches = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Callable<Integer> work = () -> {
                    Mac reference = Mac.getInstance("HmacSHA256");
                    reference.init(new SecretKeySpec(KEY_BYTES, "HmacSHA256"));
                    int bad = 0;
                    for (int i = 0; i < perThread; i++) {
                        byte[] input = ("thread " + thread + " message " + i).getBytes(StandardCharsets.US_ASCII);
                        Mac mac = key.newMac();
                        mac.update(input, 0, input.length / 2);
                        mac.update(input, input.length / 2, input.length - input.length / 2);
                        if (!java.security.MessageDigest.isEqual(mac.doFinal(), reference.doFinal(input))) {
                            bad++;
                        }
                    }
                    return bad;
                };
                mismatches.add(pool.submit(work));
            }
            // Then every MAC equals a private, freshly initialised JDK HMAC of the same input
            int total = 0;
            for (Future<Integer> f : mismatches) {
                total += f.get();
            }
            assertThat(total).as("MACs that differ from the JDK's HmacSHA256").isZero();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void neverPrintsItsBytes() {
        PeriodKey key = PeriodKey.of(CONTEXT, KEY_BYTES);

        assertThat(key.toString())
                .doesNotContain(HexFormat.of().formatHex(KEY_BYTES))
                .doesNotContain(java.util.Base64.getEncoder().encodeToString(KEY_BYTES))
                .contains("bytes hidden");
    }
}
