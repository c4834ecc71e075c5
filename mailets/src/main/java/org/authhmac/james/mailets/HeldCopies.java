package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.ReleaseTokens;

/**
 * One mailbox's copy of a held mail, as release by reply sees it. A held mail keeps every recipient it was held for;
 * a copy is settled (released or discarded) for one local mailbox at a time: the mailbox is recorded on the held mail
 * ({@link AuthHmacAttributes#SETTLED}), a recipient is removed once every mailbox it ends in is settled, and the held
 * mail leaves the repository once no recipient is left. Settling one held mail is serialized in this JVM, so that one
 * address used twice at once releases once.
 */
final class HeldCopies {
    private static final Object[] LOCKS = new Object[64];

    static {
        Arrays.setAll(LOCKS, i -> new Object());
    }

    private final MailRepository repository;
    private final LocalMailboxes localMailboxes;

    HeldCopies(MailRepository repository, LocalMailboxes localMailboxes) {
        this.repository = repository;
        this.localMailboxes = localMailboxes;
    }

    /** A held mail and the recipients of it that end in one mailbox. */
    record Copy(MailKey key, Mail held, MailAddress mailbox, List<MailAddress> recipients, boolean settled) {
    }

    /** What to do with a copy once it is found, under the held mail's lock; empty to leave it as it is. */
    @FunctionalInterface
    interface Decision<T> {
        T decide(Optional<Copy> copy) throws MessagingException;
    }

    /**
     * Finds the held mail the handle refers to and the mailbox's copy of it, and lets {@code decision} act on it under
     * the held mail's lock. {@link Copy#settled} says the mailbox's copy was already released or discarded.
     */
    <T> T withCopy(ReleaseTokens.Handle handle, MailAddress mailbox, Decision<T> decision) throws MessagingException {
        Optional<MailKey> key = find(handle);
        if (key.isEmpty()) {
            return decision.decide(Optional.empty());
        }
        synchronized (LOCKS[Math.floorMod(key.get().asString().hashCode(), LOCKS.length)]) {
            Mail held = repository.retrieve(key.get());
            if (held == null) {
                return decision.decide(Optional.empty());
            }
            try {
                List<MailAddress> mine = new ArrayList<>();
                for (MailAddress r : held.getRecipients()) {
                    if (localMailboxes.of(r).contains(mailbox)) {
                        mine.add(r);
                    }
                }
                boolean settled = settled(held).contains(lower(mailbox)) || mine.isEmpty();
                return decision.decide(Optional.of(new Copy(key.get(), held, mailbox, List.copyOf(mine), settled)));
            } finally {
                if (held instanceof org.apache.james.lifecycle.api.Disposable d) {
                    d.dispose();
                }
            }
        }
    }

    /** Records the copy as settled: call from within {@link #withCopy}'s decision. */
    void settle(Copy copy) throws MessagingException {
        Mail held = copy.held();
        Set<String> settled = settled(held);
        settled.add(lower(copy.mailbox()));
        // A recipient goes once every mailbox it ends in is settled: an alias for bob and carol stays for carol,
        // and bob's own address that also forwards to carol stays too.
        List<MailAddress> left = new ArrayList<>();
        for (MailAddress r : held.getRecipients()) {
            List<MailAddress> mailboxes = localMailboxes.of(r);
            if (mailboxes.isEmpty() || !mailboxes.stream().allMatch(m -> settled.contains(lower(m)))) {
                left.add(r);
            }
        }
        if (left.isEmpty()) {
            repository.remove(copy.key());
            return;
        }
        held.setRecipients(left);
        held.setAttribute(new Attribute(AuthHmacAttributes.SETTLED, AttributeValue.of(String.join(",", settled))));
        repository.store(held);
    }

    private Optional<MailKey> find(ReleaseTokens.Handle handle) throws MessagingException {
        for (Iterator<MailKey> keys = repository.list(); keys.hasNext(); ) {
            MailKey key = keys.next();
            if (handle.refersTo(key.asString())) {
                return Optional.of(key);
            }
        }
        return Optional.empty();
    }

    private static Set<String> settled(Mail held) {
        Set<String> out = new LinkedHashSet<>();
        held.getAttribute(AuthHmacAttributes.SETTLED).flatMap(a -> a.getValue().valueAs(String.class))
                .ifPresent(v -> Arrays.stream(v.split(",")).filter(s -> !s.isBlank()).forEach(out::add));
        return out;
    }

    private static String lower(MailAddress mailbox) {
        return mailbox.asString().toLowerCase(Locale.ROOT);
    }
}
