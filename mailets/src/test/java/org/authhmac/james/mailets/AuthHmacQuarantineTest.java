package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Mail;
import org.apache.mailet.ProcessingState;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.Repositories;
import org.authhmac.james.testing.UnsavedMessage;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.testing.MutableClock;
import org.authhmac.testing.Stderr;
import org.authhmac.testing.Stderr.ThrowingRunnable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AuthHmacQuarantineTest {
    static final String REPO = "memory://var/mail/auth-hmac-quarantine/";
    static final RecordedVerdict BAD_MAC = new RecordedVerdict(AuthResult.FAIL, Reason.BAD_MAC, Optional.of("ka1"),
            Optional.of("a.example"), Optional.of(Instant.parse("2026-11-22T01:58:00Z")), "MAC does not match");

    MemoryMailRepositoryStore store;
    RecordingMetricFactory metrics;
    FakeMailContext context;
    MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:00Z"));
    /** Aliases of the test domain: list@b.example is carol here and alice at the partner. */
    LocalMailboxes mailboxes = r -> r.asString().equals("list@b.example")
            ? List.of(Mails.address("carol@b.example"))
            : r.getDomain().asString().equals("b.example") ? List.of(r) : List.of();

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
        AuthHmacQuarantine m = new AuthHmacQuarantine(store, metrics, clock, ctx -> mailboxes);
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
    void noticeTellsTheRecipientWhatWasHeldAndWhyAndThePostmasterHowToReleaseIt() throws Exception {
        FakeMail mail = failedMail();

        mailet("notifyRecipients", "true", "notifyPostmaster", "true", "webAdminUrl", "http://127.0.0.1:8001").service(mail);

        assertThat(context.getSentMails()).hasSize(2);
        FakeMailContext.SentMail toBob = sentTo("bob@b.example");
        assertThat(toBob.getState()).isEqualTo("local-delivery");
        assertThat(Mails.text(toBob.getMsg())).contains("invoice", "fail (bad-mac)", "key id ka1", "2026-11-22T01:58:00Z",
                        "ask your administrator", mail.getName())
                .doesNotContain("pay now", "curl", "mailRepositories");
        FakeMailContext.SentMail toPostmaster = sentTo("postmaster@b.example");
        assertThat(toPostmaster.getState()).isEqualTo("local-delivery");
        assertThat(Mails.text(toPostmaster.getMsg())).contains("bob[@]b[.]example",
                "curl -XPATCH 'http://127.0.0.1:8001/mailRepositories/var%2Fmail%2Fauth-hmac-quarantine",
                "?action=reprocess&processor=transport'").doesNotContain("pay now");
    }

    @Test
    void eachLocalMailboxGetsItsOwnNoticeThatNamesNoOtherRecipient() throws Exception {
        // given a held mail for bob and, Bcc (envelope only), dave
        FakeMail mail = failedMail();
        mail.setRecipients(List.of(Mails.address("bob@b.example"), Mails.address("dave@b.example")));

        mailet("notifyRecipients", "true").service(mail);

        assertThat(context.getSentMails()).hasSize(2);
        assertThat(Mails.text(sentTo("bob@b.example").getMsg())).contains("bob@b.example").doesNotContain("dave");
        assertThat(Mails.text(sentTo("dave@b.example").getMsg())).contains("dave@b.example").doesNotContain("bob");
    }

    @Test
    void aNoticeGoesToTheLocalMailboxesAnAliasResolvesToAndNeverOutOfTheDomain() throws Exception {
        // given a held mail for a list whose members are carol here and, through the alias, someone elsewhere
        FakeMail mail = failedMail();
        mail.setRecipients(List.of(Mails.address("list@b.example"), Mails.address("someone@c.example")));

        mailet("notifyRecipients", "true").service(mail);

        assertThat(context.getSentMails()).singleElement().satisfies(sent -> {
            assertThat(sent.getRecipients()).containsExactly(Mails.address("carol@b.example"));
            assertThat(sent.getState()).isEqualTo("local-delivery");
        });
    }

    /**
     * The postmaster's notice names every recipient (Bcc included) and carries the WebAdmin release command. Sent into
     * {@code root}, it followed James's RecipientRewriteTable: a postmaster forwarded to an outside mailbox got it there.
     */
    @Test
    void thePostmastersNoticeGoesOnlyToTheLocalMailboxesThePostmasterResolvesToAndNeverOutOfTheDomain() throws Exception {
        // given a postmaster address that is an alias of admin here and of a mailbox at another domain
        mailboxes = r -> r.asString().equals("postmaster@b.example") ? List.of(Mails.address("admin@b.example"))
                : r.getDomain().asString().equals("b.example") ? List.of(r) : List.of();

        mailet("notifyPostmaster", "true").service(failedMail());

        assertThat(context.getSentMails()).singleElement().satisfies(sent -> {
            assertThat(sent.getRecipients()).containsExactly(Mails.address("admin@b.example"));
            assertThat(sent.getState()).isEqualTo("local-delivery");
            assertThat(Mails.text(sent.getMsg())).contains("curl -XPATCH");
        });
    }

    @Test
    void aPostmasterWithoutLocalMailboxGetsNoNotice() throws Exception {
        // given a postmaster address that only forwards out of the domain
        mailboxes = r -> r.asString().equals("postmaster@b.example") ? List.of()
                : r.getDomain().asString().equals("b.example") ? List.of(r) : List.of();

        mailet("notifyPostmaster", "true").service(failedMail());

        assertThat(context.getSentMails()).isEmpty();
    }

    @Test
    void theSendersClaimsAreCalledUnverifiedAndCannotBeClickedInTheNotice() throws Exception {
        // given a forgery whose Subject, From and Message-ID carry a lure, a bidi override and a line break
        FakeMail mail = Mails.arrivedRaw("From: IT desk <it@a.example>\r\nTo: bob@b.example\r\n"
                        + "Subject: =?UTF-8?B?" + java.util.Base64.getEncoder().encodeToString(
                                "Log in at https://evil.example/login \u202Efdp.exe\nBcc: x".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                        + "?=\r\nMessage-ID: <x@evil.example>\r\n\r\nclick\r\n",
                "it@a.example", Instant.parse("2026-11-22T02:00:00Z"), "bob@b.example");
        BAD_MAC.writeTo(mail);

        mailet("notifyRecipients", "true").service(mail);

        String text = Mails.text(sentTo("bob@b.example").getMsg());
        assertThat(text).contains("hxxps://evil[.]example/login", "it[@]a[.]example", "<x[@]evil[.]example>", "unverified claim")
                .doesNotContain("https://", "evil.example", "it@a.example", "\u202E", "\nBcc: x");
    }

    @Test
    void noticesToOneMailboxAreLimitedPerHourAndTheNextOneCountsTheOthers() throws Exception {
        // given a mailet that sends at most two notices per mailbox per hour
        AuthHmacQuarantine m = mailet("notifyRecipients", "true", "noticesPerHour", "2");

        // when five forgeries for bob are held within the hour, and one more after it
        for (int i = 0; i < 5; i++) {
            m.service(failedMail());
        }
        clock.advance(java.time.Duration.ofMinutes(61));
        m.service(failedMail());

        // then bob got two notices, then one that tells of the three without a notice
        assertThat(context.getSentMails()).hasSize(3);
        assertThat(Mails.text(context.getSentMails().get(2).getMsg())).contains("3 more messages for you were held since 2026-11-22T02:00:00Z");
        assertThat(metrics.countFor(Metrics.NOTICES_SUPPRESSED)).isEqualTo(3);
        assertThat(store.select(MailRepositoryUrl.from(REPO)).size()).isEqualTo(6);
    }

    @Test
    void aMailJavaMailCannotWriteBackIsStillQuarantinedWithItsBytes() throws Exception {
        // given a multipart mail whose boundary never occurs, whose header block was edited (as the matcher does)
        FakeMail mail = FakeMail.builder().name("malformed").sender("ceo@a.example").recipient("bob@b.example")
                .mimeMessage(UnsavedMessage.of(UnsavedMessage.NO_BOUNDARY)).build();
        mail.getMessage().addHeader("Authentication-Results", "mx.b.example; auth-hmac=none");
        BAD_MAC.writeTo(mail);
        RefusingToSerialize repository = new RefusingToSerialize(store.select(MailRepositoryUrl.from(REPO)));

        AuthHmacQuarantine m = new AuthHmacQuarantine(new SingleRepositoryStore(repository), metrics, clock, ctx -> mailboxes);
        m.init(FakeMailetConfig.builder().mailetName("q").mailetContext(context).build());
        m.service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.GHOST);
        assertThat(repository.size()).isEqualTo(1);
        assertThat(Mails.text(repository.retrieve(repository.list().next()).getMessage()))
                .contains("Authentication-Results: mx.b.example; auth-hmac=none", "no boundary here");
    }

    @Test
    void theAuditLineIsWrittenEvenWhenTheRepositoryRefusesTheMail() throws Exception {
        FakeMail mail = failedMail();
        MailRepository broken = new RefusingToSerialize(store.select(MailRepositoryUrl.from(REPO)), true);
        AuthHmacQuarantine m = new AuthHmacQuarantine(new SingleRepositoryStore(broken), metrics, clock, ctx -> mailboxes);
        m.init(FakeMailetConfig.builder().mailetName("q").mailetContext(context).build());

        List<String> audit = auditLines(() -> assertThatThrownBy(() -> m.service(mail)).isInstanceOf(MessagingException.class));

        assertThat(audit).singleElement().asString().contains("auth-hmac quarantine", "stored=no", "reason=bad-mac",
                "recipients=bob@b.example");
        assertThat(mail.getState()).isNotEqualTo(Mail.GHOST);
    }

    @Test
    void aMailTheRepositoryRefusesGoesToTheErrorProcessorWhenOnMailetExceptionNamesTheProcessorItIsIn() throws Exception {
        // James would carry it on to the next mailet of auth-hmac-verify: delivery, unheld
        FakeMail mail = failedMail();
        mail.setState("auth-hmac-verify");
        MailRepository broken = new RefusingToSerialize(store.select(MailRepositoryUrl.from(REPO)), true);
        AuthHmacQuarantine m = new AuthHmacQuarantine(new SingleRepositoryStore(broken), metrics, clock, ctx -> mailboxes);
        m.init(FakeMailetConfig.builder().mailetName("q").mailetContext(context)
                .setProperty("onMailetException", "auth-hmac-verify").build());

        m.service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.ERROR);
    }

    FakeMailContext.SentMail sentTo(String address) {
        return context.getSentMails().stream().filter(s -> s.getRecipients().contains(Mails.address(address))).findFirst()
                .orElseThrow(() -> new AssertionError("no notice to " + address + ": " + context.getSentMails()));
    }

    static List<String> auditLines(ThrowingRunnable action) throws Exception {
        return Stderr.linesContaining("org.authhmac.audit", action);
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
                        + "?action=reprocess&processor=auth-hmac-released' -H \"Authorization: Bearer $WEBADMIN_TOKEN\"");
    }

    @Test
    void markAddsAHeaderAndASubjectTagAndSendsTheMailOnPastValidation() throws Exception {
        FakeMail mail = failedMail();

        mailet("action", "mark", "subjectTag", "[SUSPECT]").service(mail);

        assertThat(mail.getState()).isEqualTo("transport");
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC-Status")).containsExactly("fail bad-mac");
        assertThat(mail.getMessage().getSubject()).isEqualTo("[SUSPECT] invoice");
        assertThat(store.select(MailRepositoryUrl.from(REPO)).size()).isZero();
    }

    @Test
    void markRemovesTheStatusFieldsThatCameWithTheMailAndPutsTheVerdictOnTop() throws Exception {
        // given a failing mail that carries the sender's own "pass"
        FakeMail mail = Mails.arrivedRaw("X-Auth-HMAC-Status: pass\r\n" + Mails.message("alice@a.example", "bob@b.example", "invoice", "pay")
                        + "", "alice@a.example", Instant.parse("2026-11-22T02:00:00Z"), "bob@b.example");
        mail.getMessage().addHeader("X-Auth-HMAC-Status", "pass verified");
        BAD_MAC.writeTo(mail);

        mailet("action", "mark").service(mail);

        assertThat(mail.getMessage().getHeader("X-Auth-HMAC-Status")).containsExactly("fail bad-mac");
        assertThat(java.util.Collections.list(mail.getMessage().getAllHeaderLines()).get(0)).isEqualTo("X-Auth-HMAC-Status: fail bad-mac");
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
        List<String> audit = auditLines(() -> mailet().service(mail));
        assertThat(audit).singleElement().asString().doesNotContain("stored=no");
        assertThat(audit).singleElement().asString()
                .contains("auth-hmac quarantine", "mail=" + mail.getName(), "repository=memory://var/mail/auth-hmac-quarantine", "key=" + mail.getName(),
                        "sender=alice@a.example", "recipients=bob@b.example", "result=fail", "reason=bad-mac",
                        "keyId=ka1", "domain=a.example", "signedAt=2026-11-22T01:58:00Z");
    }

    @Test
    void auditValuesCannotForgeLogLines() {
        assertThat(org.authhmac.james.mailets.UntrustedText.forLog("bob@b.example\r\nauth-hmac release mail=x")).doesNotContain("\r", "\n", " ");
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

        @ParameterizedTest
        @org.junit.jupiter.params.provider.ValueSource(strings = {"bad-mac", "none", "replay", "body-changed", "duplicate-header",
                "no-signature", "expired,bad-mac"})
        void aSelfReleaseReasonThatMayMeanAForgeryIsNamed(String value) {
            assertThatThrownBy(() -> mailet("selfRelease", value))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'selfRelease'");
        }

        @ParameterizedTest
        @org.junit.jupiter.params.provider.ValueSource(strings = {"9s", "0", "2678401s", "32d", "seven days"})
        void aSelfReleaseValidityOutsideTenSecondsToThirtyOneDaysIsNamed(String value) {
            assertThatThrownBy(() -> mailet("selfReleaseValidity", value))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'selfReleaseValidity'");
        }

        @ParameterizedTest
        @org.junit.jupiter.params.provider.ValueSource(strings = {"10s", "31d", "2678400s", "7d"})
        void aSelfReleaseValidityFromTenSecondsToThirtyOneDaysIsAccepted(String value) throws Exception {
            mailet("selfReleaseValidity", value);
        }

        @ParameterizedTest
        @CsvSource({"onMatchException, nomatch", "onMatchException, NoMatch ", "onMailetException, ignore"})
        void aJamesErrorSettingThatWouldDeliverTheMailIsRefused(String parameter, String value) {
            assertThatThrownBy(() -> mailet(parameter, value))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'" + parameter + "'", "is refused");
        }

        @ParameterizedTest
        @CsvSource({"onMatchException, auth-hmac-verify-retry", "onMatchException, matchall", "onMailetException, auth-hmac-hold",
                "onMailetException, propagate"})
        void aJamesErrorSettingThatKeepsTheMailBackIsAccepted(String parameter, String value) throws Exception {
            mailet(parameter, value);
        }
    }

    static List<String> none() {
        return List.of();
    }

    @Test
    void declaresTheProcessorsItSendsMailToSoThatJamesRefusesToStartWhenOneIsMissing() throws Exception {
        assertThat(names(mailet().requiredProcessingState())).containsExactly("transport");
        assertThat(names(mailet("action", "mark", "releaseProcessor", "after-check", "notifyRecipients", "true",
                "noticeProcessor", "notices").requiredProcessingState())).containsExactly("after-check", "notices");
        assertThat(names(mailet("action", "delete", "notifyPostmaster", "true").requiredProcessingState()))
                .containsExactly("local-delivery");
        assertThat(mailet("action", "delete").requiredProcessingState()).isEmpty();
    }

    static List<String> names(Collection<ProcessingState> states) {
        return states.stream().map(ProcessingState::getValue).toList();
    }
}
