package org.authhmac.james.matchers;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.apache.mailet.MailetException;
import org.authhmac.james.Metrics;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.ReplayCacheException;

/**
 * One replay cache per James instance, shared by every AuthHmacFailed declaration. A Guice just-in-time
 * singleton, so that operators only list the vault module in extensions.properties. Its size comes from
 * {@code conf/auth-hmac-partners.properties}: {@code replayCache.capacity} entries (350-390 bytes of heap each as
 * measured by the soak test), of which the signatures of one signing domain may hold
 * {@code replayCache.domainSharePercent} percent: a flood from one partner fills its own share and leaves the rest to
 * the others. Sizing in docs/CONFIGURATION.md, "Replay cache size". With {@code replayCache.store=redis} the cache is
 * in a Redis that several James share ({@link RedisReplayCache}), sized the same way.
 */
@Singleton
public class SharedReplayCache implements ReplayCache {

    /** The partner file that sizes the cache, when Guice made it; null when made with a size or over another store. */
    private final PartnerPolicyFile policyFile;
    private volatile ReplayCache delegate;
    /** How long the delegate keeps a signature's entries after its expiry, and its clock; null: the delegate knows. */
    private final Duration retention;
    private final Clock clock;
    /** Counts each answer and times it; null: not counted (tests that build a cache of their own). */
    private final Metrics metrics;

    /**
     * Sized by the partner file, read when the matcher starts ({@link #checkConfiguration}). Nothing is read here:
     * an exception thrown while Guice constructs the cache reaches the operator, on James 3.8's Guice, as "Unsupported
     * class file major version" instead of the message that names the bad key.
     */
    @Inject
    public SharedReplayCache(PartnerPolicyFile policyFile, MetricFactory metricFactory) {
        this.policyFile = policyFile;
        this.retention = InMemoryReplayCache.DEFAULT_RETENTION;
        this.clock = Clock.systemUTC();
        this.metrics = metricFactory == null ? null : new Metrics(metricFactory);
    }

    /** Sized by the partner file, not counted. */
    public SharedReplayCache(PartnerPolicyFile policyFile) {
        this(policyFile, null);
    }

    /** Over another store, which must itself refuse a signature whose entries it may already have dropped. */
    public SharedReplayCache(ReplayCache delegate) {
        this.policyFile = null;
        this.delegate = delegate;
        this.retention = null;
        this.clock = null;
        this.metrics = null;
    }

    /** In memory, of this size. */
    public SharedReplayCache(PartnerPolicies.ReplayCacheSize size, Duration retention, Clock clock) {
        this.policyFile = null;
        this.delegate = new InMemoryReplayCache(size.capacity(), size.domainCapacity(), retention, clock);
        this.retention = retention;
        this.clock = clock;
        this.metrics = null;
    }

    /** The entries held now, for the fill gauge: known for a cache in memory; -1 for Redis or before the first use. */
    public long entries() {
        return delegate instanceof InMemoryReplayCache memory ? memory.size() : -1;
    }

    /** The system properties that sized the cache before the partner file did, each with its key in the file now. */
    static final Map<String, String> MOVED_PROPERTIES = Map.of(
            "authhmac.replayCache.capacity", "replayCache.capacity",
            "authhmac.replayCache.domainSharePercent", "replayCache.domainSharePercent");

    /**
     * Reads the cache's size from the partner file, once; the matcher's start-up calls it, so that a bad file or a
     * system property left from an older configuration stops James, naming the key. Such a property is refused, as
     * the mailets' moved parameters are: ignored, it would silently shrink a cache sized for a partner's peak.
     */
    public void checkConfiguration() throws MailetException {
        delegate();
    }

    /** Matchers using the cache now: the last one to go closes the store's connections. */
    private int users;
    /**
     * Set when the last matcher went and the Redis store was closed; cleared by the next {@link #retain}. Until then a
     * health probe or a record (James stopping: its periodic health check, a mail still in the spool) must not open a
     * new store: nothing would release it, and its connection and threads would stay open.
     */
    private volatile boolean closed;

    /**
     * A matcher starts using the cache: {@link #checkConfiguration} and counted, so that {@link #release} knows when
     * the last user has gone.
     */
    public synchronized void retain() throws MailetException {
        closed = false;
        delegate();
        users++;
    }

    /**
     * A matcher that {@link #retain retained} the cache is destroyed (James stopping). When it was the last, a Redis
     * store closes its connection and threads; the next {@link #retain} opens a new one (until then a
     * record or a health probe answers that the cache is closed). A cache in memory
     * keeps its entries: only the JVM's exit forgets them.
     */
    public synchronized void release() {
        if (users == 0) {
            return;
        }
        users--;
        if (users == 0 && policyFile != null && delegate instanceof RedisReplayCache redis) {
            closed = true;
            delegate = null;
            redis.close();
        }
    }

    private ReplayCache delegate() throws MailetException {
        ReplayCache d = delegate;
        if (d != null) {
            return d;
        }
        synchronized (this) {
            if (closed) {
                throw new MailetException("auth-hmac: the replay cache in Redis is closed: no matcher uses it (James stopping)");
            }
            if (delegate == null) {
                for (Map.Entry<String, String> moved : MOVED_PROPERTIES.entrySet()) {
                    if (System.getProperty(moved.getKey()) != null) {
                        throw new MailetException("auth-hmac: the system property '" + moved.getKey() + "' no longer sizes "
                                + "the replay cache: remove it and set " + moved.getValue() + " in " + PartnerPolicies.PATH
                                + " (docs/CONFIGURATION.md)");
                    }
                }
                PartnerPolicies policies = policyFile.policies();
                PartnerPolicies.ReplayCacheSize size = policies.replayCache();
                delegate = switch (policies.replayStore()) {
                    case PartnerPolicies.ReplayStore.Memory memory ->
                            new InMemoryReplayCache(size.capacity(), size.domainCapacity(), retention, clock);
                    case PartnerPolicies.ReplayStore.Redis redis -> redis(redis, size);
                };
            }
            return delegate;
        }
    }

    private RedisReplayCache redis(PartnerPolicies.ReplayStore.Redis settings, PartnerPolicies.ReplayCacheSize size)
            throws MailetException {
        try {
            return new RedisReplayCache(settings, size, retention);
        } catch (java.io.IOException | RuntimeException e) {
            throw new MailetException("auth-hmac: " + PartnerPolicies.PATH + ": replayCache.redis.*: " + e.getMessage(), e);
        }
    }

    /**
     * Empty when the cache can answer now; else why not. A cache in memory always can; one in Redis when Redis answers
     * PING within {@code limit}.
     */
    public Optional<String> health(Duration limit) {
        ReplayCache d;
        try {
            d = delegate();
        } catch (MailetException e) {
            return Optional.of(e.getMessage());
        }
        return d instanceof RedisReplayCache redis ? redis.health(limit) : Optional.empty();
    }

    /** Where the entries are kept, for messages: "memory", or the Redis URI without password. */
    public String where() {
        ReplayCache d = delegate;
        return d instanceof RedisReplayCache redis ? redis.where() : "memory";
    }

    @Override
    public Outcome record(SignatureId signature, String replayId, int maxRecipients, Instant expiresAt) throws ReplayCacheException {
        if (metrics == null) {
            return recorded(signature, replayId, maxRecipients, expiresAt);
        }
        TimeMetric timer = metrics.timer(Metrics.REPLAY_CACHE_TIMER);
        try {
            Outcome outcome = recorded(signature, replayId, maxRecipients, expiresAt);
            metrics.count(switch (outcome) {
                case FRESH -> Metrics.REPLAY_CACHE_FRESH;
                case REPLAY -> Metrics.REPLAY_CACHE_REPLAY;
                case RECIPIENT_LIMIT -> Metrics.REPLAY_CACHE_RECIPIENT_LIMIT;
            });
            return outcome;
        } catch (ReplayCacheException | RuntimeException e) {
            metrics.count(Metrics.REPLAY_CACHE_ERROR);
            throw e;
        } finally {
            timer.stopAndPublish();
        }
    }

    private Outcome recorded(SignatureId signature, String replayId, int maxRecipients, Instant expiresAt) throws ReplayCacheException {
        if (clock != null && expiresAt.plus(retention).isBefore(clock.instant())) {
            // A mail verified this late (held through a long outage and released, with its acceptance time pinned) is
            // past the time the cache keeps a signature's entries: it may have forgotten the pass that makes this
            // copy a replay, so it cannot answer (docs/PROTOCOL.md 11).
            throw new ReplayCacheException("verified after the replay cache stopped remembering this signature (expired "
                    + expiresAt + ", kept " + retention + " longer): it cannot tell a replay");
        }
        ReplayCache d;
        try {
            d = delegate();
        } catch (MailetException e) {
            // Only when the matcher skipped checkConfiguration: no size, so no answer; never a pass.
            throw new ReplayCacheException("the replay cache has no size: " + e.getMessage());
        }
        return d.record(signature, replayId, maxRecipients, expiresAt);
    }
}
