package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.MessagingException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.james.server.core.MailImpl;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.ReleaseTokens;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.Repositories;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One mailbox's copy of a held mail: found by the token's handle, settled once. */
class HeldCopiesTest {
    static final MailAddress BOB = Mails.address("bob@b.example");
    static final MailAddress CAROL = Mails.address("carol@b.example");
    static final MailAddress LIST = Mails.address("list@b.example");
    static final MailAddress BOBS_ALIAS = Mails.address("robert@b.example");

    MailRepository repository;
    /** list@ is an alias of bob and carol, robert@ of bob; other addresses of b.example are mailboxes; the rest is remote. */
    final LocalMailboxes mailboxes = r -> r.equals(LIST) ? List.of(BOB, CAROL) : r.equals(BOBS_ALIAS) ? List.of(BOB)
            : r.getDomain().asString().equals("b.example") ? List.of(r) : List.of();
    HeldCopies held;

    @BeforeEach
    void setUp() throws Exception {
        repository = Repositories.memoryStore().select(MailRepositoryUrl.from(HeldMails.REPOSITORY));
        held = new HeldCopies(repository, mailboxes);
    }

    MailKey hold(String name, MailAddress... recipients) throws Exception {
        // what James's repositories hold and hand back: MailImpl
        MailImpl mail = MailImpl.builder().name(name).sender("alice@a.example").addRecipients(List.of(recipients))
                .mimeMessage(Mails.parse(Mails.message("alice@a.example", "bob@b.example", "contract", "text"))).build();
        return repository.store(mail);
    }

    Optional<HeldCopies.Copy> copyOf(MailKey key, MailAddress mailbox) throws MessagingException {
        return held.withCopy(ReleaseTokens.Handle.of(key.asString()), mailbox, copy -> copy);
    }

    @Test
    void findsTheHeldMailByItsHandleWithTheRecipientsThatEndInTheMailbox() throws Exception {
        hold("other", CAROL);
        MailKey key = hold("held-1", LIST, BOB, CAROL, Mails.address("dave@c.example"));

        Optional<HeldCopies.Copy> copy = copyOf(key, BOB);

        assertThat(copy).hasValueSatisfying(c -> {
            assertThat(c.key()).isEqualTo(key);
            assertThat(c.held().getName()).isEqualTo("held-1");
            assertThat(c.mailbox()).isEqualTo(BOB);
            assertThat(c.recipients()).containsExactly(LIST, BOB);
            assertThat(c.settled()).isFalse();
        });
    }

    @Test
    void aHandleOfNoHeldMailFindsNoCopy() throws Exception {
        hold("held-1", BOB);

        Optional<HeldCopies.Copy> copy = held.withCopy(ReleaseTokens.Handle.of("held-2"), BOB, c -> c);

        assertThat(copy).isEmpty();
    }

    @Test
    void aMailRemovedBetweenListingAndReadingFindsNoCopy() throws Exception {
        MailKey key = hold("held-1", BOB);
        held = new HeldCopies(new Forgetful(repository), mailboxes);

        assertThat(copyOf(key, BOB)).isEmpty();
    }

    @Test
    void aMailboxNoRecipientEndsInHasNoCopyLeftToSettle() throws Exception {
        MailKey key = hold("held-1", CAROL);

        assertThat(copyOf(key, BOB)).hasValueSatisfying(c -> {
            assertThat(c.recipients()).isEmpty();
            assertThat(c.settled()).isTrue();
        });
    }

    @Test
    void settlingRecordsTheMailboxAndRemovesTheRecipientThatIsTheMailboxInAnyCase() throws Exception {
        MailKey key = hold("held-1", BOB, Mails.address("BOB@b.example"), CAROL);

        held.withCopy(ReleaseTokens.Handle.of(key.asString()), BOB, copy -> {
            held.settle(copy.orElseThrow());
            return null;
        });

        Mail stored = repository.retrieve(key);
        assertThat(stored.getRecipients()).containsExactly(CAROL);
        assertThat(stored.getAttribute(AuthHmacAttributes.SETTLED)).hasValueSatisfying(a ->
                assertThat(a.getValue().value()).isEqualTo("bob@b.example"));
        assertThat(copyOf(key, BOB)).hasValueSatisfying(c -> assertThat(c.settled()).isTrue());
        assertThat(copyOf(key, CAROL)).hasValueSatisfying(c -> assertThat(c.settled()).isFalse());
    }

    @Test
    void settlingAddsToTheMailboxesAlreadySettledAndIgnoresEmptyEntries() throws Exception {
        MailKey key = hold("held-1", LIST, CAROL);
        Mail mail = repository.retrieve(key);
        mail.setAttribute(new Attribute(AuthHmacAttributes.SETTLED, AttributeValue.of("dave@b.example,, ,")));
        repository.store(mail);

        held.withCopy(ReleaseTokens.Handle.of(key.asString()), Mails.address("Carol@B.example"), copy -> {
            held.settle(copy.orElseThrow());
            return null;
        });

        assertThat(repository.retrieve(key).getAttribute(AuthHmacAttributes.SETTLED)).hasValueSatisfying(a ->
                assertThat(a.getValue().value()).isEqualTo("dave@b.example,carol@b.example"));
    }

    @Test
    void aSettledMailboxIsRecognisedWhateverTheCaseItAsksIn() throws Exception {
        MailKey key = hold("held-1", BOB, CAROL);
        held.withCopy(ReleaseTokens.Handle.of(key.asString()), BOB, copy -> {
            held.settle(copy.orElseThrow());
            return null;
        });

        assertThat(copyOf(key, Mails.address("Bob@B.Example"))).hasValueSatisfying(c -> assertThat(c.settled()).isTrue());
    }

    @Test
    void anAliasRecipientStaysOnTheHeldMailForTheOtherMailboxesItEndsIn() throws Exception {
        MailKey key = hold("held-1", LIST);

        held.withCopy(ReleaseTokens.Handle.of(key.asString()), BOB, copy -> {
            held.settle(copy.orElseThrow());
            return null;
        });

        assertThat(repository.retrieve(key).getRecipients()).containsExactly(LIST);
        assertThat(copyOf(key, BOB)).hasValueSatisfying(c -> assertThat(c.settled()).isTrue());
        assertThat(copyOf(key, CAROL)).hasValueSatisfying(c -> {
            assertThat(c.settled()).isFalse();
            assertThat(c.recipients()).containsExactly(LIST);
        });
    }

    @Test
    void anAliasRecipientLeavesWithTheLastOfItsMailboxesSettled() throws Exception {
        // given a mail held for bob's alias and for the list of bob and carol
        MailKey key = hold("held-1", BOBS_ALIAS, LIST, Mails.address("dave@c.example"));

        held.withCopy(ReleaseTokens.Handle.of(key.asString()), BOB, copy -> {
            held.settle(copy.orElseThrow());
            return null;
        });

        // then bob's alias is gone (an administrator's release would bring bob his settled copy again), the list
        // stays for carol, and so does the remote recipient, which no mailbox here settles
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(LIST, Mails.address("dave@c.example"));

        held.withCopy(ReleaseTokens.Handle.of(key.asString()), CAROL, copy -> {
            held.settle(copy.orElseThrow());
            return null;
        });

        assertThat(repository.retrieve(key).getRecipients()).containsExactly(Mails.address("dave@c.example"));
    }

    @Test
    void aMailHeldOnlyForAnAliasLeavesTheRepositoryOnceItsMailboxIsSettled() throws Exception {
        MailKey key = hold("held-1", BOBS_ALIAS);

        held.withCopy(ReleaseTokens.Handle.of(key.asString()), BOB, copy -> {
            held.settle(copy.orElseThrow());
            return null;
        });

        assertThat(repository.retrieve(key)).isNull();
    }

    @Test
    void theLastCopySettledTakesTheMailOutOfTheRepository() throws Exception {
        MailKey key = hold("held-1", BOB);
        MailKey other = hold("held-2", BOB);

        held.withCopy(ReleaseTokens.Handle.of(key.asString()), BOB, copy -> {
            held.settle(copy.orElseThrow());
            return null;
        });

        assertThat(repository.retrieve(key)).isNull();
        assertThat(repository.retrieve(other)).isNotNull();
        assertThat(repository.size()).isEqualTo(1);
    }

    @Test
    void theMailReadForADecisionIsDisposedAfterIt() throws Exception {
        MailKey key = hold("held-1", BOB);
        AtomicReference<Mail> read = new AtomicReference<>();

        held.withCopy(ReleaseTokens.Handle.of(key.asString()), BOB, copy -> {
            read.set(copy.orElseThrow().held());
            assertThat(read.get().getMessage()).isNotNull();
            return null;
        });

        assertThat(read.get().getMessage()).as("message released with the mail").isNull();
    }

    /** A repository that lists a mail and then no longer has it (removed by another node or an administrator). */
    static final class Forgetful extends ForwardingMailRepository {
        Forgetful(MailRepository delegate) {
            super(delegate);
        }

        @Override
        public Iterator<MailKey> list() throws MessagingException {
            List<MailKey> keys = new ArrayList<>();
            delegate.list().forEachRemaining(keys::add);
            return keys.iterator();
        }

        @Override
        public Mail retrieve(MailKey key) {
            return null;
        }
    }
}
