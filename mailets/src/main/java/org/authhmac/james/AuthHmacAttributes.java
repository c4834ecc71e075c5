package org.authhmac.james;

import org.apache.mailet.AttributeName;

/**
 * Names of the mail attributes the validating matcher writes and the quarantine mailet reads, so that later
 * matchers route on attributes instead of re-parsing headers (docs/CONFIGURATION.md lists them).
 */
public final class AuthHmacAttributes {
    private static final String PREFIX = "org.authhmac.";

    /** RFC 8601 result token of the decisive verdict: pass, fail, none, neutral, permerror (String). */
    public static final AttributeName RESULT = AttributeName.of(PREFIX + "result");
    /** Reason token: verified, bad-mac, expired, replay, ... (String). */
    public static final AttributeName REASON = AttributeName.of(PREFIX + "reason");
    /** s= of the deciding signature, when one could be parsed (String). */
    public static final AttributeName KEY_ID = AttributeName.of(PREFIX + "keyId");
    /** d= of the deciding signature (String). */
    public static final AttributeName DOMAIN = AttributeName.of(PREFIX + "domain");
    /** t= of the deciding signature, Unix seconds (Long). */
    public static final AttributeName SIGNING_TIME = AttributeName.of(PREFIX + "signingTime");
    /** Human-readable detail, never key material (String). */
    public static final AttributeName DETAIL = AttributeName.of(PREFIX + "detail");
    /** Verdict per envelope recipient, "result reason" (Map of String to String). */
    public static final AttributeName RECIPIENT_VERDICTS = AttributeName.of(PREFIX + "recipientVerdicts");
    /**
     * When this James accepted the mail (epoch milliseconds, Long), pinned at the first verification attempt
     * from {@code Mail.getLastUpdated()}, so that retries and re-queues measure the window from acceptance.
     */
    public static final AttributeName ACCEPTED_AT = AttributeName.of(PREFIX + "acceptedAt");
    /** How many times verification ended in temperror for this mail (Integer). */
    public static final AttributeName TEMPERROR_ATTEMPTS = AttributeName.of(PREFIX + "temperrorAttempts");

    /**
     * Set by our own mailets on a mail they hold (AuthHmacQuarantine in quarantine mode, AuthHmacHold), just before
     * storing it: the repository URL (String). A mail that comes back out of the repository (an administrator's
     * WebAdmin reprocess) still carries it, so SignForMailbox writes {@code sv=released} for every recipient the
     * matcher did not pass.
     */
    public static final AttributeName HELD = AttributeName.of(PREFIX + "held");
    /**
     * On a held mail: the mailboxes whose copy was released or discarded by reply (AuthHmacRelease), lower case,
     * comma-separated (String). Their release addresses are used up.
     */
    public static final AttributeName SETTLED = AttributeName.of(PREFIX + "settled");
    /**
     * Set by AuthHmacFailed: the From domain that the protocol's reading and mail clients' parsers agree on (String),
     * absent when they do not. A pass must be signed for it; a release by reply checks the held mail against it.
     */
    public static final AttributeName AUTHOR_DOMAIN = AttributeName.of(PREFIX + "authorDomain");
    /**
     * Set by AuthHmacQuarantine on the notices it writes (String: {@code quarantine}), so that SignForMailbox writes
     * {@code sv=notice}: the message is the server's own, and what it quotes from the held mail is unverified.
     */
    public static final AttributeName NOTICE = AttributeName.of(PREFIX + "notice");

    /**
     * The sending side's decision for a mail with partner recipients (String): {@code authenticated-author},
     * {@code server-own} (signed); {@code not-submitted-here}, {@code author-outside-signing-domain},
     * {@code server-own-outside-signing-domain} (sent unsigned); {@code from-not-authenticated-user},
     * {@code from-unreadable} (refused).
     */
    public static final AttributeName SIGNING = AttributeName.of(PREFIX + "signing");
    /**
     * Set by SignWithAuthHmac on each copy it splits off a mail and queues (String: the copy's own mail name): the
     * copy is already signed, so SignWithAuthHmac lets it pass once, untouched, and removes the mark.
     */
    public static final AttributeName SPLIT_COPY = AttributeName.of(PREFIX + "splitCopy");
    /**
     * Set with {@link #SPLIT_COPY} (String: {@code SECONDS:HEX}, the split's time in Unix seconds and the SHA-256 of the
     * copy's recipients in order and of its message as queued): the copy passes untouched only as its signature was
     * made and within minutes of it; a mailet that changed its recipients or its message before SignWithAuthHmac met
     * the copy again, or a late release, makes it a mail like any other, signed (and split) anew.
     */
    public static final AttributeName SPLIT_COPY_DIGEST = AttributeName.of(PREFIX + "splitCopyDigest");

    private AuthHmacAttributes() {
    }
}
