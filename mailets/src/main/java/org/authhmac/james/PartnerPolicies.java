package org.authhmac.james;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.commons.configuration2.Configuration;
import org.apache.mailet.MailetException;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.VerifierSettings;

/**
 * The partner configuration of this server, {@code conf/auth-hmac-partners.properties}, read once at start-up and
 * validated there ({@link PartnerPolicyReader}): one {@link PartnerPolicy} per partner domain, and the settings every
 * partner shares (the signature header's name, how many signatures a mail may carry, the authserv-id, the replay
 * cache's size). The signing mailet signs for these domains and the validating matcher verifies mail claiming them.
 *
 * @param partners       the partner policies by domain, in the file's order
 * @param authservId     the authserv-id of our Authentication-Results fields; empty: the host name
 * @param shared         the verifier settings every partner shares (header name, signatures per mail, sub-address
 *                       separator); each partner's own values go over them
 * @param replayCache    the size of the replay cache (in memory, or in Redis)
 * @param replayStore    where the replay cache lives: this JVM's memory, or a Redis shared by several James
 * @param health         when a partner counts as degraded ({@link PartnerHealth})
 * @param clockCheck     the reference the signing mailet compares this server's clock with ({@link ClockWatch});
 *                       empty: none is checked
 */
public record PartnerPolicies(Map<String, PartnerPolicy> partners, Optional<String> authservId, VerifierSettings shared,
                              ReplayCacheSize replayCache, ReplayStore replayStore, Health health,
                              Optional<ClockCheck> clockCheck) {
    /** The file's name in James's configuration folder, without {@code .properties}, as PropertiesProvider takes it. */
    public static final String FILE = "auth-hmac-partners";
    /** Where operators find it, as messages name it. */
    public static final String PATH = "conf/" + FILE + ".properties";

    /**
     * How many entries the replay cache holds (in memory, or in Redis for all James together), and the share of them (percent) that the signatures of one
     * signing domain may hold: a flood from one partner fills its own share and leaves the rest to the others.
     */
    public record ReplayCacheSize(int capacity, int domainSharePercent) {
        public static final ReplayCacheSize DEFAULT = new ReplayCacheSize(200_000, 25);

        /** The entries one signing domain may hold: its percent of the capacity, at least one. */
        public int domainCapacity() {
            return (int) Math.max(1, (long) capacity * domainSharePercent / 100);
        }
    }

    /**
     * Where the replay cache lives ({@code replayCache.store}). One James alone keeps it in memory; several James that
     * receive for the same domain share one in Redis, or a mail captured on its way to one could be replayed to another.
     */
    public sealed interface ReplayStore permits ReplayStore.Memory, ReplayStore.Redis {
        /** This JVM's memory: lost at a restart, not seen by other James. */
        record Memory() implements ReplayStore {
        }

        /**
         * A Redis server (docs/CONFIGURATION.md, "A replay cache shared by several James"). The password is never held
         * here, only the file it is read from, so that the value can be printed.
         *
         * @param uri            {@code redis://host:port/db} or {@code rediss://} (TLS), without user or password
         * @param username       the ACL user; empty: the {@code default} user
         * @param passwordFile   the file holding the password; empty: no AUTH
         * @param timeout        how long one command may take before the verdict is temperror
         * @param connectTimeout how long a connection may take to open
         * @param keyPrefix      the start of every key this cache writes
         */
        record Redis(URI uri, Optional<String> username, Optional<Path> passwordFile, Duration timeout,
                     Duration connectTimeout, String keyPrefix) implements ReplayStore {
            public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
            public static final String DEFAULT_KEY_PREFIX = "authhmac:rc:";
        }
    }

    /**
     * When a partner's health turns degraded: its offset p99 passes {@code offsetWarnPercent} of maxFutureSkew (ahead)
     * or of its window (behind), over the passes of the last {@code window}; a key id it signs with that this server
     * does not hold, seen within {@code window}.
     */
    public record Health(int offsetWarnPercent, Duration window) {
        public static final Health DEFAULT = new Health(50, Duration.ofHours(1));
    }

    /**
     * An SNTP server ({@code clock.reference=ntp://host[:port]}) this server's clock is compared with every
     * {@code every} ({@code clock.checkEvery}), so that the sending side sees its own clock drift before its partners
     * hold its mail as future or expired.
     */
    public record ClockCheck(String host, int port, Duration every) {
        public static final int DEFAULT_PORT = 123;
        public static final Duration DEFAULT_EVERY = Duration.ofMinutes(5);
        /** RFC 4330 section 10: a client polls no more often than every 15 s. */
        public static final Duration MIN_EVERY = Duration.ofSeconds(16);
        public static final Duration MAX_EVERY = Duration.ofDays(1);
    }

    /** With the default health settings and no clock check. */
    public PartnerPolicies(Map<String, PartnerPolicy> partners, Optional<String> authservId, VerifierSettings shared,
                           ReplayCacheSize replayCache, ReplayStore replayStore, Health health) {
        this(partners, authservId, shared, replayCache, replayStore, health, Optional.empty());
    }

    /** With the replay cache in memory. */
    public PartnerPolicies(Map<String, PartnerPolicy> partners, Optional<String> authservId, VerifierSettings shared,
                           ReplayCacheSize replayCache) {
        this(partners, authservId, shared, replayCache, new ReplayStore.Memory());
    }

    /** With the default health settings. */
    public PartnerPolicies(Map<String, PartnerPolicy> partners, Optional<String> authservId, VerifierSettings shared,
                           ReplayCacheSize replayCache, ReplayStore replayStore) {
        this(partners, authservId, shared, replayCache, replayStore, Health.DEFAULT);
    }

    public PartnerPolicies {
        if (partners.isEmpty()) {
            throw new IllegalArgumentException("no partner");
        }
        partners = Collections.unmodifiableMap(new LinkedHashMap<>(partners));
    }

    /** Reads and validates the file's settings; the error names the first bad key. */
    public static PartnerPolicies from(Configuration configuration) throws MailetException {
        return new PartnerPolicyReader(configuration).read();
    }

    /** Partner domain to keyset, in the file's order. */
    public Map<String, String> keysetByDomain() {
        Map<String, String> out = new LinkedHashMap<>();
        partners.forEach((domain, p) -> out.put(domain, p.keyset()));
        return out;
    }

    /**
     * The smallest maxFutureSkew among the partners: the first limit a partner would hold our mail at were our clock
     * ahead (the file says what we accept from each partner; partners usually agree on the same both ways).
     */
    public Duration smallestMaxFutureSkew() {
        return partners.values().stream().map(p -> verifierSettings(p).maxFutureSkew()).min(Duration::compareTo).orElseThrow();
    }

    /** The partner domains, in the file's order. */
    public Set<String> domains() {
        return partners.keySet();
    }

    /** The verifier settings for mail claiming {@code partner}. */
    public VerifierSettings verifierSettings(PartnerPolicy partner) {
        return partner.verifierSettings(shared);
    }

    /**
     * The policy a mail is verified under: its author domain's when that is a partner, else the first partner it
     * claims, else (a From too odd to read, say) the first partner of the file. A signature passes only when made for
     * the author domain, so a mail whose author is no partner fails whichever policy applies.
     */
    public PartnerPolicy governing(Optional<String> authorDomain, Collection<String> claimed) {
        return authorDomain.map(partners::get)
                .or(() -> claimed.stream().map(partners::get).filter(p -> p != null).findFirst())
                .orElseGet(() -> partners.values().iterator().next());
    }

    /**
     * The results that count as failure for a mail with this author domain (the From domain parsers agree on, empty
     * when the From field is missing, repeated, too odd to parse or names no single mailbox): the claimed partners'
     * ({@link #failOn(Collection)}) only when there is an author; otherwise every partner's. A From that is not read
     * may show any partner to the reader, so the claims left (the envelope sender's, some reading's) must not choose
     * a laxer failOn than the partner it shows.
     */
    public Set<AuthResult> failOn(Optional<String> authorDomain, Collection<String> claimed) {
        return authorDomain.isPresent() ? failOn(claimed) : failOn(Set.of());
    }

    /**
     * The results that count as failure for a mail: those of every partner it claims, or of every partner when it
     * claims none. Failing closed: a mail that names two partners fails on what either one fails on.
     */
    public Set<AuthResult> failOn(Collection<String> claimed) {
        Set<AuthResult> out = EnumSet.noneOf(AuthResult.class);
        for (String domain : claimed) {
            PartnerPolicy p = partners.get(domain);
            if (p != null) {
                out.addAll(p.failOn());
            }
        }
        if (out.isEmpty()) {
            partners.values().forEach(p -> out.addAll(p.failOn()));
        }
        return Set.copyOf(out);
    }
}
