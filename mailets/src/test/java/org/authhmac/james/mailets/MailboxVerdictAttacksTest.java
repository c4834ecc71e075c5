package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.MessagingException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.Repositories;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.client.MailboxVerdict;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What bob's client shows for mail his server did not pass but delivered anyway, signed for his mailbox: a released
 * forgery, and the server's own notice about a held one. The mailets run as the shipped configuration chains them
 * (AuthHmacQuarantine, then the release or the notice, then SignForMailbox), and bob's client is the real
 * MailboxVerifier.
 */
class MailboxVerdictAttacksTest {
    static final Instant NOW = Instant.parse("2026-11-22T02:00:00Z");
    static final RecordedVerdict BAD_MAC = new RecordedVerdict(AuthResult.FAIL, Reason.BAD_MAC, Optional.of("ka1"),
            Optional.of("a.example"), Optional.of(NOW.minusSeconds(120)), "MAC does not match");

    InMemoryKeyVault vault;
    MemoryMailRepositoryStore store;
    FakeMailContext context;
    SignForMailbox signForMailbox;

    @BeforeEach
    void setUp() throws Exception {
        vault = new InMemoryKeyVault().add("mbx-bob", "user:bob@b.example", KeyStatus.PRIMARY, InMemoryKeyVault.primary("bob"));
        store = Repositories.memoryStore();
        context = FakeMailContext.builder().postmaster(Mails.address("postmaster@b.example")).build();
        signForMailbox = new SignForMailbox(vault, new RecordingMetricFactory(), Clock.fixed(NOW, ZoneOffset.UTC));
        signForMailbox.init(FakeMailetConfig.builder().mailetName("SignForMailbox").mailetContext(context).build());
    }

    AuthHmacQuarantine quarantine() throws MessagingException {
        AuthHmacQuarantine m = new AuthHmacQuarantine(store, new RecordingMetricFactory(), Clock.fixed(NOW, ZoneOffset.UTC),
                ctx -> r -> r.getDomain().asString().equals("b.example") ? List.of(r) : List.of());
        m.init(FakeMailetConfig.builder().mailetName("AuthHmacQuarantine").mailetContext(context)
                .setProperty("notifyRecipients", "true").build());
        return m;
    }

    /** A forgery claiming a.example, failed by the matcher for bob (verdict attributes as AuthHmacFailed writes them). */
    FakeMail forgery() throws Exception {
        FakeMail mail = Mails.arrivedRaw(Mails.message("ceo@a.example", "bob@b.example", "new bank details", "Pay to IBAN X."),
                "ceo@a.example", NOW, "bob@b.example");
        BAD_MAC.writeTo(mail);
        mail.setAttribute(new org.apache.mailet.Attribute(AuthHmacAttributes.RECIPIENT_VERDICTS,
                org.apache.mailet.AttributeValue.of(java.util.Map.of("bob@b.example",
                        org.apache.mailet.AttributeValue.of(BAD_MAC.encode())))));
        return mail;
    }

    MailboxVerdict bobsClient(Mail delivered) throws Exception {
        return SignForMailboxTest.client("bob@b.example", "mbx-bob")
                .verify(SignForMailboxTest.storedCopy(delivered, "bob@b.example"), NOW);
    }

    @Test
    void aForgeryAnAdministratorReleasedFromTheQuarantineIsNotShownAsPass() throws Exception {
        // given a forgery for bob held in the quarantine
        quarantine().service(forgery());
        MailRepository repo = store.select(MailRepositoryUrl.from(AuthHmacQuarantine.DEFAULT_REPOSITORY));

        // when the administrator releases it (WebAdmin reprocess to transport) and it is delivered to bob
        Mail released = repo.retrieve(repo.list().next());
        released.setState("transport");
        signForMailbox.service(released);

        // then bob's client shows it as released, not as a mail the server passed
        MailboxVerdict v = bobsClient(released);
        assertThat(v.signature().result()).as("delivered intact by bob's server").isEqualTo(AuthResult.PASS);
        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.RELEASED);
        assertThat(v.partnerVerified()).isFalse();
    }

    @Test
    void theServersNoticeAboutAHeldForgeryIsNotShownAsPass() throws Exception {
        // given a forgery for bob held in the quarantine, and the notice the server sends bob about it
        quarantine().service(forgery());
        FakeMailContext.SentMail sent = context.getSentMails().get(0);
        FakeMail notice = FakeMail.builder().name("notice").sender(sent.getSender()).recipients(List.copyOf(sent.getRecipients()))
                .mimeMessage(sent.getMsg()).attributes(sent.getAttributes().values()).state(sent.getState()).build();

        // when it is delivered to bob
        signForMailbox.service(notice);

        // then bob's client shows it as his server's notice, not as a partner's mail the server passed
        assertThat(sent.getAttributes()).containsKey(AuthHmacAttributes.NOTICE);
        MailboxVerdict v = bobsClient(notice);
        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.SERVER_NOTICE);
        assertThat(v.partnerVerified()).isFalse();
    }
}
