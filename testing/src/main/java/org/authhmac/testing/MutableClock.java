package org.authhmac.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock a test moves by hand: it reads {@code start} until the test calls {@link #advance} or {@link #set}, so that
 * expiries, period boundaries and retention happen when the test says. UTC; {@link #withZone} returns this same
 * clock. The instant is volatile: a test may move it while a worker thread of the code under test reads it.
 */
public final class MutableClock extends Clock {
    private volatile Instant now;

    public MutableClock(Instant start) {
        this.now = start;
    }

    /** Moves the clock forward by {@code d} (backward when {@code d} is negative). */
    public void advance(Duration d) {
        now = now.plus(d);
    }

    /** Puts the clock at {@code instant}, earlier or later than now. */
    public void set(Instant instant) {
        now = instant;
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
