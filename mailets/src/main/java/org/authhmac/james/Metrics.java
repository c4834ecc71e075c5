package org.authhmac.james;

import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;

/**
 * Metric names (docs/OPERATIONS.md lists them). Only MetricFactory.generate/timer and Metric.increment /
 * TimeMetric.stopAndPublish are used: they exist unchanged in James 3.8 and 3.9.
 */
public final class Metrics {
    public static final String PREFIX = "authhmac.";
    public static final String VERIFY_TIMER = PREFIX + "verify.time";
    public static final String SIGN_TIMER = PREFIX + "sign.time";
    public static final String SIGNED = PREFIX + "sign.signed";
    public static final String SIGN_SKIPPED = PREFIX + "sign.skipped";
    /** {@code authhmac.sign.partner.<r= domain>.key.<key id>}: signatures per partner and key id. */
    public static final String SIGN_PARTNER = PREFIX + "sign.partner.";
    public static final String SIGN_STRIPPED = PREFIX + "sign.strippedForeignHeaders";
    public static final String SIGN_KEY_UNAVAILABLE = PREFIX + "sign.keyUnavailable";
    public static final String SIGN_FAILED = PREFIX + "sign.failed";
    /** Signed mails whose recipients were split into several copies, one per partner domain plus one unsigned. */
    public static final String SIGN_SPLIT = PREFIX + "sign.split";
    /** Copies split off such mails and queued on their own (the mail that goes on itself not included). */
    public static final String SIGN_SPLIT_COPIES = PREFIX + "sign.splitCopies";
    /** Signed as the server's own (administrator's mark), besides {@link #SIGNED}. */
    public static final String SIGN_SERVER_OWN = PREFIX + "sign.serverOwn";
    /** Partner mail sent on unsigned: neither submitted with SMTP AUTH nor marked (forwards, redirects, replies). */
    public static final String SIGN_UNSIGNED_NOT_SUBMITTED_HERE = PREFIX + "sign.unsigned.notSubmittedHere";
    /** Partner mail sent on unsigned: the authenticated user's own From is in another domain of this server. */
    public static final String SIGN_UNSIGNED_AUTHOR_OUTSIDE_SIGNING_DOMAIN = PREFIX + "sign.unsigned.authorOutsideSigningDomain";
    /** Partner mail sent on unsigned: marked as the server's own, but its From is not one mailbox in the signing domain. */
    public static final String SIGN_UNSIGNED_SERVER_OWN_OUTSIDE_SIGNING_DOMAIN = PREFIX + "sign.unsigned.serverOwnOutsideSigningDomain";
    /** Refused (sent to refusedProcessor): an authenticated user's mail whose From is somebody else. */
    public static final String SIGN_REFUSED_FROM_NOT_USER = PREFIX + "sign.refused.fromNotAuthenticatedUser";
    /** Refused (sent to refusedProcessor): an authenticated user's mail whose From is not one readable mailbox. */
    public static final String SIGN_REFUSED_FROM_UNREADABLE = PREFIX + "sign.refused.fromUnreadable";
    public static final String MAILBOX_SIGN_TIMER = PREFIX + "mailbox.sign.time";
    public static final String MAILBOX_SIGNED = PREFIX + "mailbox.signed";
    public static final String MAILBOX_NO_KEY = PREFIX + "mailbox.noKey";
    public static final String MAILBOX_KEY_UNAVAILABLE = PREFIX + "mailbox.keyUnavailable";
    public static final String MAILBOX_FAILED = PREFIX + "mailbox.failed";
    public static final String VERIFY_RESULT = PREFIX + "verify.result.";
    public static final String VERIFY_REASON = PREFIX + "verify.reason.";
    public static final String VERIFY_SKIPPED = PREFIX + "verify.skipped";
    public static final String VERIFY_REUSED = PREFIX + "verify.reused";
    public static final String AR_STRIPPED = PREFIX + "verify.strippedAuthenticationResults";
    /** A key derivation (a TPM2_HMAC) made for a received signature under which no MAC verified: a forgery's cost. */
    public static final String VERIFY_WASTED_DERIVATIONS = PREFIX + "verify.wastedKeyDerivations";
    /** Each answer of the replay cache (in memory or in Redis), and how long it took. */
    public static final String REPLAY_CACHE_TIMER = PREFIX + "replayCache.time";
    /** Gauge: entries in the replay cache (in memory; -1 for Redis). */
    public static final String REPLAY_CACHE_SIZE = PREFIX + "replayCache.size";
    public static final String REPLAY_CACHE_FRESH = PREFIX + "replayCache.fresh";
    public static final String REPLAY_CACHE_REPLAY = PREFIX + "replayCache.replay";
    public static final String REPLAY_CACHE_RECIPIENT_LIMIT = PREFIX + "replayCache.recipientLimit";
    /** No answer: full, Redis unreachable or slow or answering something else; the verdict is temperror. */
    public static final String REPLAY_CACHE_ERROR = PREFIX + "replayCache.error";
    public static final String HELD = PREFIX + "quarantine.action.";
    public static final String NOTICES = PREFIX + "quarantine.notices";
    public static final String NOTICES_SUPPRESSED = PREFIX + "quarantine.noticesSuppressed";
    public static final String HOLD = PREFIX + "hold.held";
    public static final String HOLD_FAILED = PREFIX + "hold.failed";

    private final MetricFactory factory;

    public Metrics(MetricFactory factory) {
        this.factory = factory;
    }

    public void count(String name) {
        factory.generate(name).increment();
    }

    public void countVerdict(AuthResult result, Reason reason) {
        count(VERIFY_RESULT + result.token());
        count(VERIFY_REASON + reason.token());
    }

    public TimeMetric timer(String name) {
        return factory.timer(name);
    }
}
