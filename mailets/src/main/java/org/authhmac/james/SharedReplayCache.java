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
 * measured by the soak test; sizing in docs/CONFIGURATION.md, "Replay cache size").
 */
@Singleton
public class SharedReplayCache implements ReplayCache {
    public static final String CAPACITY_PROPERTY = "authhmac.replayCache.capacity";
    public static final int DEFAULT_CAPACITY = 200_000;

    private final ReplayCache delegate;

    @Inject
    public SharedReplayCache() {
        this(new InMemoryReplayCache(capacityFromSystem(), Clock.systemUTC()));
    }

    public SharedReplayCache(ReplayCache delegate) {
        this.delegate = delegate;
    }

    @Override
    public boolean recordIfAbsent(Entry entry, Instant expiresAt) throws ReplayCacheException {
        return delegate.recordIfAbsent(entry, expiresAt);
    }

    static int capacityFromSystem() {
        String v = System.getProperty(CAPACITY_PROPERTY);
        if (v == null || v.isBlank()) {
            return DEFAULT_CAPACITY;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("auth-hmac: invalid system property '" + CAPACITY_PROPERTY
                    + "': expected a positive whole number, got '" + v + "'");
        }
    }
}
