package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.util.Optional;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.RecordedVerdict;

/**
 * {@code action=quarantine}: the mail is stored in a mail repository with its verdict attributes, releasable through
 * WebAdmin, and its processing ends; the postmaster's notice carries the release command.
 */
record QuarantineAction(MailRepositoryUrl repositoryUrl, MailRepository repository, ReleaseCommand releaseCommand,
                        NoticeDelivery notices) implements FailingMailAction {

    @Override
    public void handle(Mail mail, Optional<RecordedVerdict> verdict) throws MessagingException {
        AuditLine line = AuditLine.of("quarantine", mail).with("repository", repositoryUrl.asString());
        // Travels with the stored mail: when an administrator sends it on, its mailbox signatures say released.
        mail.setAttribute(new Attribute(AuthHmacAttributes.HELD, AttributeValue.of(repositoryUrl.asString())));
        MailStorage.Stored stored;
        try {
            stored = MailStorage.store(repository, mail);
        } catch (MessagingException | RuntimeException e) {
            // The audit line is written whatever the repository does: the mail goes on to onMailetException.
            line.with("key", "-").envelope(mail).verdict(verdict).with("stored", "no").with("error", e.toString()).write();
            throw e;
        }
        line.with("key", stored.key().asString()).envelope(mail).verdict(verdict).with("stored", stored.form()).write();
        notices.send(mail, verdict, false, Optional.of(releaseCommand.forKey(stored.key())), Optional.of(stored.key()));
        mail.setState(Mail.GHOST);
    }
}
