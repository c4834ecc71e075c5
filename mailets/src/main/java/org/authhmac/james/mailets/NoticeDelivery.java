package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.server.core.MailImpl;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.protocol.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is told about a held or deleted mail, and the sending of the notices: each local mailbox the mail was for
 * ({@code notifyRecipients}), and the postmaster ({@code notifyPostmaster}), at most {@code noticesPerHour} per
 * mailbox ({@link NoticeLimiter}). The wording is {@link QuarantineNotice}'s. A notice that cannot be sent is logged
 * and never undoes what was done to the mail.
 *
 * @param processor where the notices are sent ({@code noticeProcessor})
 * @param offers      what a recipient's notice offers to get the mail back ({@code selfRelease})
 */
record NoticeDelivery(MailetContext context, LocalMailboxes localMailboxes, NoticeLimiter limiter, Metrics metrics,
                         boolean notifyRecipients, boolean notifyRecipientsOfReplay, boolean notifyPostmaster,
                         String processor, ReleaseOffers offers) {
    /** The mailet's logger: these lines are the mailet's, and operators filter on its name. */
    private static final Logger LOGGER = LoggerFactory.getLogger(AuthHmacQuarantine.class);
    /** The value of {@link AuthHmacAttributes#NOTICE} on the notices this mailet writes. */
    static final String NOTICE_KIND = "quarantine";

    /** Whether any notice is sent at all, so that {@link #processor()} must exist. */
    boolean sendsAny() {
        return notifyRecipients || notifyRecipientsOfReplay || notifyPostmaster;
    }

    /**
     * @param deleted the mail was deleted, not held
     * @param release the release command, for the postmaster's notice
     * @param key     the held mail's repository key, for release by reply
     */
    void send(Mail mail, Optional<RecordedVerdict> verdict, boolean deleted, Optional<String> release, Optional<MailKey> key) {
        MailAddress postmaster = context.getPostmaster();
        if (postmaster == null) {
            return;
        }
        // Under the matcher's default replayScope=recipient, a replay is a second copy of a signed mail this very
        // recipient already received with pass: an attacker's replay, or a sender's retry after a lost "250" (seen
        // after a crash of the receiving James, docs/OPERATIONS.md). A notice about it would only alarm the
        // recipient; the audit line and the postmaster's notice remain.
        boolean replay = verdict.map(v -> v.reason() == Reason.REPLAY).orElse(false);
        // The postmaster's notice names every recipient and carries the release command: like every notice it goes
        // only to local mailboxes, never along a forward of the postmaster address out of the domain.
        List<MailAddress> postmasterMailboxes = notifyPostmaster ? localMailboxes.of(postmaster) : List.of();
        if (notifyRecipients && (!replay || notifyRecipientsOfReplay)) {
            Map<MailAddress, RecordedVerdict> perRecipient = RecordedVerdict.perRecipient(mail);
            for (Map.Entry<MailAddress, List<MailAddress>> m : mailboxes(mail).entrySet()) {
                MailAddress mailbox = m.getKey();
                if (!mailbox.equals(postmaster) && !postmasterMailboxes.contains(mailbox)) {
                    // made only for a notice the limiter lets through: a flood of held mail costs no token work
                    send(mail, postmaster, mailbox, earlier -> {
                        ReleaseOffers.Offer offer = key.isEmpty() || deleted ? new ReleaseOffers.AskAdministrator()
                                : offers.offer(key.get(), mailbox, m.getValue().stream()
                                        .map(r -> Optional.ofNullable(perRecipient.get(r)).or(() -> verdict))
                                        .flatMap(Optional::stream).toList());
                        return new Notice(QuarantineNotice.forMailbox(mailbox, mail, verdict, deleted, offer, earlier),
                                offer instanceof ReleaseOffers.SelfService s ? Optional.of(s.release()) : Optional.empty());
                    });
                }
            }
        }
        if (notifyPostmaster && postmasterMailboxes.isEmpty()) {
            LOGGER.warn("auth-hmac: the postmaster {} has no local mailbox: no postmaster notice for mail {} (see the audit log)",
                    postmaster, mail.getName());
        }
        for (MailAddress mailbox : postmasterMailboxes) {
            send(mail, postmaster, mailbox, earlier ->
                    new Notice(QuarantineNotice.forPostmaster(mail, verdict, deleted, release, earlier), Optional.empty()));
        }
    }

    /**
     * Sends a message of this server's own (a notice, a reply to a release request) to one local mailbox through
     * {@code processor}, marked with our attribute, which no sender can set: the mailbox signature of the message
     * then says it is the server's own.
     */
    static void deliver(MailetContext context, MailAddress from, MailAddress to, jakarta.mail.internet.MimeMessage message,
                        String processor) throws MessagingException {
        MailImpl notice = MailImpl.builder().name(MailImpl.getId()).sender(from).addRecipient(to).mimeMessage(message)
                .addAttribute(new Attribute(AuthHmacAttributes.NOTICE, AttributeValue.of(NOTICE_KIND)))
                .build();
        try {
            context.sendMail(notice, processor);
        } finally {
            // the queue holds its own copy, as with MailetContext.sendMail(sender, recipients, message, state)
            notice.dispose();
        }
    }

    /** Every local mailbox the recipients end in after alias rewriting, each once, with the recipients it came from. */
    private Map<MailAddress, List<MailAddress>> mailboxes(Mail mail) {
        Map<MailAddress, List<MailAddress>> out = new LinkedHashMap<>();
        for (MailAddress r : mail.getRecipients()) {
            for (MailAddress mailbox : localMailboxes.of(r)) {
                out.computeIfAbsent(mailbox, m -> new ArrayList<>()).add(r);
            }
        }
        return out;
    }

    /** A notice's text, and where a reply to it goes (the release address) when not to the postmaster. */
    private record Notice(String text, Optional<MailAddress> replyTo) {
    }

    private void send(Mail mail, MailAddress postmaster, MailAddress to,
                      Function<Optional<NoticeLimiter.Suppressed>, Notice> notice) {
        NoticeLimiter.Decision decision = limiter.admit(to.asString().toLowerCase(Locale.ROOT));
        if (!(decision instanceof NoticeLimiter.Send send)) {
            metrics.count(Metrics.NOTICES_SUPPRESSED);
            return;
        }
        try {
            Notice n = notice.apply(send.earlier());
            deliver(context, postmaster, to, QuarantineNotice.message(postmaster, to, n.text(), n.replyTo(),
                    QuarantineNotice.SUBJECT), processor);
            metrics.count(Metrics.NOTICES);
        } catch (MessagingException | RuntimeException e) {
            // The held mail is already safe; a failed notice must not undo that.
            LOGGER.error("auth-hmac: could not send the notice for mail {}", mail.getName(), e);
        }
    }
}
