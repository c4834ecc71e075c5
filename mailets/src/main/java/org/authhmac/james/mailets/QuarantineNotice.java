package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeUtility;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.authhmac.james.RecordedVerdict;

/**
 * The text of a quarantine notice. A mailbox's notice names that mailbox only (never a co-recipient or a Bcc) and
 * tells it how to ask for a release; the postmaster's names every recipient and carries the release command.
 * Whatever the held mail says about itself (From, sender, Subject, Message-ID) is quoted as the sender's unverified
 * claim, cleaned and defanged ({@link UntrustedText#forNotice}), because the notice itself comes from the
 * postmaster and its reader's client may vouch for it.
 */
final class QuarantineNotice {
    static final String SUBJECT = "Message held: it failed the X-Auth-HMAC check";

    private QuarantineNotice() {
    }

    /** The notice for one local mailbox. */
    static String forMailbox(MailAddress mailbox, Mail mail, Optional<RecordedVerdict> verdict, boolean deleted,
                             ReleaseOffers.Offer offer, Optional<NoticeLimiter.Suppressed> earlier) {
        StringBuilder b = new StringBuilder();
        b.append("A message for ").append(mailbox.asString()).append(deleted
                ? " was deleted by policy. It cannot be recovered.\n\n"
                : " was held in quarantine and was not delivered to you.\n\n");
        claims(b, mail);
        why(b, verdict);
        if (!deleted) {
            offer(b, mail, offer);
        }
        earlier.ifPresent(s -> b.append('\n').append(s.count())
                .append(s.count() == 1 ? " more message for you was" : " more messages for you were")
                .append(" held since ").append(s.since()).append(" without a notice of its own.\n"));
        return b.toString();
    }

    /** The notice for the postmaster: every recipient, and the release command when there is one. */
    static String forPostmaster(Mail mail, Optional<RecordedVerdict> verdict, boolean deleted, Optional<String> releaseCommand,
                                Optional<NoticeLimiter.Suppressed> earlier) {
        StringBuilder b = new StringBuilder();
        b.append("A message for ").append(UntrustedText.forNotice(mail.getRecipients().stream().map(MailAddress::asString)
                        .collect(Collectors.joining(", "))))
                .append(deleted ? " was deleted by policy.\n\n" : " was held in quarantine.\n\n");
        claims(b, mail);
        why(b, verdict);
        b.append("Mail id: ").append(UntrustedText.forNotice(mail.getName())).append('\n');
        releaseCommand.ifPresent(c -> b.append("\nTo release it (WebAdmin, internal):\n\n  ").append(c).append('\n'));
        earlier.ifPresent(s -> b.append('\n').append(s.count()).append(" more held mail(s) since ").append(s.since())
                .append(" got no notice of their own; the audit log lists every one.\n"));
        return b.toString();
    }

    private static void offer(StringBuilder b, Mail mail, ReleaseOffers.Offer offer) {
        String reference = UntrustedText.forNotice(mail.getName());
        switch (offer) {
            case ReleaseOffers.SelfService s -> b
                    .append("If you expected this message, you can get it yourself: reply to this message from your own\n")
                    .append("mailbox (what you write is ignored) before ").append(s.expiry()).append(".\n")
                    .append("It will then be delivered to you, and to nobody else. Your reply goes to:\n\n  ")
                    .append(s.release().asString()).append("\n\n")
                    .append("To delete your copy instead, write to:\n\n  ").append(s.discard().asString()).append("\n\n")
                    .append("Each address works once, only from your own account. Reference: ").append(reference).append('\n');
            case ReleaseOffers.AdministratorDecides d -> b
                    .append("An administrator must decide whether to release it: a message held for this reason (")
                    .append(d.reasons()).append(") may be forged.\n")
                    .append("If you expected this message, ask your administrator, quoting this reference: ")
                    .append(reference).append('\n');
            case ReleaseOffers.AskAdministrator a -> b
                    .append("If you expected this message, ask your administrator to release it, quoting this reference: ")
                    .append(reference).append('\n');
        }
    }

    static MimeMessage message(MailAddress from, MailAddress to, String text) throws MessagingException {
        return message(from, to, text, Optional.empty(), SUBJECT);
    }

    /** @param replyTo where a reply goes (the release address), instead of the postmaster */
    static MimeMessage message(MailAddress from, MailAddress to, String text, Optional<MailAddress> replyTo, String subject)
            throws MessagingException {
        MimeMessage notice = new MimeMessage(Session.getInstance(new Properties()));
        notice.setFrom(new InternetAddress(from.asString()));
        if (replyTo.isPresent()) {
            notice.setReplyTo(new InternetAddress[] {new InternetAddress(replyTo.get().asString())});
        }
        notice.addRecipient(jakarta.mail.Message.RecipientType.TO, new InternetAddress(to.asString()));
        notice.setSubject(subject, "UTF-8");
        // RFC 3834: vacation responders and the like do not answer it
        notice.setHeader("Auto-Submitted", "auto-generated");
        notice.setText(text, "UTF-8");
        notice.saveChanges();
        return notice;
    }

    private static void claims(StringBuilder b, Mail mail) {
        b.append("What the message says about itself is the sender's unverified claim: it may be forged.\n")
                .append("Links and addresses are shown disabled on purpose ([.] and [@] instead of . and @, hxxp instead of http).\n")
                .append("  From (claimed):     ").append(UntrustedText.forNotice(header(mail, "From"))).append('\n')
                .append("  Sender (envelope):  ").append(UntrustedText.forNotice(mail.getMaybeSender().asString())).append('\n')
                .append("  Subject (claimed):  ").append(UntrustedText.forNotice(header(mail, "Subject"))).append('\n')
                .append("  Message-ID:         ").append(UntrustedText.forNotice(AuditLine.messageId(mail))).append("\n\n");
    }

    private static void why(StringBuilder b, Optional<RecordedVerdict> verdict) {
        b.append("Why: its sender domain must sign with X-Auth-HMAC, and the check said ")
                .append(verdict.map(v -> v.result().token() + " (" + v.reason().token() + ")").orElse("nothing"))
                .append(verdict.flatMap(RecordedVerdict::keyId).map(k -> ", key id " + UntrustedText.forNotice(k)).orElse(""))
                .append(verdict.flatMap(RecordedVerdict::signingTime).map(t -> ", signed at " + t).orElse(""))
                .append(".\nThe message itself is not attached, because it may be forged. Do not act on what it claims.\n\n");
    }

    /** A header field as a reader would see it (RFC 2047 decoded), or a placeholder. */
    private static String header(Mail mail, String name) {
        try {
            String value = mail.getMessage().getHeader(name, ", ");
            if (value == null) {
                return "(none)";
            }
            return MimeUtility.decodeText(MimeUtility.unfold(value));
        } catch (Exception e) {
            return "(unreadable)";
        }
    }
}
