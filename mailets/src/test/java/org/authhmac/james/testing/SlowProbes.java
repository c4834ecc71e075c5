package org.authhmac.james.testing;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The body of a slow health probe: each call takes {@code millis} and is counted, with the most that ran at once, so a
 * test can tell whether requests shared a probe.
 */
public final class SlowProbes {
    public final AtomicInteger probes = new AtomicInteger();
    public final AtomicInteger mostAtOnce = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private final long millis;

    public SlowProbes(long millis) {
        this.millis = millis;
    }

    /** Counts one probe, takes its time, and returns {@code answer}. */
    public <T> T probe(T answer) {
        probes.incrementAndGet();
        mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            running.decrementAndGet();
        }
        return answer;
    }
}
