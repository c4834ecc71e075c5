package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.authhmac.james.Metrics;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.ReleaseTokens;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Verdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request to a release address, from the check of its sender to the audit line and the reply
 * ({@link AuthHmacRelease}). Refusals cost no repository work unless the token is one this server made for the
 * authenticated mailbox.
 */
final class ReleaseRequests {
    private static final Logger LOGGER = LoggerFactory.getLogger(AuthHmacRelease.class);
    static final String METRIC = Metrics.PREFIX + "release.";
    static final int MAX_ADDRESSES_PER_MAIL = 5;

    /** How a request ends: the word of the audit line, the metric and the reply's subject. */
    enum Outcome {
        RELEASED("Held message released", "It failed the X-Auth-HMAC check but its signature holds; it is being delivered to your inbox.\nIt was released on your request only: be as careful with what it asks as with any mail."),
        DISCARDED("Held message discarded", "Your copy was deleted. It cannot be recovered."),
        NOT_AUTHENTICATED(null, null),
        OFF(null, "Release by reply is turned off on this server. Ask your administrator."),
        MALFORMED(null, "This is not a release address this server wrote."),
        EXPIRED(null, "This release address has expired. Ask your administrator."),
        INVALID(null, "This release address is not valid for your mailbox: it was altered, or written for someone else."),
        UNAVAILABLE(null, "The server cannot check it right now. Try again in a few minutes."),
        NOT_HELD(null, "The message is no longer held: it was released, discarded or deleted."),
        USED(null, "Your copy was already released or discarded."),
        NOT_ALLOWED(null, "A message held for this reason is released by an administrator only. Ask your administrator."),
        UNVERIFIED(null, "Its signature does not hold, so it may be forged: an administrator must decide. Ask your administrator."),
        KEY_MISSING(null, "The sender's key is not installed on this server yet. Try again later, or ask your administrator.");

        private final String subject;
        private final String text;

        Outcome(String subject, String text) {
            this.subject = subject;
            this.text = text;
        }

        String word() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        boolean refused() {
            return this != RELEASED && this != DISCARDED;
        }

        String subject() {
            return subject != null ? subject : "Release refused (" + word() + ")";
        }
    }

    private final MailetContext context;
    private final ReleaseTokens tokens;
    private final HeldCopies held;
    private final SignatureRecheck recheck;
    private final Set<Reason> reasons;
    private final String releaseProcessor;
    private final String replyProcessor;
    private final Metrics metrics;

    ReleaseRequests(MailetContext context, ReleaseTokens tokens, HeldCopies held, SignatureRecheck recheck, Set<Reason> reasons,
                    String releaseProcessor, String replyProcessor, Metrics metrics) {
        this.context = context;
        this.tokens = tokens;
        this.held = held;
        this.recheck = recheck;
        this.reasons = reasons;
        this.releaseProcessor = releaseProcessor;
        this.replyProcessor = replyProcessor;
        this.metrics = metrics;
    }

    /**
     * Handles the distinct release addresses of one mail (compared without case), at most
     * {@value #MAX_ADDRESSES_PER_MAIL}: a reply names one, and each costs a repository scan and a reply. The rest get
     * one audit line and nothing else.
     */
    void handleAll(Mail request, List<MailAddress> addresses) {
        Set<String> seen = new java.util.HashSet<>();
        int handled = 0;
        int dropped = 0;
        for (MailAddress address : addresses) {
            if (!seen.add(address.asString().toLowerCase(Locale.ROOT))) {
                continue;
            }
            if (handled++ < MAX_ADDRESSES_PER_MAIL) {
                handle(request, address);
            } else {
                dropped++;
            }
        }
        if (dropped > 0) {
            AuditLine.of("release", request).with("action", "-").with("sender", request.getMaybeSender().asString())
                    .with("outcome", "refused").with("refusal", "too-many").with("count", dropped)
                    .with("detail", "at most " + MAX_ADDRESSES_PER_MAIL + " release addresses per mail").write();
            metrics.count(METRIC + "refused.too-many");
        }
    }

    void handle(Mail request, MailAddress address) {
        Optional<MailAddress> mailbox = authenticatedMailbox(request);
        AuditLine line = AuditLine.of("release", request).with("action", action(address))
                .with("mailbox", mailbox.map(MailAddress::asString).orElse("-"))
                .with("sender", request.getMaybeSender().asString());
        Outcome outcome;
        String heldKey = "-";
        try {
            Decided decided = decide(request, address, mailbox);
            outcome = decided.outcome();
            heldKey = decided.key();
            line.with("outcome", outcome.refused() ? "refused" : outcome.word());
            if (outcome.refused()) {
                line.with("refusal", outcome.word());
            }
            line.with("key", heldKey).with("reason", decided.reason()).with("detail", decided.detail());
        } catch (MessagingException | RuntimeException e) {
            LOGGER.error("auth-hmac: release request {} could not be handled", request.getName(), e);
            outcome = Outcome.UNAVAILABLE;
            line.with("outcome", "refused").with("refusal", outcome.word()).with("error", e.toString());
        }
        line.write();
        metrics.count(METRIC + (outcome.refused() ? "refused." + outcome.word() : outcome.word()));
        if (mailbox.isPresent()) {
            reply(mailbox.get(), outcome, heldKey);
        }
    }

    private record Decided(Outcome outcome, String key, String reason, String detail) {
        static Decided of(Outcome outcome, String detail) {
            return new Decided(outcome, "-", "-", detail);
        }
    }

    private Decided decide(Mail request, MailAddress address, Optional<MailAddress> mailbox) throws MessagingException {
        if (mailbox.isEmpty()) {
            return Decided.of(Outcome.NOT_AUTHENTICATED, "the sender did not authenticate as a local mailbox");
        }
        if (reasons.isEmpty()) {
            return Decided.of(Outcome.OFF, "selfRelease is off");
        }
        ReleaseTokens.Check check = tokens.check(address, mailbox.get());
        if (check instanceof ReleaseTokens.Refused r) {
            return Decided.of(switch (r.refusal()) {
                case MALFORMED -> Outcome.MALFORMED;
                case EXPIRED -> Outcome.EXPIRED;
                case INVALID -> Outcome.INVALID;
                case UNAVAILABLE -> Outcome.UNAVAILABLE;
            }, r.detail());
        }
        ReleaseTokens.Valid valid = (ReleaseTokens.Valid) check;
        return held.withCopy(valid.handle(), mailbox.get(), copy -> {
            if (copy.isEmpty()) {
                return Decided.of(Outcome.NOT_HELD, "no held mail has this handle");
            }
            HeldCopies.Copy c = copy.get();
            String key = c.key().asString();
            if (c.settled()) {
                return new Decided(Outcome.USED, key, "-", "the mailbox's copy is already settled");
            }
            Map<MailAddress, RecordedVerdict> verdicts = RecordedVerdict.perRecipient(c.held());
            Optional<RecordedVerdict> mailVerdict = RecordedVerdict.readFrom(c.held());
            MailAddress recipient = c.recipients().get(0);
            Optional<RecordedVerdict> verdict = Optional.ofNullable(verdicts.get(recipient)).or(() -> mailVerdict);
            String reason = verdict.map(v -> v.reason().token()).orElse("-");
            boolean allowed = c.recipients().stream().allMatch(r -> Optional.ofNullable(verdicts.get(r)).or(() -> mailVerdict)
                    .map(v -> reasons.contains(v.reason())).orElse(false));
            if (!allowed) {
                return new Decided(Outcome.NOT_ALLOWED, key, reason, "held reason not in selfRelease");
            }
            if (valid.action() == ReleaseTokens.Action.DISCARD) {
                held.settle(c);
                return new Decided(Outcome.DISCARDED, key, reason, "-");
            }
            Verdict again = recheck.recheck(c.held(), recipient, verdict.get());
            if (again.result() == AuthResult.TEMPERROR) {
                return new Decided(Outcome.UNAVAILABLE, key, reason, again.detail());
            }
            if (again.reason() == Reason.UNKNOWN_KEY) {
                return new Decided(Outcome.KEY_MISSING, key, reason, again.detail());
            }
            if (again.result() != AuthResult.PASS) {
                return new Decided(Outcome.UNVERIFIED, key, reason, again.result().token() + " " + again.reason().token()
                        + ": " + again.detail());
            }
            release(c);
            held.settle(c);
            return new Decided(Outcome.RELEASED, key, reason, "-");
        });
    }

    /** The mailbox's copy, on past the validation step, for that mailbox only; the held mail is untouched. */
    private void release(HeldCopies.Copy c) throws MessagingException {
        MailImpl copy = MailImpl.duplicate(c.held());
        try {
            copy.setRecipients(java.util.List.of(c.mailbox()));
            context.sendMail(copy, releaseProcessor);
        } finally {
            copy.dispose();
        }
    }

    private void reply(MailAddress mailbox, Outcome outcome, String heldKey) {
        String text = outcome.text + (heldKey.equals("-") ? "" : "\n\nReference: " + UntrustedText.forNotice(heldKey)) + "\n";
        try {
            NoticeDelivery.deliver(context, context.getPostmaster(), mailbox,
                    QuarantineNotice.message(context.getPostmaster(), mailbox, text, Optional.empty(), outcome.subject()),
                    replyProcessor);
        } catch (MessagingException | RuntimeException e) {
            LOGGER.error("auth-hmac: could not send the reply to release request of {}", mailbox, e);
        }
    }

    private static String action(MailAddress address) {
        String local = address.getLocalPart().toLowerCase(Locale.ROOT);
        int dash = local.indexOf('-');
        // "-" also for an empty word: every absent field of the audit line reads "-"
        return dash <= 0 ? "-" : local.substring(0, dash);
    }

    /**
     * The local mailbox the request's sender authenticated as (SMTP AUTH), never a header field; empty when the
     * sender did not authenticate, or as a user that is not a local mailbox.
     */
    private Optional<MailAddress> authenticatedMailbox(Mail request) {
        Optional<String> user = request.getAttribute(Mail.SMTP_AUTH_USER).flatMap(a -> a.getValue().valueAs(String.class));
        if (user.isEmpty() || !user.get().contains("@")) {
            return Optional.empty();
        }
        try {
            MailAddress mailbox = new MailAddress(user.get());
            return context.isLocalEmail(mailbox) ? Optional.of(mailbox) : Optional.empty();
        } catch (jakarta.mail.internet.AddressException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
