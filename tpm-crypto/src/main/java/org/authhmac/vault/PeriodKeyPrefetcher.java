package org.authhmac.vault;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.UnknownKeyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Derives the next period's key shortly before a boundary, so that no mail waits on the TPM then, for the trusted
 * streams (one key, one domain, one period length) used recently; a stream unused for a full period is dropped.
 */
final class PeriodKeyPrefetcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeriodKeyPrefetcher.class);

    /** The usable key of a key id, or UnknownKeyException (retired, gone). */
    interface KeyLookup {
        KeyRecord usableKey(String keyId) throws UnknownKeyException;
    }

    /** What is signed or verified repeatedly: one key, one domain, one period length. */
    private record Stream(String keyId, String domain, int periodSeconds) {
    }

    private final PeriodKeyCache cache;
    private final KeyLookup keys;
    private final int prefetchSeconds;
    private final Clock clock;
    /** Trusted streams and the latest period used in each: what is derived ahead. */
    private final LruTable<Stream, Long> recentStreams;
    private final ScheduledExecutorService thread;

    /** @param start whether a daemon thread calls {@link #refreshAhead()} every second (tests call it themselves) */
    PeriodKeyPrefetcher(PeriodKeyCache cache, KeyLookup keys, CacheSettings settings, Clock clock, boolean start) {
        this.cache = cache;
        this.keys = keys;
        this.prefetchSeconds = settings.prefetchSeconds();
        this.clock = clock;
        this.recentStreams = new LruTable<>(settings.maxEntries());
        if (start && prefetchSeconds > 0) {
            thread = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "auth-hmac-key-prefetch");
                t.setDaemon(true);
                return t;
            });
            thread.scheduleWithFixedDelay(this::refreshAheadQuietly, 1, 1, TimeUnit.SECONDS);
        } else {
            thread = null;
        }
    }

    /** A trusted context was used: its stream is worth deriving ahead. */
    void note(KdfContext ctx) {
        recentStreams.merge(new Stream(ctx.keyId(), ctx.domain(), ctx.periodSeconds()), ctx.period(), Math::max);
    }

    /**
     * Derives the next period's key for every recently used stream whose boundary is less than prefetchSeconds
     * away, after dropping the keys that left the window.
     */
    void refreshAhead() {
        long now = clock.instant().getEpochSecond();
        cache.sweep(now);
        for (Map.Entry<Stream, Long> e : recentStreams.snapshot()) {
            Stream s = e.getKey();
            long current = KdfContext.periodOf(now, s.periodSeconds());
            if (e.getValue() < current - 1) {
                recentStreams.remove(s, e.getValue()); // not used in the last full period: stop prefetching
                continue;
            }
            long lead = Math.min(prefetchSeconds, s.periodSeconds() / 2);
            long secondsToBoundary = (current + 1) * s.periodSeconds() - now;
            if (secondsToBoundary > lead) {
                continue;
            }
            KdfContext next = new KdfContext(s.keyId(), s.domain(), s.periodSeconds(), current + 1);
            if (cache.contains(next)) {
                continue;
            }
            try {
                cache.derive(keys.usableKey(s.keyId()), next, null);
            } catch (UnknownKeyException retired) {
                recentStreams.remove(s, e.getValue());
            } catch (KeyUnavailableException down) {
                LOG.warn("could not derive the next period key ahead of time for key {}: {}", s.keyId(), down.getMessage());
            }
        }
    }

    private void refreshAheadQuietly() {
        try {
            refreshAhead();
        } catch (RuntimeException e) {
            LOG.warn("period-key prefetch failed", e);
        }
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.shutdownNow();
        }
        recentStreams.clear();
    }
}
