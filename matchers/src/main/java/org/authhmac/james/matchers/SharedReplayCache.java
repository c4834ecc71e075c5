package org.authhmac.james.matchers;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.mailet.MailetException;
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
 * the others. Sizing in docs/CONFIGURATION.md, "Replay cache size".
 */
@Singleton
public class SharedReplayCache implements ReplayCache {

    /** The partner file that sizes the cache, when Guice made it; null when made with a size or over another store. */
    private final PartnerPolicyFile policyFile;
    private volatile ReplayCache delegate;
    /** How long the delegate keeps a signature's entries after its expiry, and its clock; null: the delegate knows. */
    private final Duration retention;
    private final Clock clock;

    /**
     * Sized by the partner file, read when the matcher starts ({@link #checkConfiguration}). Nothing is read here:
     * an exception thrown while Guice constructs the cache reaches the operator, on James 3.8's Guice, as "Unsupported
     * class file major version" instead of the message that names the bad key.
     */
    @Inject
    public SharedReplayCache(PartnerPolicyFile policyFile) {
        this.policyFile = policyFile;
        this.retention = InMemoryReplayCache.DEFAULT_RETENTION;
        this.clock = Clock.systemUTC();
    }

    /** Over another store, which must itself refuse a signature whose entries it may already have dropped. */
    public SharedReplayCache(ReplayCache delegate) {
        this.policyFile = null;
        this.delegate = delegate;
        this.retention = null;
        this.clock = null;
    }

    /** In memory, of this size. */
    public SharedReplayCache(PartnerPolicies.ReplayCacheSize size, Duration retention, Clock clock) {
        this.policyFile = null;
        this.delegate = new InMemoryReplayCache(size.capacity(), size.domainCapacity(), retention, clock);
        this.retention = retention;
        this.clock = clock;
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

    private ReplayCache delegate() throws MailetException {
        ReplayCache d = delegate;
        if (d != null) {
            return d;
        }
        synchronized (this) {
            if (delegate == null) {
                for (Map.Entry<String, String> moved : MOVED_PROPERTIES.entrySet()) {
                    if (System.getProperty(moved.getKey()) != null) {
                        throw new MailetException("auth-hmac: the system property '" + moved.getKey() + "' no longer sizes "
                                + "the replay cache: remove it and set " + moved.getValue() + " in " + PartnerPolicies.PATH
                                + " (docs/CONFIGURATION.md)");
                    }
                }
                PartnerPolicies.ReplayCacheSize size = policyFile.policies().replayCache();
                delegate = new InMemoryReplayCache(size.capacity(), size.domainCapacity(), retention, clock);
            }
            return delegate;
        }
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
