package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.internet.ParseException;
import java.io.UnsupportedEncodingException;
import java.text.Normalizer;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetException;
import org.authhmac.james.Metrics;
import org.authhmac.james.Parameters;
import org.authhmac.james.Utf8Reading;
import org.authhmac.protocol.AuthorDomain;
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
 * <p>The From is read strictly by jakarta.mail: exactly one From field, holding exactly one mailbox (no group, no
 * source route, no encoded word in the address, a host name as domain), whose domain must also be the protocol's
 * {@code AuthorDomain} reading, which verifiers use for their from-mismatch rule.
 */
final class SigningPolicy {
    /**
     * The administrator's mark for mail the server itself wrote ({@code true}, as a String or a Boolean). Mail
     * attributes are never set from the SMTP dialogue, and James copies them to forwarded copies of the mail.
     */
    static final AttributeName SERVER_OWN = AttributeName.of("org.authhmac.serverOwn");
    /** Bounds before the From field is parsed (as the receiving side's): over them the From is unreadable. */
    static final int MAX_FROM_CHARS = 8192;
    static final int MAX_FROM_DELIMITERS = 256;
    static final int MAX_ENCODED_WORDS = 32;
    /** Fields that name who sent a mail besides its From; each must be the authenticated user's own address. */
    static final String[] SENDER_FIELDS = {"Sender", "Resent-From", "Resent-Sender"};
    private static final Pattern FOLD = Pattern.compile("\r?\n(?=[ \t])");
    private static final Pattern ENCODED_WORD = Pattern.compile("=\\?[^?]*\\?[bBqQ]\\?[^?]*\\?=");

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

    /** The From field's single mailbox as read strictly, or why it cannot be read so. */
    record Author(String localPart, String domain, boolean namesAnotherAddress, String problem) {
        static Author unreadable(String problem) {
            return new Author(null, null, false, problem);
        }

        boolean readable() {
            return problem == null;
        }

        String address() {
            return localPart + "@" + domain;
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
        Author author = author(mail);
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
                Author a = author(value);
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
     * The authenticated user's mail address in the form {@link #author} gives: lower case, domain in A-labels. A
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

    /** Reads the author of the message; never throws. */
    static Author author(Mail mail) {
        String[] fields;
        try {
            fields = mail.getMessage().getHeader("From");
        } catch (MessagingException | RuntimeException e) {
            return Author.unreadable("the header cannot be read: " + e.getMessage());
        }
        if (fields == null || fields.length == 0) {
            return Author.unreadable("no From field");
        }
        if (fields.length > 1) {
            return Author.unreadable(fields.length + " From fields");
        }
        return author(fields[0]);
    }

    /** Reads one From field value (folded or not); never throws. */
    static Author author(String fieldValue) {
        if (fieldValue.length() > MAX_FROM_CHARS) {
            return Author.unreadable("longer than " + MAX_FROM_CHARS + " characters");
        }
        String value = FOLD.matcher(fieldValue).replaceAll("");
        int delimiters = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                return Author.unreadable("a control character");
            }
            if ("<(\"\\:;,@[".indexOf(c) >= 0) {
                delimiters++;
            }
        }
        if (delimiters > MAX_FROM_DELIMITERS) {
            return Author.unreadable("more than " + MAX_FROM_DELIMITERS + " delimiters");
        }
        InternetAddress mailbox;
        try {
            InternetAddress[] list = InternetAddress.parseHeader(value, true);
            if (list.length != 1 || list[0].isGroup()) {
                return Author.unreadable(list.length == 1 ? "a group" : list.length + " addresses");
            }
            mailbox = list[0];
        } catch (AddressException | RuntimeException e) {
            return Author.unreadable("not an RFC 5322 mailbox");
        }
        String address = mailbox.getAddress();
        int at = address == null ? -1 : address.lastIndexOf('@');
        // refused, because readers disagree on them: a source route, and an encoded word in the address
        if (at <= 0 || address.startsWith("@") || address.contains("=?")) {
            return Author.unreadable("no plain local-part@domain address");
        }
        String domain;
        try {
            domain = Parameters.domain("From", address.substring(at + 1));
        } catch (MailetException e) {
            return Author.unreadable("the domain is not a host name");
        }
        if (!AuthorDomain.of(fieldValue).equals(Optional.of(domain))) {
            // the verifier would answer from-mismatch: tell the user now instead of holding the mail later
            return Author.unreadable("the author domain as verifiers read it (PROTOCOL.md 9.2) is not " + domain);
        }
        String localPart = Recipients.lowerAscii(address.substring(0, at));
        Optional<Boolean> other = namesAnotherAddress(value, address);
        if (other.isEmpty()) {
            return Author.unreadable("an encoded word in an unknown charset");
        }
        return new Author(localPart, domain, other.get(), null);
    }

    /**
     * Whether the field, with encoded words decoded (wherever they stand) and NFKC applied (full-width forms), holds
     * an {@code @} besides the mailbox's own address: a display name or comment that names somebody else
     * ({@code "ceo@a.example" <alice@a.example>}). A display name that repeats the address itself is common and
     * allowed. Empty when an encoded word cannot be decoded or there are too many of them.
     */
    private static Optional<Boolean> namesAnotherAddress(String value, String address) {
        StringBuilder text = new StringBuilder(value.length());
        Matcher word = ENCODED_WORD.matcher(value);
        int words = 0;
        try {
            while (word.find()) {
                if (++words > MAX_ENCODED_WORDS) {
                    return Optional.empty();
                }
                word.appendReplacement(text, Matcher.quoteReplacement(MimeUtility.decodeWord(word.group())));
            }
        } catch (ParseException | UnsupportedEncodingException | RuntimeException e) {
            return Optional.empty();
        }
        word.appendTail(text);
        Pattern own = Pattern.compile(Pattern.quote(Normalizer.normalize(address, Normalizer.Form.NFKC)),
                Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
        for (String form : new String[] {text.toString(), Utf8Reading.of(text.toString())}) {
            String rest = own.matcher(Normalizer.normalize(form, Normalizer.Form.NFKC)).replaceAll("");
            if (rest.indexOf('@') >= 0) {
                return Optional.of(true);
            }
        }
        return Optional.of(false);
    }
}
