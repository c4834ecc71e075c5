package org.authhmac.james.matchers;

import com.google.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetException;
import org.apache.mailet.PerRecipientHeaders;
import org.apache.mailet.base.GenericMatcher;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.AuthenticationResults;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.james.PartnerKeys;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.SerializedMessage;
import org.authhmac.james.SharedReplayCache;
import org.authhmac.james.TemporaryVerificationFailure;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.ReplayScope;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.tpm.KeyVault;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies inbound mail that claims a partner domain (From or envelope sender; {@link PartnerClaim} decides, and
 * fails closed), records the verdict as mail attributes and an Authentication-Results field, and matches the
 * recipients whose verdict counts as failure. A pass counts only for a signature made for the From domain.
 * A temperror throws {@link TemporaryVerificationFailure}: the mail waits and is retried, it is never failed.
 *
 * <p>Condition: {@code partners=a.example:partner-a,c.example:partner-c; failOn=fail,permerror,none;
 * authservId=mx.b.example} plus optional verifier settings (docs/CONFIGURATION.md).
 *
 * <p>Sample configuration (james-conf/ ships the full one; docs/CONFIGURATION.md describes every parameter):
 * <pre>
 * &lt;processor state="auth-hmac-verify"&gt;
 *   &lt;mailet match="org.authhmac.james.matchers.AuthHmacFailed=partners=a.example:a-b; authservId=mx.b.example; failOn=fail,permerror,none"
 *           class="org.authhmac.james.mailets.AuthHmacQuarantine"&gt;
 *     &lt;action&gt;quarantine&lt;/action&gt;
 *     &lt;onMatchException&gt;auth-hmac-verify-retry&lt;/onMatchException&gt;
 *     &lt;onMailetException&gt;auth-hmac-hold&lt;/onMailetException&gt;
 *   &lt;/mailet&gt;
 *   &lt;mailet match="All" class="RemoveMimeHeader"&gt;&lt;name&gt;X-Auth-HMAC-Status&lt;/name&gt;&lt;/mailet&gt;
 *   &lt;mailet match="All" class="ToProcessor"&gt;&lt;processor&gt;transport&lt;/processor&gt;&lt;/mailet&gt;
 * &lt;/processor&gt;
 * </pre>
 */
public class AuthHmacFailed extends GenericMatcher {
    private static final Logger LOGGER = LoggerFactory.getLogger(AuthHmacFailed.class);
    static final Set<AuthResult> DEFAULT_FAIL_ON = EnumSet.of(AuthResult.FAIL, AuthResult.PERMERROR, AuthResult.NONE);
    static final Set<String> KEYS = Set.of("partners", "failOn", "authservId", "headerName", "previousPeriods",
            "maxFutureSkew", "maxAge", "maxSignatures", "replayScope", "subAddressSeparator", "periodSeconds");

    private final KeyVault vault;
    private final ReplayCache replayCache;
    private final Metrics metrics;

    private Map<String, String> keysetByDomain;
    private Set<AuthResult> failOn;
    private String authservId;
    private Verifier verifier;

    @Inject
    public AuthHmacFailed(KeyVault vault, SharedReplayCache replayCache, MetricFactory metricFactory) {
        this(vault, (ReplayCache) replayCache, metricFactory);
    }

    public AuthHmacFailed(KeyVault vault, ReplayCache replayCache, MetricFactory metricFactory) {
        this.vault = vault;
        this.replayCache = replayCache;
        this.metrics = new Metrics(metricFactory);
    }

    @Override
    public void init() throws MessagingException {
        Map<String, String> c = condition(getCondition());
        keysetByDomain = Parameters.partners("partners", c.get("partners"));
        failOn = failOn(c.get("failOn"));
        authservId = c.containsKey("authservId") ? Parameters.domain("authservId", c.get("authservId")) : localHostName();
        VerifierSettings settings = VerifierSettings.defaults()
                .withHeaderName(Parameters.headerName("headerName", c.get("headerName"), SignatureHeader.DEFAULT_HEADER_NAME))
                .withPreviousPeriods(Parameters.integer("previousPeriods", c.get("previousPeriods"),
                        VerifierSettings.DEFAULT_PREVIOUS_PERIODS, 0, 96))
                .withMaxFutureSkew(Parameters.duration("maxFutureSkew", c.get("maxFutureSkew"), VerifierSettings.DEFAULT_MAX_FUTURE_SKEW))
                .withMaxAge(c.containsKey("maxAge") ? positive("maxAge", Parameters.duration("maxAge", c.get("maxAge"), null)) : null)
                .withMaxHeaders(Parameters.integer("maxSignatures", c.get("maxSignatures"), VerifierSettings.DEFAULT_MAX_HEADERS, 1, 50))
                .withReplayScope(replayScope(c.get("replayScope")))
                .withSubAddressSeparator(subAddressSeparator(c.get("subAddressSeparator")))
                .withPeriodSeconds(Parameters.integer("periodSeconds", c.get("periodSeconds"), SignatureHeader.DEFAULT_PERIOD_SECONDS,
                        SignatureHeader.MIN_PERIOD_SECONDS, SignatureHeader.MAX_PERIOD_SECONDS));
        verifier = new Verifier(settings, new PartnerKeys(vault, keysetByDomain, metrics), replayCache);
    }

    @Override
    public Collection<MailAddress> match(Mail mail) throws MessagingException {
        Map<MailAddress, RecordedVerdict> recorded = recordedVerdicts(mail);
        boolean firstSight = recorded.isEmpty() && mail.getAttribute(AuthHmacAttributes.ACCEPTED_AT).isEmpty();
        if (firstSight) {
            stripForgedResults(mail.getMessage());
        }
        PartnerClaim claim = partnerClaim(mail);
        if (!claim.mustVerify()) {
            metrics.count(Metrics.VERIFY_SKIPPED);
            return List.of();
        }
        Instant acceptedAt = pinAcceptedAt(mail);
        List<MailAddress> pending = mail.getRecipients().stream().filter(r -> !recorded.containsKey(r)).toList();
        Map<MailAddress, RecordedVerdict> fresh = Map.of();
        if (pending.isEmpty()) {
            metrics.count(Metrics.VERIFY_REUSED);
        } else {
            fresh = verifyPending(mail, pending, claim.authorDomain(), acceptedAt, recorded);
        }
        announce(mail, recorded, fresh, claim.authorDomain());
        return failing(mail, recorded);
    }

    @Override
    public String getMatcherInfo() {
        return "AuthHmacFailed: verifies X-Auth-HMAC and matches recipients whose mail fails";
    }

    /**
     * Writes the summary attributes and Authentication-Results once per decision: for every recipient the first
     * time (including those that passed during an attempt that ended in temperror), later only for new ones.
     */
    private void announce(Mail mail, Map<MailAddress, RecordedVerdict> recorded, Map<MailAddress, RecordedVerdict> fresh,
                          Optional<String> headerFrom) throws MessagingException {
        Map<MailAddress, RecordedVerdict> toAnnounce = new LinkedHashMap<>();
        if (mail.getAttribute(AuthHmacAttributes.RESULT).isEmpty()) {
            for (MailAddress r : mail.getRecipients()) {
                if (recorded.containsKey(r)) {
                    toAnnounce.put(r, recorded.get(r));
                }
            }
        } else {
            toAnnounce.putAll(fresh);
        }
        if (toAnnounce.isEmpty()) {
            return;
        }
        decisive(toAnnounce.values()).writeTo(mail);
        addResultsHeaders(mail, toAnnounce, headerFrom);
    }

    /** The recipients whose verdict counts as failure. */
    private List<MailAddress> failing(Mail mail, Map<MailAddress, RecordedVerdict> recorded) {
        List<MailAddress> failing = new ArrayList<>();
        for (MailAddress r : mail.getRecipients()) {
            RecordedVerdict v = recorded.get(r);
            if (v != null && failOn.contains(v.result())) {
                failing.add(r);
            }
        }
        return failing;
    }

    /** Verifies the recipients without a verdict; returns their verdicts, or throws on temperror. */
    private Map<MailAddress, RecordedVerdict> verifyPending(Mail mail, List<MailAddress> pending, Optional<String> authorDomain,
                                                            Instant acceptedAt, Map<MailAddress, RecordedVerdict> recorded)
            throws MessagingException {
        Map<MailAddress, RecordedVerdict> fresh = new LinkedHashMap<>();
        boolean temporary = false;
        String temporaryDetail = "";
        TimeMetric timer = metrics.timer(Metrics.VERIFY_TIMER);
        try {
            Map<String, Verdict> verdicts = verify(mail.getMessage(), acceptedAt, pending);
            for (MailAddress r : pending) {
                Verdict v = aligned(verdicts.get(r.asString()), authorDomain);
                metrics.countVerdict(v.result(), v.reason());
                if (v.result() == AuthResult.TEMPERROR) {
                    temporary = true;
                    temporaryDetail = v.reason().token() + ": " + v.detail();
                } else {
                    fresh.put(r, RecordedVerdict.of(v));
                }
            }
        } finally {
            timer.stopAndPublish();
        }
        if (temporary) {
            // Keep what passed (those recipients are now in the replay cache and must not be checked again);
            // everything else is verified afresh on the retry, against the same acceptance time.
            fresh.forEach((r, v) -> {
                if (v.result() == AuthResult.PASS) {
                    recorded.put(r, v);
                }
            });
            writeRecipientVerdicts(mail, recorded);
            int attempts = mail.getAttribute(AuthHmacAttributes.TEMPERROR_ATTEMPTS)
                    .flatMap(a -> a.getValue().valueAs(Integer.class)).orElse(0) + 1;
            mail.setAttribute(new Attribute(AuthHmacAttributes.TEMPERROR_ATTEMPTS, AttributeValue.of(attempts)));
            LOGGER.warn("auth-hmac: temperror for mail {} (attempt {}): {}; the mail waits for retry",
                    mail.getName(), attempts, temporaryDetail);
            throw new TemporaryVerificationFailure("auth-hmac temperror, retry later (" + temporaryDetail + ")");
        }
        recorded.putAll(fresh);
        writeRecipientVerdicts(mail, recorded);
        return fresh;
    }

    private Map<String, Verdict> verify(MimeMessage message, Instant acceptedAt, List<MailAddress> recipients) {
        try {
            MessageBytes out = new MessageBytes(message);
            SerializedMessage.writeBack(() -> message.writeTo(out));
            List<String> rcpts = recipients.stream().map(MailAddress::asString).toList();
            // Read in place: header fields and body are ranges of the buffer, not copies of it.
            return verifier.verify(out.buffer(), 0, out.size(), acceptedAt, rcpts);
        } catch (MessagingException e) {
            if (e.getCause() instanceof IOException) {
                return temporary(recipients, e);
            }
            // JavaMail cannot write the message back (MIME it cannot parse, such as a boundary that never occurs):
            // that will not change on a retry, so it is a verdict now.
            LOGGER.warn("auth-hmac: mail cannot be written back for verification, permerror malformed: {}", e.getMessage());
            return all(recipients, new Verdict.PermError(Reason.MALFORMED, Optional.empty(),
                    "the message's MIME structure cannot be read: " + e.getMessage()));
        } catch (Exception e) {
            return temporary(recipients, e);
        }
    }

    private static Map<String, Verdict> temporary(List<MailAddress> recipients, Exception e) {
        // Fail closed but keep the mail: an unreadable spool file or a verifier bug is a temporary condition.
        LOGGER.error("auth-hmac: verification could not run", e);
        return all(recipients, new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.empty(), "verification could not run: " + e));
    }

    private static Map<String, Verdict> all(List<MailAddress> recipients, Verdict v) {
        Map<String, Verdict> all = new HashMap<>();
        for (MailAddress r : recipients) {
            all.put(r.asString(), v);
        }
        return all;
    }

    /**
     * A pass must be made for the From domain that the protocol's reading and mail clients' parsers agree on: never
     * for the envelope sender's domain, another partner's domain, or a From that parsers read differently. The
     * verifier already fails a From outside d= (from-mismatch); this adds the parser cross-check.
     */
    private static Verdict aligned(Verdict v, Optional<String> authorDomain) {
        if (v == null) {
            return new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.empty(), "verifier returned no verdict for a recipient");
        }
        if (v instanceof Verdict.Pass p && !authorDomain.map(p.header().domain()::equals).orElse(false)) {
            return new Verdict.Fail(Reason.FROM_MISMATCH, v.signature(), "signed for d=" + p.header().domain()
                    + authorDomain.map(a -> " but the From domain is " + a)
                            .orElse(" but mail clients' parsers do not read the From field as one mailbox in it"));
        }
        return v;
    }

    /** The verdict the summary attributes show: the first failing one, else the first. */
    private RecordedVerdict decisive(Collection<RecordedVerdict> verdicts) {
        return verdicts.stream().filter(v -> failOn.contains(v.result())).findFirst()
                .orElse(verdicts.iterator().next());
    }

    private void addResultsHeaders(Mail mail, Map<MailAddress, RecordedVerdict> fresh, Optional<String> headerFrom)
            throws MessagingException {
        List<RecordedVerdict> distinct = new ArrayList<>();
        for (RecordedVerdict v : fresh.values()) {
            if (distinct.stream().noneMatch(v::sameAs)) {
                distinct.add(v);
            }
        }
        if (distinct.size() == 1 && fresh.size() == mail.getRecipients().size()) {
            MessageHeaders.prepend(mail.getMessage(),
                    List.of(AuthenticationResults.HEADER + ": " + AuthenticationResults.value(authservId, distinct.get(0), headerFrom)));
            return;
        }
        // Recipients disagree (or some were decided earlier): each gets the field that describes its own copy.
        for (Map.Entry<MailAddress, RecordedVerdict> e : fresh.entrySet()) {
            mail.addSpecificHeaderForRecipient(PerRecipientHeaders.Header.builder()
                    .name(AuthenticationResults.HEADER)
                    .value(AuthenticationResults.value(authservId, e.getValue(), headerFrom))
                    .build(), e.getKey());
        }
    }

    private void stripForgedResults(MimeMessage message) throws MessagingException {
        int removed = MessageHeaders.remove(message, AuthenticationResults.HEADER, v -> AuthenticationResults.claims(v, authservId));
        if (removed > 0) {
            metrics.count(Metrics.AR_STRIPPED);
            LOGGER.warn("auth-hmac: removed {} inbound Authentication-Results field(s) claiming our authserv-id {}", removed, authservId);
        }
    }

    /** Whether the mail must be verified: decided from the raw From fields and the envelope sender (fails closed). */
    private PartnerClaim partnerClaim(Mail mail) throws MessagingException {
        String[] from = mail.getMessage().getHeader("From");
        return PartnerClaim.of(from == null ? List.of() : List.of(from),
                mail.getMaybeSender().asOptional().map(s -> s.getDomain().asString()), keysetByDomain.keySet());
    }

    /** Acceptance time: pinned on first sight from James's Mail.getLastUpdated(), set when the mail was accepted. */
    private static Instant pinAcceptedAt(Mail mail) {
        Optional<Long> pinned = mail.getAttribute(AuthHmacAttributes.ACCEPTED_AT).flatMap(a -> a.getValue().valueAs(Long.class));
        if (pinned.isPresent()) {
            return Instant.ofEpochMilli(pinned.get());
        }
        Instant accepted = mail.getLastUpdated() != null ? mail.getLastUpdated().toInstant() : Instant.now();
        mail.setAttribute(new Attribute(AuthHmacAttributes.ACCEPTED_AT, AttributeValue.of(accepted.toEpochMilli())));
        return accepted;
    }

    private static Map<MailAddress, RecordedVerdict> recordedVerdicts(Mail mail) {
        return RecordedVerdict.perRecipient(mail);
    }

    private static void writeRecipientVerdicts(Mail mail, Map<MailAddress, RecordedVerdict> recorded) {
        Map<String, AttributeValue<?>> map = new LinkedHashMap<>();
        recorded.forEach((r, v) -> map.put(r.asString(), AttributeValue.of(v.encode())));
        mail.setAttribute(new Attribute(AuthHmacAttributes.RECIPIENT_VERDICTS, AttributeValue.of(map)));
    }

    static Map<String, String> condition(String condition) throws MailetException {
        Map<String, String> out = new HashMap<>();
        if (condition == null || condition.isBlank()) {
            throw Parameters.error("partners", "the matcher condition must name the partner domains, e.g. "
                    + "AuthHmacFailed=partners=a.example:partner-a");
        }
        for (String part : condition.split(";")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw Parameters.error(part.trim(), "expected name=value in the matcher condition");
            }
            String key = part.substring(0, eq).trim();
            if (!KEYS.contains(key)) {
                throw Parameters.error(key, "unknown; expected one of " + KEYS);
            }
            if (out.put(key, part.substring(eq + 1).trim()) != null) {
                throw Parameters.error(key, "given twice");
            }
        }
        return out;
    }

    static Set<AuthResult> failOn(String value) throws MailetException {
        if (value == null || value.isBlank()) {
            return DEFAULT_FAIL_ON;
        }
        Set<AuthResult> out = EnumSet.noneOf(AuthResult.class);
        for (String token : value.split("[,\\s]+")) {
            if (token.isEmpty()) {
                continue;
            }
            AuthResult r;
            try {
                r = AuthResult.fromToken(token);
            } catch (IllegalArgumentException e) {
                throw Parameters.error("failOn", e.getMessage());
            }
            if (r == AuthResult.TEMPERROR) {
                throw Parameters.error("failOn", "temperror is never a failure: such mail waits and is retried");
            }
            if (r == AuthResult.PASS) {
                throw Parameters.error("failOn", "pass cannot count as failure");
            }
            out.add(r);
        }
        if (out.isEmpty()) {
            throw Parameters.error("failOn", "names no result");
        }
        return out;
    }

    private static ReplayScope replayScope(String value) throws MailetException {
        if (value == null || value.isBlank()) {
            return ReplayScope.RECIPIENT;
        }
        try {
            return ReplayScope.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw Parameters.error("replayScope", "expected recipient or signature, got '" + value.trim() + "'");
        }
    }

    /** Absent: the default "+"; given empty ({@code subAddressSeparator=}): no sub-addressing. */
    private static String subAddressSeparator(String value) throws MailetException {
        if (value == null) {
            return VerifierSettings.DEFAULT_SUB_ADDRESS_SEPARATOR;
        }
        try {
            return VerifierSettings.defaults().withSubAddressSeparator(value).subAddressSeparator();
        } catch (IllegalArgumentException e) {
            throw Parameters.error("subAddressSeparator", e.getMessage());
        }
    }

    private static Duration positive(String parameter, Duration d) throws MailetException {
        if (d == null || d.isZero() || d.isNegative()) {
            throw Parameters.error(parameter, "must be positive");
        }
        return d;
    }

    private static String localHostName() {
        return localHostName(InetAddress::getLocalHost);
    }

    /** The host's canonical name in lower case; "localhost" when the host's own name does not resolve. */
    static String localHostName(Callable<InetAddress> localHost) {
        try {
            return localHost.call().getCanonicalHostName().toLowerCase(Locale.ROOT);
        } catch (Exception e) {
            return "localhost";
        }
    }

    /**
     * The serialized message, read back without {@code toByteArray}'s copy: a large mail is held once, not twice.
     * Sized from the message itself (its header lines and its content size, {@link SerializedMessage#expectedSize}):
     * a fixed allowance for the header block made a mail with more header bytes than that grow the buffer to twice
     * its size.
     */
    static final class MessageBytes extends ByteArrayOutputStream {
        MessageBytes(MimeMessage message) throws MessagingException {
            super(SerializedMessage.expectedSize(message));
        }

        /** The buffer itself; the message is its first {@link #size()} bytes. */
        byte[] buffer() {
            return buf;
        }
    }
}
