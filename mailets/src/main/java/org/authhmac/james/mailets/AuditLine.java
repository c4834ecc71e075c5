package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.authhmac.james.RecordedVerdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line of the audit log (logger {@code org.authhmac.audit}, docs/OPERATIONS.md): an action and the mail it
 * concerns, as {@code name=value} fields. Every value from the mail goes through {@link UntrustedText#forLog}, so
 * a forged address or Subject cannot start a line of its own or hide part of one. Never key material.
 */
public final class AuditLine {
    public static final Logger AUDIT = LoggerFactory.getLogger("org.authhmac.audit");

    private final StringBuilder line;

    private AuditLine(String action, Mail mail) {
        line = new StringBuilder("auth-hmac ").append(action).append(" mail=").append(UntrustedText.forLog(mail.getName()));
    }

    public static AuditLine of(String action, Mail mail) {
        return new AuditLine(action, mail);
    }

    public AuditLine with(String name, Object value) {
        line.append(' ').append(name).append('=').append(UntrustedText.forLog(value == null ? null : value.toString()));
        return this;
    }

    /** Envelope sender, envelope recipients and Message-ID. */
    public AuditLine envelope(Mail mail) {
        return with("sender", mail.getMaybeSender().asString())
                .with("recipients", mail.getRecipients().stream().map(MailAddress::asString).collect(Collectors.joining(",")))
                .with("messageId", messageId(mail));
    }

    /** Result, reason, key id, signing domain and signing time of the recorded verdict ("unverified" when none). */
    public AuditLine verdict(Optional<RecordedVerdict> verdict) {
        return with("result", verdict.map(v -> v.result().token()).orElse("unverified"))
                .with("reason", verdict.map(v -> v.reason().token()).orElse("-"))
                .with("keyId", verdict.flatMap(RecordedVerdict::keyId).orElse("-"))
                .with("domain", verdict.flatMap(RecordedVerdict::domain).orElse("-"))
                .with("signedAt", verdict.flatMap(RecordedVerdict::signingTime).map(Object::toString).orElse("-"));
    }

    public void write() {
        AUDIT.info("{}", line);
    }

    @Override
    public String toString() {
        return line.toString();
    }

    /** The Message-ID field, "-" when there is none or the header block cannot be read. */
    public static String messageId(Mail mail) {
        try {
            return Optional.ofNullable(mail.getMessage().getMessageID()).orElse("-");
        } catch (MessagingException | RuntimeException e) {
            return "-";
        }
    }
}
