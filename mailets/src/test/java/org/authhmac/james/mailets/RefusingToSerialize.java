package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.io.ByteArrayOutputStream;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.mailet.Mail;
import org.authhmac.james.testing.UnsavedMessage;

/**
 * A repository that writes each mail's message out first, as James's file and memory repositories do: a message
 * JavaMail cannot write back makes it throw, as theirs do ("Missing start boundary"; see {@link UnsavedMessage}).
 * With {@code always}, it refuses every mail (a full disk).
 */
final class RefusingToSerialize extends ForwardingMailRepository {
    private final boolean always;
    private boolean decodes;

    RefusingToSerialize(MailRepository delegate) {
        this(delegate, false);
    }

    RefusingToSerialize(MailRepository delegate, boolean always) {
        super(delegate);
        this.always = always;
    }

    /** Also decodes the top-level body while writing, as James's file repository does (base64 that does not decode fails). */
    RefusingToSerialize decodingTheBody() {
        decodes = true;
        return this;
    }

    @Override
    public MailKey store(Mail mc) throws MessagingException {
        if (always) {
            throw new MessagingException("disk full");
        }
        try {
            mc.getMessage().writeTo(new ByteArrayOutputStream());
            if (decodes) {
                mc.getMessage().getInputStream().transferTo(new ByteArrayOutputStream());
            }
        } catch (java.io.IOException e) {
            throw new MessagingException("cannot write", e);
        }
        return delegate.store(mc);
    }
}
