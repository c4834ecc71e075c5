package org.authhmac.james;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.mailet.MailetException;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.vault.KeyVault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each partner's health as this receiving server measures it on every verified mail: the clock offset (signing time
 * {@code t} minus acceptance time, over the passes of a sliding window: their {@code t} is under a MAC that held, so
 * a forger cannot move it), the verdicts by result and reason, the key ids seen and when, and the last pass. Published
 * as James metrics ({@code authhmac.partner.<domain>.*}), answered by {@link PartnerHealthCheck} and the WebAdmin
 * route {@code GET /auth-hmac/partners}. A partner is degraded when its offset p99 passes
 * {@code health.offsetWarnPercent} of what its settings allow (maxFutureSkew ahead, the window behind), or when it
 * signs with a key id this server does not hold: the audit log says each once, when it starts.
 */
@Singleton
public class PartnerHealth {
    private static final Logger LOGGER = LoggerFactory.getLogger(PartnerHealth.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("org.authhmac.audit");
    /** Passes remembered per partner for the offset distribution (the newest; older ones leave the window anyway). */
    static final int SAMPLES = 4096;
    /** Key ids remembered per partner: a forger can make up key ids, and they must not fill the heap. */
    static final int KEY_IDS = 16;

    private final PartnerPolicyFile policyFile;
    private final KeyVault vault;
    private final MetricFactory metricFactory;
    private final Gauges gauges;
    private final Clock clock;
    private final Map<String, Partner> partners = new ConcurrentHashMap<>();
    private volatile PartnerPolicies policies;

    @Inject
    public PartnerHealth(PartnerPolicyFile policyFile, KeyVault vault, MetricFactory metricFactory, GaugeRegistry gauges) {
        this(policyFile, vault, metricFactory, gauges, Clock.systemUTC());
    }

    public PartnerHealth(PartnerPolicyFile policyFile, KeyVault vault, MetricFactory metricFactory, GaugeRegistry gauges, Clock clock) {
        this.policyFile = policyFile;
        this.vault = vault;
        this.metricFactory = metricFactory;
        this.gauges = new Gauges(gauges);
        this.clock = clock;
        VaultMetrics.attach(vault, metricFactory);
    }

    /** One partner's state as the route shows it. Offsets in seconds, positive when the partner's clock is ahead. */
    public record View(String domain, String keyset, Optional<Offsets> offsets, Map<String, Long> verdicts,
                       List<KeySeen> keyIds, Optional<Instant> lastPass, List<String> problems) {
        public boolean degraded() {
            return !problems.isEmpty();
        }
    }

    /** @param samples the passes in the window the figures are over; p01 the 1st percentile (the late side) */
    public record Offsets(int samples, long p50, long p99, long max, long min, long p01) {
    }

    /** @param held whether this server holds the key (PRIMARY or ACTIVE in the partner's keyset) */
    public record KeySeen(String keyId, Instant lastSeen, boolean held) {
    }

    private enum KeyStanding { HELD, MISSING, RETIRED_OR_ELSEWHERE }

    /**
     * Records the verdicts of one mail from {@code partner}, one per recipient, accepted at {@code acceptedAt}: each
     * counts, and the mail's signature counts once for the offset and the key ids. Never throws: a health figure
     * must not change a verdict.
     */
    public void observe(String partner, Collection<Verdict> verdicts, Instant acceptedAt) {
        try {
            Partner p = partner(partner);
            if (p == null || verdicts.isEmpty()) {
                return;
            }
            verdicts.forEach(p::count);
            Optional<Verdict> pass = verdicts.stream().filter(v -> v instanceof Verdict.Pass).findFirst();
            Optional<SignatureHeader> h = pass.or(() -> verdicts.stream().findFirst()).flatMap(Verdict::signature);
            if (h.isPresent() && h.get().domain().equals(partner)) {
                p.keySeen(h.get().keyId(), acceptedAt);
                if (pass.isPresent()) {
                    p.pass(h.get().time() - acceptedAt.getEpochSecond(), acceptedAt);
                }
            }
        } catch (RuntimeException e) {
            LOGGER.warn("auth-hmac: partner health not updated for {}: {}", partner, e.toString());
        }
    }

    /** Publishes one more figure of the receiving side under this registry (the replay cache's fill). */
    public void gauge(String name, java.util.function.Supplier<? extends Number> value) {
        gauges.register(name, value);
    }

    /**
     * Every configured partner, in the partner file's order, measured or not: as of the last mail or at most a second
     * ago, so that a flood of health, route or /metrics requests costs one view a second.
     */
    public List<View> partners() {
        List<View> out = new ArrayList<>();
        for (String domain : policies().partners().keySet()) {
            out.add(partner(domain).snapshot());
        }
        return out;
    }

    /** Every degraded partner's problems, one sentence each. */
    public List<String> problems() {
        List<String> out = new ArrayList<>();
        for (View v : partners()) {
            out.addAll(v.problems());
        }
        return out;
    }

    private PartnerPolicies policies() {
        PartnerPolicies p = policies;
        if (p == null) {
            try {
                p = policyFile.policies();
            } catch (MailetException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            policies = p;
        }
        return p;
    }

    private Partner partner(String domain) {
        Partner p = partners.get(domain);
        if (p != null) {
            return p;
        }
        PartnerPolicy policy = policies().partners().get(domain);
        if (policy == null) {
            return null;
        }
        return partners.computeIfAbsent(domain, d -> new Partner(policy, policies().verifierSettings(policy)));
    }

    /** One partner's figures. Readers copy under the lock; the mail path only appends. */
    private final class Partner {
        private final PartnerPolicy policy;
        private final VerifierSettings settings;
        private final String prefix;
        private final long[] offsets = new long[SAMPLES];
        private final long[] at = new long[SAMPLES];
        private int next;
        private int size;
        private Instant lastPass;
        private final Map<String, Long> verdicts = new LinkedHashMap<>();
        private final Map<String, Instant> keyIds = new LinkedHashMap<>();
        private Set<String> reported = Set.of();
        private long unlistedKeyIds;
        private View snapshot;
        private Instant snapshotAt = Instant.EPOCH;

        Partner(PartnerPolicy policy, VerifierSettings settings) {
            this.policy = policy;
            this.settings = settings;
            this.prefix = Metrics.PREFIX + "partner." + policy.domain() + ".";
            // every gauge reads one snapshot a second: a flood of /metrics requests costs one view a second
            gauges.register(prefix + "offset.p50", () -> snapshot().offsets().map(Offsets::p50).orElse(0L));
            gauges.register(prefix + "offset.p99", () -> snapshot().offsets().map(Offsets::p99).orElse(0L));
            gauges.register(prefix + "offset.max", () -> snapshot().offsets().map(Offsets::max).orElse(0L));
            gauges.register(prefix + "offset.min", () -> snapshot().offsets().map(Offsets::min).orElse(0L));
            gauges.register(prefix + "offset.p01", () -> snapshot().offsets().map(Offsets::p01).orElse(0L));
            gauges.register(prefix + "offset.samples", () -> snapshot().offsets().map(Offsets::samples).orElse(0));
            gauges.register(prefix + "lastPass", () -> snapshot().lastPass().map(Instant::getEpochSecond).orElse(0L));
            gauges.register(prefix + "degraded", () -> snapshot().degraded() ? 1 : 0);
            gauges.register(prefix + "unknownKeyIds", () -> (int) snapshot().keyIds().stream().filter(k -> !k.held()).count());
        }

        void count(Verdict verdict) {
            String key = verdict.result().token() + "." + verdict.reason().token();
            metricFactory.generate(prefix + "verdict." + key).increment();
            synchronized (this) {
                verdicts.merge(verdict.result().token() + " " + verdict.reason().token(), 1L, Long::sum);
                snapshot = null;
            }
        }

        synchronized void pass(long offset, Instant acceptedAt) {
            offsets[next] = offset;
            at[next] = acceptedAt.getEpochSecond();
            next = (next + 1) % SAMPLES;
            size = Math.min(size + 1, SAMPLES);
            snapshot = null;
            if (lastPass == null || acceptedAt.isAfter(lastPass)) {
                lastPass = acceptedAt;
            }
        }

        synchronized void keySeen(String keyId, Instant when) {
            if (!keyIds.containsKey(keyId) && keyIds.size() >= KEY_IDS) {
                // only key ids that left the window make room: first come, first kept, so that a stream of made-up
                // key ids cannot push out the one a partner's rollout is about; the rest are counted
                Instant from = clock.instant().minus(window());
                keyIds.values().removeIf(t -> t.isBefore(from));
                if (keyIds.size() >= KEY_IDS) {
                    unlistedKeyIds++;
                    return;
                }
            }
            keyIds.merge(keyId, when, (a, b) -> a.isAfter(b) ? a : b);
            snapshot = null;
        }

        /** The passes accepted within the window, up to now. */
        synchronized Optional<Offsets> offsets() {
            long from = clock.instant().minus(window()).getEpochSecond();
            long[] in = new long[size];
            int n = 0;
            for (int i = 0; i < size; i++) {
                if (at[i] >= from) {
                    in[n++] = offsets[i];
                }
            }
            if (n == 0) {
                return Optional.empty();
            }
            long[] sorted = Arrays.copyOf(in, n);
            Arrays.sort(sorted);
            return Optional.of(new Offsets(n, percentile(sorted, 50), percentile(sorted, 99), sorted[n - 1], sorted[0],
                    percentile(sorted, 1)));
        }

        /** The view of at most a second ago. */
        synchronized View snapshot() {
            Instant now = clock.instant();
            if (snapshot == null || !now.isBefore(snapshotAt.plusSeconds(1)) || now.isBefore(snapshotAt)) {
                snapshot = view();
                snapshotAt = now;
            }
            return snapshot;
        }

        View view() {
            Optional<Offsets> o = offsets();
            Map<String, Instant> ids;
            Map<String, Long> counts;
            Optional<Instant> last;
            long unlisted;
            synchronized (this) {
                Instant from = clock.instant().minus(window());
                ids = new LinkedHashMap<>();
                keyIds.forEach((k, t) -> {
                    if (!t.isBefore(from)) {
                        ids.put(k, t);
                    }
                });
                counts = new LinkedHashMap<>(verdicts);
                last = Optional.ofNullable(lastPass);
                unlisted = unlistedKeyIds;
            }
            // the vault is asked outside the lock the mail path takes
            List<KeySeen> seen = new ArrayList<>();
            Map<String, KeyStanding> standing = new LinkedHashMap<>();
            ids.forEach((k, t) -> {
                KeyStanding st = standing(k);
                standing.put(k, st);
                seen.add(new KeySeen(k, t, st == KeyStanding.HELD));
            });
            Map<String, String> problems = problems(o, seen, standing, unlisted);
            synchronized (this) {
                audit(problems);
            }
            return new View(policy.domain(), policy.keyset(), o, counts, List.copyOf(seen), last, List.copyOf(problems.values()));
        }

        /** Each problem under a stable key (what it is about), with the sentence that names the figures. */
        private Map<String, String> problems(Optional<Offsets> o, List<KeySeen> seen, Map<String, KeyStanding> standing, long unlisted) {
            Map<String, String> out = new LinkedHashMap<>();
            int percent = policies().health().offsetWarnPercent();
            if (o.isPresent()) {
                long skew = settings.maxFutureSkew().toSeconds();
                long window = settings.maxAgeFor(policy.periodSeconds()).toSeconds();
                if (o.get().p99() > skew * percent / 100) {
                    out.put("ahead", "partner " + policy.domain() + ": its clock runs " + o.get().p99()
                            + " s ahead (offset p99 over " + o.get().samples() + " passes), more than " + percent
                            + "% of maxFutureSkew " + skew + " s: past it, its mail is held as future. Check its clock (NTP)");
                }
                if (-o.get().p01() > window * percent / 100) {
                    out.put("behind", "partner " + policy.domain() + ": its mail arrives " + -o.get().p01()
                            + " s after signing (offset p1 over " + o.get().samples() + " passes), more than " + percent
                            + "% of the window " + window + " s: past it, its mail is held as expired. Check its clock (NTP) and its queue");
                }
            }
            List<String> missing = new ArrayList<>();
            List<String> notOurs = new ArrayList<>();
            for (KeySeen k : seen) {
                switch (standing.get(k.keyId())) {
                    case MISSING -> missing.add(k.keyId() + " (last seen " + k.lastSeen() + ")");
                    case RETIRED_OR_ELSEWHERE -> notOurs.add(k.keyId());
                    case HELD -> { }
                }
            }
            if (!missing.isEmpty()) {
                out.put("unknown-key", "mail claiming partner " + policy.domain() + " names key id(s) " + String.join(", ", missing)
                        + (unlisted > 0 ? " and " + unlisted + " more" : "") + ", which this server does not hold, so it is held as "
                        + "unknown-key. Anyone can write a key id: if " + policy.domain() + " told you it promoted a new key "
                        + "before sending you its export, the missing step is the import here (auth-hmac keys import --keyset "
                        + policy.keyset() + " --from <file>, with a file that reached you over your usual authenticated "
                        + "channel); if it did not, this is forged mail and nothing needs importing");
            }
            if (!notOurs.isEmpty()) {
                out.put("retired-key", "mail claiming partner " + policy.domain() + " names key id(s) " + String.join(", ", notOurs)
                        + ", retired here or of another keyset than " + policy.keyset() + ": forged, or a partner still signing "
                        + "with a key both sides retired. Do not import it again; ask the partner which key it signs with");
            }
            return out;
        }

        /** What this server knows of a key id named for this partner. */
        private KeyStanding standing(String keyId) {
            try {
                if (vault.keyset(policy.keyset()).map(ks -> ks.verifiesWith(keyId)).orElse(false)) {
                    return KeyStanding.HELD;
                }
                return vault.key(keyId).isPresent() ? KeyStanding.RETIRED_OR_ELSEWHERE : KeyStanding.MISSING;
            } catch (RuntimeException e) {
                return KeyStanding.HELD; // the vault cannot tell now: the vault's own health check says so
            }
        }

        /**
         * The audit log says each kind of problem once, when it starts (clock ahead, behind, unknown key ids, retired
         * ones: however many key ids a forger makes up), and says when the partner is healthy again.
         */
        private void audit(Map<String, String> problems) {
            for (Map.Entry<String, String> p : problems.entrySet()) {
                if (!reported.contains(p.getKey())) {
                    AUDIT.info("auth-hmac partner-health domain={} status=degraded problem={} detail={}", policy.domain(),
                            p.getKey().replace(' ', '_'), p.getValue().replace(' ', '_'));
                }
            }
            if (problems.isEmpty() && !reported.isEmpty()) {
                AUDIT.info("auth-hmac partner-health domain={} status=healthy", policy.domain());
            }
            reported = Set.copyOf(problems.keySet());
        }
    }

    private Duration window() {
        return policies().health().window();
    }

    private static long percentile(long[] sorted, int p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
