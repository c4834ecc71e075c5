package org.authhmac.james.mailets;

import java.util.Optional;
import org.apache.mailet.Mail;
import org.authhmac.james.RecordedVerdict;

/** {@code action=delete}: the mail's processing ends; only its audit line and the notices remain. */
record DeleteAction(NoticeDelivery notices) implements FailingMailAction {

    @Override
    public void handle(Mail mail, Optional<RecordedVerdict> verdict) {
        AuditLine.of("delete", mail).envelope(mail).verdict(verdict).write();
        notices.send(mail, verdict, true, Optional.empty(), Optional.empty());
        mail.setState(Mail.GHOST);
    }
}
