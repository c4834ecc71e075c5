package org.authhmac.james;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.time.Clock;
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

    @Inject
    public SharedReplayCache() {
        this(inMemoryFromSystem());
    }

    public SharedReplayCache(ReplayCache delegate) {
        this.delegate = delegate;
    }

    @Override
    public Outcome record(SignatureId signature, String replayId, int maxRecipients, Instant expiresAt) throws ReplayCacheException {
        return delegate.record(signature, replayId, maxRecipients, expiresAt);
    }

    private static ReplayCache inMemoryFromSystem() {
        int capacity = capacityFromSystem();
        return new InMemoryReplayCache(capacity, domainCapacity(capacity, domainSharePercentFromSystem()),
                InMemoryReplayCache.DEFAULT_RETENTION, Clock.systemUTC());
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
