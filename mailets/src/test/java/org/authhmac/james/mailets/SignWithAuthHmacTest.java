package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.ParseException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.james.testing.UnsavedMessage;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.testing.Stderr;
import org.authhmac.testing.Stderr.ThrowingRunnable;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SignWithAuthHmacTest {
    static final Instant NOW = Instant.parse("2026-11-22T02:00:00Z");
    static final PartnerPolicies PARTNERS = TestPartners.of("partner.b.example.keyset=partner-b", "partner.c.example.keyset=partner-c");

    InMemoryKeyVault vault;
    RecordingMetricFactory metrics;
    SignWithAuthHmac mailet;

    @BeforeEach
    void setUp() throws MessagingException {
        vault = new InMemoryKeyVault()
                .add("kb0", "partner-b", KeyStatus.ACTIVE, InMemoryKeyVault.primary("b-old"))
                .add("kb1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("b-new"))
                .add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));
        metrics = new RecordingMetricFactory();
        mailet = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        mailet.init(config().build());
    }

    static FakeMailetConfig.Builder config() {
        return FakeMailetConfig.builder().mailetName("SignWithAuthHmac")
                .mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example");
    }

    String[] signatures(Mail mail) throws MessagingException {
        String[] h = mail.getMessage().getHeader("X-Auth-HMAC");
        return h == null ? new String[0] : h;
    }

    Verdict verify(Mail mail, String recipient) throws Exception {
        return verify(mail.getMessage(), VerifierSettings.defaults(), recipient);
    }

    Verdict verify(MimeMessage message, VerifierSettings settings, String recipient) throws Exception {
        Verifier verifier = new Verifier(settings, vault, new InMemoryReplayCache(100, Clock.fixed(NOW, ZoneOffset.UTC)));
        return verifier.verify(new ByteArrayInputStream(Mails.bytes(message)), NOW.plusSeconds(5), recipient);
    }

    @Test
    void signsMailForAPartnerDomainWithTheKeysetsPrimaryKey() throws Exception {
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi Bob"),
                "alice@a.example", "bob@b.example");

        mailet.service(mail);

        assertThat(signatures(mail)).singleElement().asString()
                .contains("d=a.example", "s=kb1", "r=b.example", "t=" + NOW.getEpochSecond());
        assertThat(verify(mail, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
        assertThat(metrics.countFor(Metrics.SIGNED)).isEqualTo(1);
        assertThat(metrics.executionTimesFor(Metrics.SIGN_TIMER)).hasSize(1);
        assertThat(metrics.countFor(Metrics.SIGN_PARTNER + "b.example.key.kb1")).as("signatures per partner and key id").isEqualTo(1);
    }

    @Test
    void signsTheMailForEachPartnerWithThatPartnersPeriodLength() throws Exception {
        // given two partners that agreed on different period lengths, and one mail for both
        PartnerPolicies twoPeriods = TestPartners.of("partner.b.example.keyset=partner-b", "partner.b.example.periodSeconds=600",
                "partner.c.example.keyset=partner-c", "partner.c.example.periodSeconds=3600");
        FakeMailContext context = FakeMailContext.defaultContext();
        SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), twoPeriods);
        m.init(config().mailetContext(context).build());
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example", "carol@c.example");

        m.service(mail);

        // then it is split in two copies, each signed with the period of the partner it goes to
        Map<String, MimeMessage> copies = new HashMap<>();
        for (MailAddress r : mail.getRecipients()) {
            copies.put(r.asString(), mail.getMessage());
        }
        for (FakeMailContext.SentMail sent : context.getSentMails()) {
            sent.getRecipients().forEach(r -> copies.put(r.asString(), sent.getMsg()));
        }
        assertThat(copies).containsOnlyKeys("bob@b.example", "carol@c.example");
        assertThat(copies.get("bob@b.example").getHeader("X-Auth-HMAC")).singleElement().asString().contains("r=b.example", "p=600;");
        assertThat(copies.get("carol@c.example").getHeader("X-Auth-HMAC")).singleElement().asString().contains("r=c.example", "p=3600;");
        assertThat(verify(copies.get("bob@b.example"), VerifierSettings.defaults().withPeriodSeconds(600), "bob@b.example").result())
                .isEqualTo(AuthResult.PASS);
        assertThat(verify(copies.get("carol@c.example"), VerifierSettings.defaults().withPeriodSeconds(3600), "carol@c.example").result())
                .isEqualTo(AuthResult.PASS);
    }

    @Test
    void signsUnderTheHeaderNameOfThePartnerFile() throws Exception {
        SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC),
                TestPartners.of("partner.b.example.keyset=partner-b", "headerName=X-Partner-Sig"));
        m.init(config().build());
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");

        m.service(mail);

        assertThat(mail.getMessage().getHeader("X-Partner-Sig")).singleElement().asString().contains("r=b.example");
        assertThat(signatures(mail)).isEmpty();
        assertThat(verify(mail.getMessage(), VerifierSettings.defaults().withHeaderName("X-Partner-Sig"), "bob@b.example").result())
                .isEqualTo(AuthResult.PASS);
    }

    @Test
    void putsTheSignatureOnTopOfTheHeader() throws Exception {
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");

        mailet.service(mail);

        assertThat(Mails.text(mail.getMessage())).startsWith("X-Auth-HMAC: v=1;");
    }

    @Test
    void sendsAMailWithMoreRecipientsInOneDomainThanRcCanCountToTheErrorProcessor() throws Exception {
        String[] recipients = new String[10_001];
        for (int i = 0; i < recipients.length; i++) {
            recipients[i] = "user" + i + "@b.example";
        }
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"), "alice@a.example", recipients);

        mailet.service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.ERROR);
        assertThat(signatures(mail)).isEmpty();
        assertThat(mail.getErrorMessage()).contains("recipientCount");
    }

    @Test
    void leavesMailWithoutPartnerRecipientUntouched() throws Exception {
        String raw = Mails.message("alice@a.example", "eve@elsewhere.example", "hello", "hi");
        FakeMail mail = Mails.outbound(raw, "alice@a.example", "eve@elsewhere.example");

        mailet.service(mail);

        assertThat(signatures(mail)).isEmpty();
        assertThat(Mails.text(mail.getMessage())).isEqualTo(raw);
        assertThat(metrics.countFor(Metrics.SIGN_SKIPPED)).isEqualTo(1);
    }

    @Test
    void recognisesPartnerDomainsCaseInsensitively() throws Exception {
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@B.Example", "hello", "hi"),
                "alice@a.example", "bob@B.EXAMPLE");

        mailet.service(mail);

        assertThat(signatures(mail)).singleElement().asString().contains("r=b.example");
    }

    @Test
    void removesAnEarlierHeaderThatUsesOneOfOurKeyIds() throws Exception {
        String forged = "X-Auth-HMAC: v=1; a=hmac-sha256; d=a.example; s=kb1; t=1; p=900; r=b.example; n=AAAAAAAAAAAAAAAAAAAAAA; h=from; bh=x; b=forged\r\n";
        String foreign = "X-Auth-HMAC: v=1; a=hmac-sha256; d=z.example; s=zz9; t=1; p=900; r=a.example; n=BBBBBBBBBBBBBBBBBBBBBB; h=from; bh=y; b=theirs\r\n";
        FakeMail mail = Mails.outbound(forged + foreign + Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");

        mailet.service(mail);

        assertThat(signatures(mail)).hasSize(2).noneMatch(h -> h.contains("b=forged")).anyMatch(h -> h.contains("b=theirs"));
        assertThat(verify(mail, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
        assertThat(metrics.countFor(Metrics.SIGN_STRIPPED)).isEqualTo(1);
    }

    @Test
    void throwsAndLeavesTheMailUnsignedWhenTheVaultIsDown() throws Exception {
        String raw = Mails.message("alice@a.example", "bob@b.example", "hello", "hi");
        FakeMail mail = Mails.outbound(raw, "alice@a.example", "bob@b.example");
        vault.goDown();

        assertThatThrownBy(() -> mailet.service(mail))
                .isInstanceOf(MessagingException.class)
                .hasMessageContaining("key vault unavailable");

        assertThat(signatures(mail)).isEmpty();
        assertThat(mail.getState()).isEqualTo("relay");
        assertThat(mail.getRecipients()).hasSize(1);
        assertThat(metrics.countFor(Metrics.SIGN_KEY_UNAVAILABLE)).isEqualTo(1);
    }

    @Test
    void signsTheSameMailOnceTheVaultIsBack() throws Exception {
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");
        vault.goDown();
        assertThatThrownBy(() -> mailet.service(mail)).isInstanceOf(MessagingException.class);

        vault.comeBack();
        mailet.service(mail);

        assertThat(signatures(mail)).hasSize(1);
        assertThat(verify(mail, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void aMailForAKeysetWithoutPrimaryWaitsInTheOnMailetExceptionProcessorWithoutThrowing() throws Exception {
        // given a partner file that names a keyset the vault does not hold (partner-b is missing)
        InMemoryKeyVault noB = new InMemoryKeyVault().add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));
        SignWithAuthHmac m = new SignWithAuthHmac(noB, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        m.init(config().setProperty("onMailetException", "auth-hmac-sign-retry").build());
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");

        m.service(mail);

        assertThat(mail.getState()).isEqualTo("auth-hmac-sign-retry");
        assertThat(mail.getErrorMessage()).contains("keyset 'partner-b'");
        assertThat(signatures(mail)).isEmpty();
        assertThat(metrics.countFor(Metrics.SIGN_KEY_UNAVAILABLE)).isEqualTo(1);
    }

    @Test
    void aKeysetWithoutPrimaryIsLoggedOnceWithTheCommandThatProvisionsItNotForEveryMailAndRetry() throws Exception {
        InMemoryKeyVault noB = new InMemoryKeyVault().add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));
        SignWithAuthHmac m = new SignWithAuthHmac(noB, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        m.init(config().setProperty("onMailetException", "auth-hmac-sign-retry").build());

        List<String> errors = errorLines(() -> {
            for (int attempt = 0; attempt < 5; attempt++) {
                m.service(Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                        "alice@a.example", "bob@b.example"));
            }
        });

        assertThat(errors).singleElement().asString()
                .contains("keyset 'partner-b' has no primary key", "partner b.example",
                        "auth-hmac -c <James root>/conf/auth-hmac.properties keys generate --keyset partner-b",
                        "partner.b.example.keyset in conf/auth-hmac-partners.properties", "auth-hmac-sign-retry");
    }

    @Test
    void theWaitingMailIsSignedOnceThePrimaryIsImportedWhileJamesRuns() throws Exception {
        InMemoryKeyVault noB = new InMemoryKeyVault().add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));
        SignWithAuthHmac m = new SignWithAuthHmac(noB, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        m.init(config().setProperty("onMailetException", "auth-hmac-sign-retry").build());
        FakeMail first = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"), "alice@a.example", "bob@b.example");
        List<String> before = errorLines(() -> m.service(first));

        noB.add("kb1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("b-new"));
        FakeMail retried = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"), "alice@a.example", "bob@b.example");
        m.service(retried);

        assertThat(before).hasSize(1);
        assertThat(signatures(retried)).hasSize(1);
    }

    @Test
    void throwsWhenTheKeysetHasNoPrimaryAndOnMailetExceptionNamesNoProcessor() throws Exception {
        InMemoryKeyVault empty = new InMemoryKeyVault().add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));
        SignWithAuthHmac m = new SignWithAuthHmac(empty, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        m.init(config().setProperty("onMailetException", "propagate").build());
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");

        assertThatThrownBy(() -> m.service(mail)).isInstanceOf(MessagingException.class).hasMessageContaining("no usable signing key");
        assertThat(signatures(mail)).isEmpty();
    }

    @Test
    void withoutOnMailetExceptionAMailForAKeysetWithoutPrimaryGoesWhereJamesWouldSendIt() throws Exception {
        InMemoryKeyVault empty = new InMemoryKeyVault().add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));
        SignWithAuthHmac m = new SignWithAuthHmac(empty, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        m.init(config().build());
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");

        m.service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.ERROR);
        assertThat(signatures(mail)).isEmpty();
    }

    @Test
    void whenOnMailetExceptionNamesTheProcessorTheMailIsInAMailTheVaultCannotSignGoesToTheErrorProcessor() throws Exception {
        // James carries a mail moved to the processor it is in on to the next mailet: RemoteDelivery, unsigned
        SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        m.init(config().setProperty("onMailetException", " Relay").build());
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");
        vault.goDown();

        List<String> errors = errorLines(() -> m.service(mail));

        assertThat(mail.getState()).isEqualTo(Mail.ERROR);
        assertThat(signatures(mail)).isEmpty();
        assertThat(errors).singleElement().asString().contains("'relay'", "onMailetException");
    }

    @Test
    void whenOnMailetExceptionNamesTheProcessorTheMailIsInAMailForAKeysetWithoutPrimaryGoesToTheErrorProcessor() throws Exception {
        InMemoryKeyVault noB = new InMemoryKeyVault().add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));
        SignWithAuthHmac m = new SignWithAuthHmac(noB, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        m.init(config().setProperty("onMailetException", "relay").build());
        FakeMail mail = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");

        m.service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.ERROR);
        assertThat(signatures(mail)).isEmpty();
    }

    @Test
    void whenErrorProcessorOrRefusedProcessorNamesTheProcessorTheMailIsInTheMailGoesToTheErrorProcessor() throws Exception {
        SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        m.init(config().setProperty("errorProcessor", "relay").setProperty("refusedProcessor", "relay").build());
        FakeMail unsignable = Mails.outbound("Subject: pay now\r\n" + Mails.message("alice@a.example", "bob@b.example", "hello", "hi"),
                "alice@a.example", "bob@b.example");
        FakeMail refused = Mails.outbound(Mails.message("\"CEO\" <ceo@a.example>", "bob@b.example", "new bank details", "x"),
                "alice@a.example", "bob@b.example");

        m.service(unsignable);
        m.service(refused);

        assertThat(unsignable.getState()).isEqualTo(Mail.ERROR);
        assertThat(refused.getState()).isEqualTo(Mail.ERROR);
        assertThat(signatures(unsignable)).isEmpty();
        assertThat(signatures(refused)).isEmpty();
    }

    static List<String> errorLines(ThrowingRunnable action) throws Exception {
        return Stderr.linesContaining("ERROR", action);
    }

    @Test
    void sendsAMailThatCannotBeSignedToTheErrorProcessor() throws Exception {
        String twoSubjects = "Subject: pay now\r\n" + Mails.message("alice@a.example", "bob@b.example", "hello", "hi");
        FakeMail mail = Mails.outbound(twoSubjects, "alice@a.example", "bob@b.example");

        mailet.service(mail);

        assertThat(mail.getState()).isEqualTo(Mail.ERROR);
        assertThat(signatures(mail)).isEmpty();
        assertThat(metrics.countFor(Metrics.SIGN_FAILED)).isEqualTo(1);
    }

    @Test
    void sendsMalformedMimeToTheErrorProcessorInsteadOfThrowingForARetry() throws Exception {
        // given a multipart whose boundary never occurs, submitted for a partner
        FakeMail mail = FakeMail.builder().name("no-boundary")
                .mimeMessage(UnsavedMessage.of(UnsavedMessage.NO_BOUNDARY.replace("ceo@a.example", "alice@a.example")))
                .sender("alice@a.example").recipients("bob@b.example").state("relay")
                .attribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of("alice@a.example"))).build();

        mailet.service(mail);

        // then it is a permanent verdict: the error processor, no signature, no exception
        assertThat(mail.getState()).isEqualTo(Mail.ERROR);
        assertThat(signatures(mail)).isEmpty();
        assertThat(metrics.countFor(Metrics.SIGN_FAILED)).isEqualTo(1);
    }

    @Test
    void sendsMimeThatTheSevenBitConversionCannotWalkToTheErrorProcessorAtOnce() throws Exception {
        // given a multipart the 7-bit conversion cannot read: on James 3.8.1 its walk over nested parts (a lambda)
        // hands JavaMail's ParseException back wrapped in an unchecked exception, as this message does
        String raw = "From: alice@a.example\r\nTo: bob@b.example\r\nSubject: nested\r\nMessage-ID: <n@a.example>\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer--\r\n";
        MimeMessage wrapsItsParseError = new MimeMessage(Session.getInstance(new Properties()),
                new ByteArrayInputStream(raw.getBytes(StandardCharsets.US_ASCII))) {
            @Override
            public Object getContent() {
                throw new IllegalStateException(new ParseException("Missing start boundary"));
            }
        };
        FakeMail mail = FakeMail.builder().name("nested").mimeMessage(wrapsItsParseError).sender("alice@a.example")
                .recipients("bob@b.example").state("relay")
                .attribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of("alice@a.example"))).build();

        mailet.service(mail);

        // then a permanent verdict now, not an exception that sends it round the retry processor for an hour
        assertThat(mail.getState()).isEqualTo(Mail.ERROR);
        assertThat(signatures(mail)).isEmpty();
        assertThat(metrics.countFor(Metrics.SIGN_FAILED)).isEqualTo(1);
    }

    @Test
    void convertsEightBitBodiesBeforeSigningSoRemoteDeliveryHasNothingToReencode() throws Exception {
        String raw = Mails.message("alice@a.example", "bob@b.example", "héllo", "Grüße aus Zürich")
                .replace("Content-Transfer-Encoding: 7bit", "Content-Transfer-Encoding: 8bit");
        FakeMail mail = Mails.outbound(raw, "alice@a.example", "bob@b.example");

        mailet.service(mail);

        String sent = Mails.text(mail.getMessage());
        assertThat(sent).contains("Content-Transfer-Encoding: quoted-printable").doesNotContain("Grüße");
        assertThat(verify(mail, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
    }

    @Nested
    class OnlyMailOurUsersWroteHereIsSigned {
        static final String FORGED_OURS = "X-Auth-HMAC: v=1; a=hmac-sha256; d=a.example; s=kb1; t=1; p=900; r=b.example; "
                + "n=AAAAAAAAAAAAAAAAAAAAAA; h=from; bh=x; b=captured\r\n";

        @Test
        void sendsAForwardedInternetForgeryOnUnsignedAndWithoutHeadersThatUseOurKeyIds() throws Exception {
            // given mail from the Internet for fwd@a.example, forwarded by James to bob@b.example: no SMTP AUTH
            String foreign = "X-Auth-HMAC: v=1; a=hmac-sha256; d=z.example; s=zz9; t=1; p=900; r=a.example; n=BBBBBBBBBBBBBBBBBBBBBB; h=from; bh=y; b=theirs\r\n";
            FakeMail forward = Mails.relayed(FORGED_OURS + foreign + Mails.message("CEO <ceo@a.example>", "fwd@a.example", "pay", "Pay 4711."),
                    "attacker@evil.example", "bob@b.example");

            mailet.service(forward);

            assertThat(signatures(forward)).singleElement().asString().contains("b=theirs");
            assertThat(forward.getState()).as("sent on, unsigned").isEqualTo("relay");
            assertThat(verify(forward, "bob@b.example").result()).isNotEqualTo(AuthResult.PASS);
            assertThat(forward.getAttribute(AuthHmacAttributes.SIGNING)).hasValueSatisfying(a ->
                    assertThat(a.getValue().value()).isEqualTo("not-submitted-here"));
            assertThat(metrics.countFor(Metrics.SIGN_UNSIGNED_NOT_SUBMITTED_HERE)).isEqualTo(1);
            assertThat(metrics.countFor(Metrics.SIGNED)).isZero();
        }

        @Test
        void refusesAnAuthenticatedUsersMailWrittenInSomebodyElsesName() throws Exception {
            // given alice, logged in, writes as the CEO of her own domain
            SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
            m.init(config().setProperty("refusedProcessor", "auth-hmac-sign-refused").build());
            FakeMail mail = Mails.outbound(Mails.message("\"CEO\" <ceo@a.example>", "bob@b.example", "new bank details", "x"),
                    "alice@a.example", "bob@b.example");

            m.service(mail);

            assertThat(signatures(mail)).isEmpty();
            assertThat(mail.getState()).isEqualTo("auth-hmac-sign-refused");
            assertThat(mail.getErrorMessage()).contains("ceo@a.example", "alice@a.example", "not the address you logged in with");
            assertThat(mail.getRecipients()).as("kept whole for the bounce").hasSize(1);
            assertThat(metrics.countFor(Metrics.SIGN_REFUSED_FROM_NOT_USER)).isEqualTo(1);
        }

        @Test
        void sendsARefusedMailToTheErrorProcessorWhenNoRefusedProcessorIsConfigured() throws Exception {
            FakeMail mail = Mails.outbound(Mails.message("Board: alice@a.example;", "bob@b.example", "hi", "x"), "alice@a.example", "bob@b.example");

            mailet.service(mail);

            assertThat(mail.getState()).isEqualTo(Mail.ERROR);
            assertThat(signatures(mail)).isEmpty();
            assertThat(metrics.countFor(Metrics.SIGN_REFUSED_FROM_UNREADABLE)).isEqualTo(1);
        }

        @Test
        void signsMailTheAdministratorMarkedAsTheServersOwn() throws Exception {
            // given a delivery status notification James wrote, null sender, marked by the administrator's SetMailAttribute
            FakeMail dsn = FakeMail.builder().name("dsn").mimeMessage(Mails.parse(Mails.message("postmaster@a.example", "bob@b.example",
                    "Delivery failure", "Your mail could not be delivered."))).recipient("bob@b.example").state("relay")
                    .attribute(new Attribute(SigningPolicy.SERVER_OWN, AttributeValue.of("true"))).build();

            mailet.service(dsn);

            assertThat(verify(dsn, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
            assertThat(metrics.countFor(Metrics.SIGN_SERVER_OWN)).isEqualTo(1);
        }

        @Test
        void signsTheAuthenticatedUsersOwnMailAndRecordsWhy() throws Exception {
            FakeMail mail = Mails.outbound(Mails.message("Alice <Alice@A.example>", "bob@b.example", "hello", "hi"), "alice@a.example", "bob@b.example");

            mailet.service(mail);

            assertThat(verify(mail, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
            assertThat(mail.getAttribute(AuthHmacAttributes.SIGNING)).hasValueSatisfying(a ->
                    assertThat(a.getValue().value()).isEqualTo("authenticated-author"));
        }

        @Test
        void leavesAForwardWithoutPartnerRecipientUntouchedAndUnjudged() throws Exception {
            String raw = FORGED_OURS + Mails.message("CEO <ceo@a.example>", "fwd@a.example", "pay", "x");
            FakeMail forward = Mails.relayed(raw, "attacker@evil.example", "eve@elsewhere.example");

            mailet.service(forward);

            assertThat(Mails.text(forward.getMessage())).isEqualTo(raw);
            assertThat(forward.getAttribute(AuthHmacAttributes.SIGNING)).isEmpty();
        }
    }

    @Nested
    class BadConfiguration {
        @Test
        void missingSigningDomainIsNamed() {
            SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
            assertThatThrownBy(() -> m.init(FakeMailetConfig.builder().mailetName("s").build()))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'signingDomain'");
        }

        @ParameterizedTest
        @ValueSource(strings = {"partners", "periodSeconds", "headerName"})
        void aParameterThatMovedToThePartnerFileIsRefusedByName(String moved) {
            SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
            assertThatThrownBy(() -> m.init(config().setProperty(moved, "b.example=partner-b").build()))
                    .isInstanceOf(MessagingException.class)
                    .hasMessageContaining("'" + moved + "'", "is no longer a parameter of this mailet", "auth-hmac-partners.properties");
        }

        @ParameterizedTest
        @ValueSource(strings = {"ignore", " IGNORE"})
        void onMailetExceptionIgnoreWhichWouldSendTheMailUnsignedIsRefused(String value) {
            SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
            assertThatThrownBy(() -> m.init(config().setProperty("onMailetException", value).build()))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'onMailetException'", "is refused", "unsigned");
        }

        @Test
        void unknownParameterIsNamed() {
            SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
            assertThatThrownBy(() -> m.init(config().setProperty("signingDomian", "a.example").build()))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("signingDomian");
        }

        @Test
        void misspelledBooleanIsNamed() {
            SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
            assertThatThrownBy(() -> m.init(config().setProperty("convertTo7Bit", "ture").build()))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'convertTo7Bit'");
        }

        @Test
        void unknownCanonicalizationIsNamed() {
            SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
            assertThatThrownBy(() -> m.init(config().setProperty("canonicalization", "relaxed/loose").build()))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'canonicalization'");
        }
    }

    static List<String> list(String... s) {
        return List.of(s);
    }

    @Test
    void declaresTheProcessorsItSendsMailToSoThatJamesRefusesToStartWhenOneIsMissing() throws Exception {
        assertThat(AuthHmacQuarantineTest.names(mailet.requiredProcessingState())).containsExactly("error");

        SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC), PARTNERS);
        m.init(config().setProperty("errorProcessor", "auth-hmac-hold").setProperty("refusedProcessor", "refused")
                .setProperty("splitProcessor", "copies").build());
        assertThat(AuthHmacQuarantineTest.names(m.requiredProcessingState()))
                .containsExactly("auth-hmac-hold", "refused", "copies");
    }
}
