package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.util.List;
import java.util.Optional;
import org.apache.mailet.Mail;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.RecordedVerdict;

/**
 * {@code action=mark}: the verdict goes on top as {@code markHeader}, the Subject gets {@code subjectTag} (none when
 * empty), and the mail is delivered through {@code releaseProcessor}.
 */
record MarkAction(String markHeader, String subjectTag, String releaseProcessor) implements FailingMailAction {

    @Override
    public void handle(Mail mail, Optional<RecordedVerdict> verdict) throws MessagingException {
        MimeMessage message = mail.getMessage();
        if (!subjectTag.isEmpty()) {
            String subject = Optional.ofNullable(message.getSubject()).orElse("");
            if (!subject.startsWith(subjectTag)) {
                message.setSubject(subject.isEmpty() ? subjectTag : subjectTag + " " + subject, "UTF-8");
            }
        }
        // A copy that came with the mail is the sender's claim; the verdict goes on top, alone.
        MessageHeaders.remove(message, markHeader, v -> true);
        MessageHeaders.prepend(message, List.of(markHeader + ": " + verdict.map(RecordedVerdict::shortForm).orElse("unverified")));
        AuditLine.of("mark", mail).with("header", markHeader).envelope(mail).verdict(verdict).write();
        // Past the rest of the validation processor, where every status field that came with a mail is removed
        mail.setState(releaseProcessor);
    }
}
