package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.util.Collection;
import java.util.Iterator;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.mailet.Mail;

/**
 * A repository that hands every call to {@code delegate}: the tests' broken repositories extend it and override the
 * one call that breaks.
 */
abstract class ForwardingMailRepository implements MailRepository {
    final MailRepository delegate;

    ForwardingMailRepository(MailRepository delegate) {
        this.delegate = delegate;
    }

    @Override
    public MailKey store(Mail mail) throws MessagingException {
        return delegate.store(mail);
    }

    @Override
    public long size() throws MessagingException {
        return delegate.size();
    }

    @Override
    public Iterator<MailKey> list() throws MessagingException {
        return delegate.list();
    }

    @Override
    public Mail retrieve(MailKey key) throws MessagingException {
        return delegate.retrieve(key);
    }

    @Override
    public void remove(MailKey key) throws MessagingException {
        delegate.remove(key);
    }

    @Override
    public void remove(Collection<MailKey> keys) throws MessagingException {
        delegate.remove(keys);
    }

    @Override
    public void removeAll() throws MessagingException {
        delegate.removeAll();
    }
}
