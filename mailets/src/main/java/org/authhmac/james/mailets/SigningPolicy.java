package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.util.Locale;
import java.util.Optional;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.protocol.Recipients;

/**
 * Which outbound mail the sending server signs. A signature says "a user of {@code signingDomain} wrote this and
 * submitted it here" (docs/CONFIGURATION.md, "What is signed"):
 *
 * <ul>
 *   <li>Mail submitted with SMTP AUTH ({@code Mail.SMTP_AUTH_USER}) is signed when its From field is exactly the
 *       authenticated user's address (case-insensitive) in {@code signingDomain}, and names no other address.
 *       A From of somebody else is refused: the mail goes to the refused processor, which bounces it to the sender.
 *       The user's own address in another domain of this server goes on unsigned.</li>
 *   <li>Mail no user submitted that an administrator marked as the server's own ({@link #SERVER_OWN}, set with
 *       James's {@code SetMailAttribute} before this mailet) is signed when its From is one mailbox in
 *       {@code signingDomain}. The mark is ignored on mail with an SMTP AUTH user: the rule above decides.</li>
 *   <li>Everything else (forwards, Sieve redirects, vacation replies, bounces, mail from authorized networks) was
 *       not written here by a user of ours: it goes on unsigned, and the receiver treats it as unsigned.</li>
 * </ul>
 *
 * <p>The From is read strictly ({@link Author}).
 */
final class SigningPolicy {
    /**
     * The administrator's mark for mail the server itself wrote ({@code true}, as a String or a Boolean). Mail
     * attributes are never set from the SMTP dialogue, and James copies them to forwarded copies of the mail.
     */
    static final AttributeName SERVER_OWN = AttributeName.of("org.authhmac.serverOwn");
    /** Fields that name who sent a mail besides its From; each must be the authenticated user's own address. */
    static final String[] SENDER_FIELDS = {"Sender", "Resent-From", "Resent-Sender"};

    enum Action { SIGN, SEND_UNSIGNED, REFUSE }

    /** Each outcome, its token (mail attribute {@code org.authhmac.signing}) and its counter. */
    enum Rule {
        AUTHENTICATED_AUTHOR(Action.SIGN, "authenticated-author", null),
        SERVER_OWN(Action.SIGN, "server-own", Metrics.SIGN_SERVER_OWN),
        NOT_SUBMITTED_HERE(Action.SEND_UNSIGNED, "not-submitted-here", Metrics.SIGN_UNSIGNED_NOT_SUBMITTED_HERE),
        AUTHOR_OUTSIDE_SIGNING_DOMAIN(Action.SEND_UNSIGNED, "author-outside-signing-domain",
                Metrics.SIGN_UNSIGNED_AUTHOR_OUTSIDE_SIGNING_DOMAIN),
        SERVER_OWN_OUTSIDE_SIGNING_DOMAIN(Action.SEND_UNSIGNED, "server-own-outside-signing-domain",
                Metrics.SIGN_UNSIGNED_SERVER_OWN_OUTSIDE_SIGNING_DOMAIN),
        FROM_NOT_AUTHENTICATED_USER(Action.REFUSE, "from-not-authenticated-user", Metrics.SIGN_REFUSED_FROM_NOT_USER),
        FROM_UNREADABLE(Action.REFUSE, "from-unreadable", Metrics.SIGN_REFUSED_FROM_UNREADABLE);

        private final Action action;
        private final String token;
        private final String metric;

        Rule(Action action, String token, String metric) {
            this.action = action;
            this.token = token;
            this.metric = metric;
        }

        Action action() {
            return action;
        }

        String token() {
            return token;
        }

        /** The counter for this outcome, empty for the ordinary one (counted as signed). */
        Optional<String> metric() {
            return Optional.ofNullable(metric);
        }
    }

    /** The decision for one mail, with a sentence for the log and for the sender's bounce. */
    record Decision(Rule rule, String detail) {
        Action action() {
            return rule.action();
        }
    }

    private final String signingDomain;

    /** @param signingDomain d= of our signatures, in normal form (lower case, A-labels) */
    SigningPolicy(String signingDomain) {
        this.signingDomain = signingDomain;
    }

    Decision decide(Mail mail) {
        // The administrator's mark counts only for mail no user submitted: a mark set too widely (SMTPIsAuthNetwork
        // also matches authenticated sessions) must not let a user write in somebody else's name.
        boolean submitted = mail.getAttribute(Mail.SMTP_AUTH_USER).isPresent();
        boolean serverOwn = !submitted && markedAsServerOwn(mail);
        Optional<String> user = authenticatedUser(mail);
        if (!serverOwn && user.isEmpty()) {
            // Read nothing: a forward's From is not ours to judge, whatever it says.
            return new Decision(Rule.NOT_SUBMITTED_HERE, "not submitted with SMTP AUTH and not marked as the server's own "
                    + "(a forward, redirect, automatic reply or relayed mail)");
        }
        Author author = Author.read(mail);
        if (user.isEmpty()) {
            if (author.readable() && !author.namesAnotherAddress() && author.domain().equals(signingDomain)) {
                return new Decision(Rule.SERVER_OWN, "marked as the server's own, From " + author.address());
            }
            return new Decision(Rule.SERVER_OWN_OUTSIDE_SIGNING_DOMAIN, "marked as the server's own, but its From is not one "
                    + "mailbox in " + signingDomain + (author.readable() ? " (" + author.address() + ")" : ": " + author.problem()));
        }
        String userAddress = userAddress(user.get());
        if (!author.readable()) {
            return new Decision(Rule.FROM_UNREADABLE, "the From field cannot be read as one mailbox (" + author.problem()
                    + "); you logged in as " + userAddress);
        }
        if (!author.address().equals(userAddress) || author.namesAnotherAddress()) {
            String what = author.address().equals(userAddress) ? "the From field also names another address" : "the From <"
                    + author.address() + ">";
            return new Decision(Rule.FROM_NOT_AUTHENTICATED_USER, what + " is not the address you logged in with (" + userAddress
                    + "); only mail whose From is your own address is signed for partner domains");
        }
        Optional<String> otherSender = otherSenderField(mail, userAddress);
        if (otherSender.isPresent()) {
            return new Decision(Rule.FROM_NOT_AUTHENTICATED_USER, otherSender.get() + " is not the address you logged in with ("
                    + userAddress + "); only mail that names you alone as its author and sender is signed for partner domains");
        }
        if (!author.domain().equals(signingDomain)) {
            return new Decision(Rule.AUTHOR_OUTSIDE_SIGNING_DOMAIN, "From " + author.address() + " is outside the signing domain "
                    + signingDomain);
        }
        return new Decision(Rule.AUTHENTICATED_AUTHOR, "submitted by " + userAddress);
    }

    /**
     * The first Sender, Resent-From or Resent-Sender field that is not the user's own single address, read as the From
     * is (readers show these as who sent the mail: Outlook's "ceo@a.example on behalf of Alice"); empty when every
     * such field is hers, or there is none.
     */
    static Optional<String> otherSenderField(Mail mail, String userAddress) {
        for (String name : SENDER_FIELDS) {
            String[] values;
            try {
                values = mail.getMessage().getHeader(name);
            } catch (MessagingException | RuntimeException e) {
                return Optional.of("the " + name + " field (unreadable)");
            }
            for (String value : values == null ? new String[0] : values) {
                Author a = Author.read(value);
                if (!a.readable() || a.namesAnotherAddress() || !a.address().equals(userAddress)) {
                    return Optional.of("the " + name + " field " + (a.readable() ? "<" + a.address() + ">" : "(" + a.problem() + ")"));
                }
            }
        }
        return Optional.empty();
    }

    static boolean markedAsServerOwn(Mail mail) {
        return mail.getAttribute(SERVER_OWN).map(a -> a.getValue().value()).filter(v ->
                Boolean.TRUE.equals(v) || (v instanceof String s && s.trim().equalsIgnoreCase("true"))).isPresent();
    }

    /** The SMTP AUTH user James recorded (Username.asString(): {@code alice@a.example}, or {@code alice}). */
    static Optional<String> authenticatedUser(Mail mail) {
        return mail.getAttribute(Mail.SMTP_AUTH_USER).map(a -> a.getValue()).map(AttributeValue::value)
                .filter(String.class::isInstance).map(String.class::cast).map(String::trim).filter(s -> !s.isEmpty());
    }

    /**
     * The authenticated user's mail address in the form {@link Author} gives: lower case, domain in A-labels. A
     * user name without a domain (James without virtual hosting) is that name in the signing domain.
     */
    String userAddress(String user) {
        int at = user.lastIndexOf('@');
        if (at < 0) {
            return Recipients.lowerAscii(user) + "@" + signingDomain;
        }
        String domain = user.substring(at + 1);
        return Recipients.lowerAscii(user.substring(0, at)) + "@"
                + Parameters.normalDomain(domain).orElse(domain.toLowerCase(Locale.ROOT));
    }
}
