package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import java.util.List;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.Repositories;
import org.authhmac.james.testing.UnsavedMessage;
import org.authhmac.protocol.client.ServerVerdict;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AuthHmacHoldTest {
    static final String REPO = "memory://var/mail/auth-hmac-hold/";
    static final AttributeName VERIFY_ATTEMPTS = AttributeName.of("org.authhmac.attempts.verify");

    MemoryMailRepositoryStore store;
    RecordingMetricFactory metrics;

    @BeforeEach
    void setUp() throws Exception {
        store = Repositories.memoryStore();
        metrics = new RecordingMetricFactory();
    }

    AuthHmacHold mailet(MailRepository only) throws MessagingException {
        AuthHmacHold m = only == null ? new AuthHmacHold(store, metrics) : new AuthHmacHold(new SingleRepositoryStore(only), metrics);
        m.init(FakeMailetConfig.builder().mailetName("AuthHmacHold").mailetContext(FakeMailContext.defaultContext()).build());
        return m;
    }

    FakeMail retried() throws Exception {
        FakeMail mail = FakeMail.builder().name("retried").mimeMessage(UnsavedMessage.of(UnsavedMessage.NO_BOUNDARY))
                .sender("ceo@a.example").recipients("bob@b.example").state("auth-hmac-hold").build();
        mail.setErrorMessage("Exception calling org.authhmac.james.matchers.AuthHmacFailed: auth-hmac temperror\n\tat x.y(Z.java:1)");
        mail.setAttribute(new Attribute(VERIFY_ATTEMPTS, AttributeValue.of(240)));
        return mail;
    }

    @Test
    void holdsTheMailWithAnAuditLineAndEndsIt() throws Exception {
        FakeMail mail = retried();

        List<String> audit = AuthHmacQuarantineTest.auditLines(() -> mailet(null).service(mail));

        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        assertThat(store.select(MailRepositoryUrl.from(REPO)).size()).isEqualTo(1);
        assertThat(audit).singleElement().asString().contains("auth-hmac hold", "mail=retried", "key=retried",
                "sender=ceo@a.example", "recipients=bob@b.example", "messageId=<m@a.example>", "attempts=verify:240",
                "error=Exception_calling_org.authhmac.james.matchers.AuthHmacFailed:_auth-hmac_temperror").doesNotContain("Z.java");
        assertThat(metrics.countFor(Metrics.HOLD)).isEqualTo(1);
    }

    @Test
    void clearsTheAttemptCountersSoThatAReleasedMailGetsEveryAttemptAgain() throws Exception {
        mailet(null).service(retried());

        MailRepository repo = store.select(MailRepositoryUrl.from(REPO));
        assertThat(repo.retrieve(repo.list().next()).getAttribute(VERIFY_ATTEMPTS)).isEmpty();
    }

    @Test
    void marksTheHeldMailSoThatOnceReleasedItsMailboxSignaturesSayReleased() throws Exception {
        mailet(null).service(retried());

        MailRepository repo = store.select(MailRepositoryUrl.from(REPO));
        Mail released = repo.retrieve(repo.list().next());
        assertThat(released.getAttribute(AuthHmacAttributes.HELD)).hasValueSatisfying(a ->
                assertThat(a.getValue().value()).isEqualTo(MailRepositoryUrl.from(REPO).asString()));
        assertThat(DeliveryVerdict.of(released, Mails.address("bob@b.example")).verdict()).isEqualTo(ServerVerdict.RELEASED);
    }

    @Test
    void holdsAMessageJavaMailCannotWriteBack() throws Exception {
        FakeMail mail = retried();
        mail.getMessage().addHeader("Authentication-Results", "mx.b.example; auth-hmac=none");
        RefusingToSerialize repo = new RefusingToSerialize(store.select(MailRepositoryUrl.from(REPO)));

        mailet(repo).service(mail);

        assertThat(repo.size()).isEqualTo(1);
        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
    }

    @Test
    void holdsAMessageWhoseTopLevelEncodingDoesNotDecodeWithItsBytesAndItsEncodingKeptAside() throws Exception {
        // given a mail whose body claims base64 but is not, and a repository that decodes bodies (as James's file one)
        FakeMail mail = FakeMail.builder().name("bad-base64").mimeMessage(UnsavedMessage.of("From: ceo@a.example\r\n"
                        + "Message-ID: <b@a.example>\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8*&^%\r\nQQ\r\n"))
                .sender("ceo@a.example").recipients("bob@b.example").state("auth-hmac-hold").build();
        mail.getMessage().addHeader("Authentication-Results", "mx.b.example; auth-hmac=none");
        RefusingToSerialize repo = new RefusingToSerialize(store.select(MailRepositoryUrl.from(REPO))).decodingTheBody();

        List<String> audit = AuthHmacQuarantineTest.auditLines(() -> mailet(repo).service(mail));

        assertThat(repo.size()).isEqualTo(1);
        String held = org.authhmac.james.testing.Mails.text(repo.retrieve(repo.list().next()).getMessage());
        assertThat(held).contains("SGVsbG8*&^%", "X-Auth-HMAC-Original-Content-Transfer-Encoding: base64",
                "Content-Transfer-Encoding: binary");
        assertThat(audit).singleElement().asString().contains("stored=undecoded");
    }

    @Test
    void writesTheAuditLineAndThrowsWhenTheRepositoryRefusesTheMail() throws Exception {
        FakeMail mail = retried();
        AuthHmacHold m = mailet(new RefusingToSerialize(store.select(MailRepositoryUrl.from(REPO)), true));

        List<String> audit = AuthHmacQuarantineTest.auditLines(() ->
                assertThatThrownBy(() -> m.service(mail)).isInstanceOf(MessagingException.class));

        assertThat(audit).singleElement().asString().contains("auth-hmac hold", "stored=no", "storeError=");
        assertThat(mail.getState()).isNotEqualTo(Mail.GHOST);
        assertThat(metrics.countFor(Metrics.HOLD_FAILED)).isEqualTo(1);
    }

    @Test
    void refusesAnUnknownParameterAtStartUp() {
        AuthHmacHold m = new AuthHmacHold(store, metrics);
        assertThatThrownBy(() -> m.init(FakeMailetConfig.builder().mailetName("AuthHmacHold")
                .setProperty("repository", REPO).build())).hasMessageContaining("repository");
    }
}
