package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.Repositories;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class AuthHmacQuarantineTest {
    static final String REPO = "memory://var/mail/auth-hmac-quarantine/";
    static final RecordedVerdict BAD_MAC = new RecordedVerdict(AuthResult.FAIL, Reason.BAD_MAC, Optional.of("ka1"),
            Optional.of("a.example"), Optional.of(Instant.parse("2026-11-22T01:58:00Z")), "MAC does not match");

    MemoryMailRepositoryStore store;
    RecordingMetricFactory metrics;
    FakeMailContext context;

    @BeforeEach
    void setUp() throws Exception {
        store = Repositories.memoryStore();
        metrics = new RecordingMetricFactory();
        context = FakeMailContext.builder().postmaster(Mails.address("postmaster@b.example")).build();
    }

    AuthHmacQuarantine mailet(String... params) throws MessagingException {
        FakeMailetConfig.Builder config = FakeMailetConfig.builder().mailetName("AuthHmacQuarantine").mailetContext(context);
        for (int i = 0; i < params.length; i += 2) {
            config.setProperty(params[i], params[i + 1]);
        }
        AuthHmacQuarantine m = new AuthHmacQuarantine(store, metrics);
        m.init(config.build());
        return m;
    }

    FakeMail failedMail() throws Exception {
        FakeMail mail = Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "invoice", "pay now"),
                "alice@a.example", Instant.parse("2026-11-22T02:00:00Z"), "bob@b.example");
        BAD_MAC.writeTo(mail);
        return mail;
    }

    @Test
    void quarantineStoresTheMailWithItsVerdictAndEndsItsProcessing() throws Exception {
        FakeMail mail = failedMail();

        mailet().service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        MailRepository repo = store.select(MailRepositoryUrl.from(REPO));
        assertThat(repo.size()).isEqualTo(1);
        Mail held = repo.retrieve(repo.list().next());
        assertThat(RecordedVerdict.readFrom(held)).hasValueSatisfying(v -> {
            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.BAD_MAC);
            assertThat(v.keyId()).contains("ka1");
            assertThat(v.signingTime()).contains(Instant.parse("2026-11-22T01:58:00Z"));
        });
        assertThat(held.getRecipients()).containsExactly(Mails.address("bob@b.example"));
        assertThat(metrics.countFor(Metrics.HELD + "quarantine")).isEqualTo(1);
    }

    @Test
    void quarantineUsesTheConfiguredRepository() throws Exception {
        mailet("repositoryPath", "memory://var/mail/partner-held/").service(failedMail());

        assertThat(store.select(MailRepositoryUrl.from("memory://var/mail/partner-held/")).size()).isEqualTo(1);
        assertThat(store.select(MailRepositoryUrl.from(REPO)).size()).isZero();
    }

    @Test
    void noticeTellsRecipientAndPostmasterWhatWasHeldWhyAndHowToReleaseIt() throws Exception {
        FakeMail mail = failedMail();

        mailet("notifyRecipients", "true", "notifyPostmaster", "true", "webAdminUrl", "http://127.0.0.1:8001").service(mail);

        assertThat(context.getSentMails()).singleElement().satisfies(sent -> {
            assertThat(sent.getRecipients()).containsExactlyInAnyOrder(Mails.address("bob@b.example"), Mails.address("postmaster@b.example"));
            String text = Mails.text(sent.getMsg());
            assertThat(text).contains("invoice", "fail (bad-mac)", "key id ka1", "2026-11-22T01:58:00Z",
                    "curl -XPATCH 'http://127.0.0.1:8001/mailRepositories/var%2Fmail%2Fauth-hmac-quarantine",
                    "?action=reprocess&processor=transport'");
            assertThat(text).doesNotContain("pay now");
        });
    }

    @Test
    void aReplayIsNotNoticedToTheRecipientWhoAlreadyHasTheMailButToThePostmaster() throws Exception {
        FakeMail mail = failedMail();
        new RecordedVerdict(AuthResult.FAIL, Reason.REPLAY, Optional.of("ka1"), Optional.of("a.example"),
                Optional.of(Instant.parse("2026-11-22T01:58:00Z")), "seen before").writeTo(mail);

        mailet("notifyRecipients", "true", "notifyPostmaster", "true").service(mail);

        assertThat(context.getSentMails()).singleElement().satisfies(sent ->
                assertThat(sent.getRecipients()).containsExactly(Mails.address("postmaster@b.example")));
    }

    @Test
    void aReplayIsNoticedToTheRecipientWhenAsked() throws Exception {
        FakeMail mail = failedMail();
        new RecordedVerdict(AuthResult.FAIL, Reason.REPLAY, Optional.empty(), Optional.empty(), Optional.empty(), "seen before")
                .writeTo(mail);

        mailet("notifyRecipients", "true", "notifyRecipientsOfReplay", "true").service(mail);

        assertThat(context.getSentMails()).singleElement().satisfies(sent ->
                assertThat(sent.getRecipients()).containsExactly(Mails.address("bob@b.example")));
    }

    @Test
    void noNoticeUnlessAsked() throws Exception {
        mailet().service(failedMail());

        assertThat(context.getSentMails()).isEmpty();
    }

    @Test
    void releaseCommandNamesTheStoredMailAndTheReleaseProcessor() throws Exception {
        AuthHmacQuarantine m = mailet("releaseProcessor", "auth-hmac-released");

        assertThat(m.releaseCommand(new MailKey("mail 1")))
                .isEqualTo("curl -XPATCH 'http://127.0.0.1:8000/mailRepositories/var%2Fmail%2Fauth-hmac-quarantine/mails/mail%201"
                        + "?action=reprocess&processor=auth-hmac-released'");
    }

    @Test
    void markAddsAHeaderAndASubjectTagAndLetsTheMailGoOn() throws Exception {
        FakeMail mail = failedMail();

        mailet("action", "mark", "subjectTag", "[SUSPECT]").service(mail);

        assertThat(mail.getState()).isEqualTo("auth-hmac-verify");
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC-Status")).containsExactly("fail bad-mac");
        assertThat(mail.getMessage().getSubject()).isEqualTo("[SUSPECT] invoice");
        assertThat(store.select(MailRepositoryUrl.from(REPO)).size()).isZero();
    }

    @Test
    void markDoesNotTagTwice() throws Exception {
        FakeMail mail = failedMail();
        AuthHmacQuarantine m = mailet("action", "mark");

        m.service(mail);
        m.service(mail);

        assertThat(mail.getMessage().getSubject()).isEqualTo("[AUTH-HMAC FAILED] invoice");
    }

    @Test
    void deleteEndsTheMailWithoutKeepingIt() throws Exception {
        FakeMail mail = failedMail();

        mailet("action", "delete").service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        assertThat(store.select(MailRepositoryUrl.from(REPO)).size()).isZero();
        assertThat(metrics.countFor(Metrics.HELD + "delete")).isEqualTo(1);
    }

    @Test
    void writesOneAuditLineWithIdSenderRecipientsReasonKeyAndSigningTime() throws Exception {
        FakeMail mail = failedMail();
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.err;
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            mailet().service(mail);
        } finally {
            System.setErr(original);
        }

        List<String> audit = captured.toString(java.nio.charset.StandardCharsets.UTF_8).lines()
                .filter(l -> l.contains("org.authhmac.audit")).toList();
        assertThat(audit).singleElement().asString()
                .contains("auth-hmac quarantine", "mail=" + mail.getName(), "repository=memory://var/mail/auth-hmac-quarantine", "key=" + mail.getName(),
                        "sender=alice@a.example", "recipients=bob@b.example", "result=fail", "reason=bad-mac",
                        "keyId=ka1", "domain=a.example", "signedAt=2026-11-22T01:58:00Z");
    }

    @Test
    void auditValuesCannotForgeLogLines() {
        assertThat(AuthHmacQuarantine.clean("bob@b.example\r\nauth-hmac release mail=x")).doesNotContain("\r", "\n", " ");
    }

    @Test
    void aMailWithoutVerdictIsStillHeldAsUnverified() throws Exception {
        FakeMail mail = Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "x", "y"),
                "alice@a.example", Instant.parse("2026-11-22T02:00:00Z"), "bob@b.example");

        mailet().service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        assertThat(store.select(MailRepositoryUrl.from(REPO)).size()).isEqualTo(1);
        assertThat(mail.getAttribute(AuthHmacAttributes.RESULT)).isEmpty();
    }

    @Nested
    class BadConfiguration {
        @Test
        void unknownActionIsNamed() {
            assertThatThrownBy(() -> mailet("action", "burn"))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'action'").hasMessageContaining("burn");
        }

        @Test
        void unusableRepositoryIsNamed() {
            assertThatThrownBy(() -> mailet("repositoryPath", "cassandra://var/mail/q/"))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'repositoryPath'");
        }

        @Test
        void misspelledBooleanIsNamed() {
            assertThatThrownBy(() -> mailet("notifyRecipients", "maybe"))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'notifyRecipients'");
        }

        @Test
        void unknownParameterIsNamed() {
            assertThatThrownBy(() -> mailet("repository", REPO))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("repository");
        }
    }

    static List<String> none() {
        return List.of();
    }
}
