package org.authhmac.james.matchers;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.ReplayCacheException;

/**
 * One replay cache per James instance, shared by every AuthHmacFailed declaration. A Guice just-in-time
 * singleton, so that operators only list the vault module in extensions.properties. Capacity comes from the
 * system property {@value #CAPACITY_PROPERTY} (default {@value #DEFAULT_CAPACITY}; 350-390 bytes of heap each as
 * measured by the soak test), and the share of it that the signatures of one signing domain may hold from
 * {@value #DOMAIN_SHARE_PROPERTY} (percent, default {@value #DEFAULT_DOMAIN_SHARE_PERCENT}): a flood from one
 * partner fills its own share and leaves the rest to the others. Sizing in docs/CONFIGURATION.md, "Replay cache size".
 */
@Singleton
public class SharedReplayCache implements ReplayCache {
    public static final String CAPACITY_PROPERTY = "authhmac.replayCache.capacity";
    public static final int DEFAULT_CAPACITY = 200_000;
    public static final String DOMAIN_SHARE_PROPERTY = "authhmac.replayCache.domainSharePercent";
    public static final int DEFAULT_DOMAIN_SHARE_PERCENT = 25;

    private final ReplayCache delegate;
    /** How long the delegate keeps a signature's entries after its expiry, and its clock; null: the delegate knows. */
    private final Duration retention;
    private final Clock clock;

    @Inject
    public SharedReplayCache() {
        this(capacityFromSystem(), domainSharePercentFromSystem(), InMemoryReplayCache.DEFAULT_RETENTION, Clock.systemUTC());
    }

    /** Over another store, which must itself refuse a signature whose entries it may already have dropped. */
    public SharedReplayCache(ReplayCache delegate) {
        this.delegate = delegate;
        this.retention = null;
        this.clock = null;
    }

    /** In memory: {@code capacity} entries, {@code domainSharePercent} of them for one signing domain. */
    public SharedReplayCache(int capacity, int domainSharePercent, Duration retention, Clock clock) {
        this.delegate = new InMemoryReplayCache(capacity, domainCapacity(capacity, domainSharePercent), retention, clock);
        this.retention = retention;
        this.clock = clock;
    }

    @Override
    public Outcome record(SignatureId signature, String replayId, int maxRecipients, Instant expiresAt) throws ReplayCacheException {
        if (clock != null && expiresAt.plus(retention).isBefore(clock.instant())) {
            // A mail verified this late (held through a long outage and released, with its acceptance time pinned) is
            // past the time the cache keeps a signature's entries: it may have forgotten the pass that makes this
            // copy a replay, so it cannot answer (docs/PROTOCOL.md 11).
            throw new ReplayCacheException("verified after the replay cache stopped remembering this signature (expired "
                    + expiresAt + ", kept " + retention + " longer): it cannot tell a replay");
        }
        return delegate.record(signature, replayId, maxRecipients, expiresAt);
    }

    /** The entries one signing domain may hold: its percent of the capacity, at least one. */
    static int domainCapacity(int capacity, int percent) {
        return (int) Math.max(1, (long) capacity * percent / 100);
    }

    static int capacityFromSystem() {
        return positiveProperty(CAPACITY_PROPERTY, DEFAULT_CAPACITY, Integer.MAX_VALUE);
    }

    static int domainSharePercentFromSystem() {
        return positiveProperty(DOMAIN_SHARE_PROPERTY, DEFAULT_DOMAIN_SHARE_PERCENT, 100);
    }

    private static int positiveProperty(String name, int fallback, int max) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 1 || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("auth-hmac: invalid system property '" + name
                    + "': expected a whole number 1.." + max + ", got '" + v + "'");
        }
    }
}
