package org.authhmac.james;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import com.google.inject.name.Named;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.james.metrics.api.GaugeRegistry;
import org.authhmac.vault.guice.AuthHmacVaultModule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending side's own clock, checked against {@code clock.reference} ({@link ClockReference}) every
 * {@code clock.checkEvery} on a daemon thread of its own, so that neither start-up nor signing ever waits for it.
 * Published as gauges ({@code authhmac.clock.offset}, {@code .delay}, {@code .lastCheck}) and said in the log: a WARN
 * when the offset passes half of the smallest maxFutureSkew among the partners (and once more when it is back), a
 * WARN when the reference stops answering; each once, when it starts.
 *
 * <p>One per James (a Guice just-in-time singleton): every declaration of the signing mailet shares one thread and
 * one set of gauges; the check stops when the last of them is destroyed.
 */
@Singleton
public class ClockWatch {
    private static final Logger LOGGER = LoggerFactory.getLogger(ClockWatch.class);
    public static final String OFFSET = Metrics.PREFIX + "clock.offset";
    public static final String DELAY = Metrics.PREFIX + "clock.delay";
    public static final String LAST_CHECK = Metrics.PREFIX + "clock.lastCheck";

    private final Gauges gauges;
    private final Clock clock;
    private final Duration timeout;
    private final AtomicLong checks = new AtomicLong();
    private ScheduledExecutorService executor;
    private int users;
    private volatile ClockReference.Reading last;
    // read and written under the check's own lock
    private boolean beyond;
    private boolean silent;
    private ClockReference reference;
    private long warnAboveMillis;

    /** @param clock the clock the signing mailet signs with: the one whose error counts */
    @Inject
    public ClockWatch(GaugeRegistry gauges, @Named(AuthHmacVaultModule.CLOCK_NAME) Clock clock) {
        this(gauges, clock, ClockReference.TIMEOUT);
    }

    ClockWatch(GaugeRegistry gauges, Clock clock, Duration timeout) {
        this.gauges = new Gauges(gauges);
        this.clock = clock;
        this.timeout = timeout;
    }

    /**
     * Starts the check when the partner file names a reference, or counts one more user of the running one; the first
     * query is made at once, on the check's thread.
     *
     * @return whether a check runs for this caller, who then calls {@link #stop()}
     */
    public synchronized boolean start(PartnerPolicies policies) {
        Optional<PartnerPolicies.ClockCheck> check = policies.clockCheck();
        if (check.isEmpty()) {
            return false;
        }
        users++;
        if (executor != null) {
            return true;
        }
        PartnerPolicies.ClockCheck c = check.get();
        reference = new ClockReference(c.host(), c.port(), clock, timeout);
        warnAboveMillis = policies.smallestMaxFutureSkew().toMillis() / 2;
        gauges.register(OFFSET, () -> last == null ? 0L : last.offsetMillis());
        gauges.register(DELAY, () -> last == null ? 0L : last.delayMillis());
        gauges.register(LAST_CHECK, () -> last == null ? 0L : last.at().getEpochSecond());
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "auth-hmac-clock-check");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(this::check, 0, c.every().toMillis(), TimeUnit.MILLISECONDS);
        LOGGER.info("auth-hmac: comparing this server's clock with {} every {}", reference, c.every());
        return true;
    }

    /** One user fewer; the last one stops the check. */
    public synchronized void stop() {
        if (users > 0 && --users == 0 && executor != null) {
            executor.shutdownNow();
            executor = null;
        }
    }

    /** The latest valid reading, if any. */
    public Optional<ClockReference.Reading> last() {
        return Optional.ofNullable(last);
    }

    /** Whether the check runs. */
    public synchronized boolean running() {
        return executor != null;
    }

    /** Checks done so far, answered or not. */
    long checks() {
        return checks.get();
    }

    /** One check now, on the caller's thread (the schedule calls it too). */
    void check() {
        synchronized (checks) {
            checkOnce();
            checks.incrementAndGet();
        }
    }

    private void checkOnce() {
        try {
            ClockReference.Answer answer = reference.query();
            switch (answer) {
                case ClockReference.Reading r -> reading(r);
                case ClockReference.NoAnswer n -> noAnswer(n);
            }
        } catch (RuntimeException e) {
            // an exception would end the schedule: the next check must still run
            LOGGER.warn("auth-hmac: clock check against {} failed: {}", reference, e.toString());
        }
    }

    private void reading(ClockReference.Reading r) {
        last = r;
        if (silent) {
            silent = false;
            LOGGER.info("auth-hmac: clock reference {} answers again", reference);
        }
        String how = r.offsetMillis() >= 0 ? "ahead of" : "behind";
        if (Math.abs(r.offsetMillis()) > warnAboveMillis) {
            if (!beyond) {
                beyond = true;
                LOGGER.warn("auth-hmac: this server's clock is {} ms {} {} (round trip {} ms), more than half of the smallest "
                        + "maxFutureSkew among the partners ({} ms): further on, partners hold our mail as future (ahead) or "
                        + "sooner as expired (behind). Check this server's time synchronisation (NTP)",
                        Math.abs(r.offsetMillis()), how, reference, r.delayMillis(), 2 * warnAboveMillis);
                return;
            }
        } else if (beyond) {
            beyond = false;
            LOGGER.info("auth-hmac: this server's clock is back within {} ms of {} ({} ms {})", warnAboveMillis, reference,
                    Math.abs(r.offsetMillis()), how);
            return;
        }
        LOGGER.debug("auth-hmac: this server's clock is {} ms {} {} (round trip {} ms)", Math.abs(r.offsetMillis()), how,
                reference, r.delayMillis());
    }

    private void noAnswer(ClockReference.NoAnswer n) {
        if (!silent) {
            silent = true;
            LOGGER.warn("auth-hmac: clock reference {} gave no answer ({}): this server's clock is not checked until it does; "
                    + "the authhmac.clock.* gauges keep the last reading", reference, n.why());
            return;
        }
        LOGGER.debug("auth-hmac: clock reference {} still gives no answer ({})", reference, n.why());
    }
}
