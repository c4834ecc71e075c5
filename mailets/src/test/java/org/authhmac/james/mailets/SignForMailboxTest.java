package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.Map;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.PerRecipientHeaders;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.UnsavedMessage;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.client.MailboxKey;
import org.authhmac.protocol.client.MailboxVerdict;
import org.authhmac.protocol.client.MailboxVerifier;
import org.authhmac.protocol.client.ServerVerdict;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SignForMailboxTest {
    static final Instant NOW = Instant.parse("2026-11-22T02:00:00Z");

    InMemoryKeyVault vault;
    RecordingMetricFactory metrics;
    SignForMailbox mailet;

    @BeforeEach
    void setUp() throws MessagingException {
        vault = new InMemoryKeyVault()
                .add("k1", "a-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("partner"))
                .add("mbx-alice", "user:alice@b.example", KeyStatus.PRIMARY, InMemoryKeyVault.primary("alice"))
                .add("mbx-bob", "user:bob@b.example", KeyStatus.PRIMARY, InMemoryKeyVault.primary("bob"))
                .add("mbx-carol", "user:carol@b.example", KeyStatus.PRIMARY, InMemoryKeyVault.primary("carol"));
        metrics = new RecordingMetricFactory();
        mailet = new SignForMailbox(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC));
        mailet.init(FakeMailetConfig.builder().mailetName("SignForMailbox").mailetContext(FakeMailContext.defaultContext()).build());
    }

    static MailboxVerifier client(String mailbox, String keyId) {
        return new MailboxVerifier(MailboxKey.of(mailbox, keyId, InMemoryKeyVault.primary(keyId.substring(4))));
    }

    /** The copy one mailbox stores: what James's MailDispatcher does with per-recipient headers at LocalDelivery. */
    static byte[] storedCopy(Mail mail, String recipient) throws Exception {
        MimeMessage copy = Mails.parse(Mails.bytes(mail.getMessage()));
        for (PerRecipientHeaders.Header h : mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(new MailAddress(recipient))) {
            copy.addHeader(h.getName(), h.getValue());
        }
        return Mails.bytes(copy);
    }

    static FakeMail delivered(String... recipients) throws MessagingException {
        return Mails.outbound(Mails.message("dave@a.example", "alice@b.example, bob@b.example, carol@b.example", "lunch", "At noon?"),
                "dave@a.example", recipients);
    }

    @Test
    void givesThreeRecipientsThreeDifferentHeadersEachInItsOwnCopyOnly() throws Exception {
        FakeMail mail = delivered("alice@b.example", "bob@b.example", "carol@b.example");

        mailet.service(mail);

        Collection<PerRecipientHeaders.Header> alice = mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(new MailAddress("alice@b.example"));
        Collection<PerRecipientHeaders.Header> bob = mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(new MailAddress("bob@b.example"));
        assertThat(alice).singleElement().satisfies(h -> assertThat(h.getValue()).contains("s=mbx-alice", "r=alice@b.example", "d=b.example"));
        assertThat(bob).singleElement().satisfies(h -> assertThat(h.getValue()).contains("s=mbx-bob", "r=bob@b.example"));
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC")).as("nothing shared by all copies").isNull();
        assertThat(new String(storedCopy(mail, "alice@b.example"))).contains("r=alice@b.example").doesNotContain("r=bob@b.example");
        assertThat(metrics.countFor(Metrics.MAILBOX_SIGNED)).isEqualTo(3);
    }

    @Test
    void eachUsersClientFindsItsOwnCopyDeliveredIntactAndTheSenderNotVerified() throws Exception {
        // given a mail the matcher did not verify (no verdict attributes: it claimed no partner domain)
        FakeMail mail = delivered("alice@b.example", "bob@b.example", "carol@b.example");

        mailet.service(mail);

        for (String who : new String[] {"alice", "bob", "carol"}) {
            MailboxVerdict v = client(who + "@b.example", "mbx-" + who).verify(storedCopy(mail, who + "@b.example"), NOW);
            assertThat(v.signature().result()).isEqualTo(AuthResult.PASS);
            assertThat(v.serverVerdict()).contains(ServerVerdict.NONE);
            assertThat(v.status()).isEqualTo(MailboxVerdict.Status.SENDER_UNVERIFIED);
        }
    }

    @Test
    void writesThePassAndPartnerDomainTheMatcherRecordedForEachRecipientAndTheFailureForAnother() throws Exception {
        // given the matcher passed the mail for alice, and failed it for bob (delivered marked)
        FakeMail mail = delivered("alice@b.example", "bob@b.example");
        recipientVerdicts(mail, Map.of("alice@b.example", "pass verified s=ka1 d=a.example t=1763776800",
                "bob@b.example", "fail replay s=ka1 d=a.example t=1763776800"));

        mailet.service(mail);

        MailboxVerdict alices = client("alice@b.example", "mbx-alice").verify(storedCopy(mail, "alice@b.example"), NOW);
        MailboxVerdict bobs = client("bob@b.example", "mbx-bob").verify(storedCopy(mail, "bob@b.example"), NOW);
        assertThat(alices.status()).isEqualTo(MailboxVerdict.Status.PARTNER_VERIFIED);
        assertThat(alices.partnerDomain()).contains("a.example");
        assertThat(bobs.status()).isEqualTo(MailboxVerdict.Status.PARTNER_FAILED);
        assertThat(bobs.serverVerdict()).contains(ServerVerdict.FAIL);
        assertThat(headerFor(mail, "alice@b.example")).contains("; sv=pass; pd=a.example; ");
        assertThat(headerFor(mail, "bob@b.example")).contains("; sv=fail; ").doesNotContain("pd=");
    }

    @Test
    void aRecipientTheMatcherDidNotSeeGetsTheVerdictAllOthersShareOrElseTheLeastTrustedOne() throws Exception {
        // given carol is an alias the RecipientRewriteTable rewrote after verification
        FakeMail shared = delivered("carol@b.example");
        recipientVerdicts(shared, Map.of("list@b.example", "pass verified s=ka1 d=a.example t=1763776800",
                "alice@b.example", "pass verified s=ka1 d=a.example t=1763776800"));
        FakeMail split = delivered("carol@b.example");
        recipientVerdicts(split, Map.of("list@b.example", "pass verified s=ka1 d=a.example t=1763776800",
                "alice@b.example", "permerror unknown-key s=kx d=a.example t=1763776800"));

        mailet.service(shared);
        mailet.service(split);

        assertThat(headerFor(shared, "carol@b.example")).contains("; sv=pass; pd=a.example; ");
        assertThat(headerFor(split, "carol@b.example")).contains("; sv=permerror; ");
    }

    @Test
    void aMailOneOfOurMailetsHeldAndAnAdministratorSentOnIsReleasedUnlessItHadPassed() throws Exception {
        // given two mails that came back out of a repository of ours: one the matcher failed, one it had passed
        FakeMail failed = delivered("alice@b.example");
        recipientVerdicts(failed, Map.of("alice@b.example", "none no-signature"));
        failed.setAttribute(new Attribute(AuthHmacAttributes.HELD, AttributeValue.of("memory://var/mail/auth-hmac-quarantine/")));
        FakeMail passedThenHeld = delivered("bob@b.example");
        recipientVerdicts(passedThenHeld, Map.of("bob@b.example", "pass verified s=ka1 d=a.example t=1763776800"));
        passedThenHeld.setAttribute(new Attribute(AuthHmacAttributes.HELD, AttributeValue.of("memory://var/mail/auth-hmac-hold/")));

        mailet.service(failed);
        mailet.service(passedThenHeld);

        assertThat(client("alice@b.example", "mbx-alice").verify(storedCopy(failed, "alice@b.example"), NOW).status())
                .isEqualTo(MailboxVerdict.Status.RELEASED);
        assertThat(client("bob@b.example", "mbx-bob").verify(storedCopy(passedThenHeld, "bob@b.example"), NOW).status())
                .isEqualTo(MailboxVerdict.Status.PARTNER_VERIFIED);
    }

    @Test
    void aNoticeOfOursIsSignedAsTheServersNoticeWhateverVerdictItCarries() throws Exception {
        FakeMail notice = delivered("alice@b.example");
        recipientVerdicts(notice, Map.of("alice@b.example", "pass verified s=ka1 d=a.example t=1763776800"));
        notice.setAttribute(new Attribute(AuthHmacAttributes.NOTICE, AttributeValue.of("quarantine")));

        mailet.service(notice);

        assertThat(client("alice@b.example", "mbx-alice").verify(storedCopy(notice, "alice@b.example"), NOW).status())
                .isEqualTo(MailboxVerdict.Status.SERVER_NOTICE);
    }

    @Test
    void headerFieldsThatClaimAVerdictDoNotChangeTheOneSigned() throws Exception {
        // given a mail without verdict attributes whose sender wrote every verdict-looking field it could think of
        FakeMail mail = delivered("alice@b.example");
        mail.getMessage().addHeader("Authentication-Results", "mx.b.example; auth-hmac=pass header.d=a.example");
        mail.getMessage().addHeader("X-Auth-HMAC-Status", "pass verified");
        mail.getMessage().addHeader("X-Auth-HMAC", "v=1; sv=pass; pd=a.example");
        mail.getMessage().saveChanges();

        mailet.service(mail);

        assertThat(headerFor(mail, "alice@b.example")).contains("; sv=none; ").doesNotContain("pd=");
    }

    static void recipientVerdicts(Mail mail, Map<String, String> encoded) {
        Map<String, AttributeValue<?>> map = new java.util.LinkedHashMap<>();
        encoded.forEach((r, v) -> map.put(r, AttributeValue.of(v)));
        mail.setAttribute(new Attribute(AuthHmacAttributes.RECIPIENT_VERDICTS, AttributeValue.of(map)));
    }

    static String headerFor(Mail mail, String recipient) {
        return mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(Mails.address(recipient)).iterator().next().getValue();
    }

    @Test
    void aliceCopyPlacedInBobsMailboxFailsForBob() throws Exception {
        FakeMail mail = delivered("alice@b.example");

        mailet.service(mail);

        // the binding is checked before any key: r= names alice, so bob's client refuses it without key work
        Verdict v = client("bob@b.example", "mbx-bob").verify(storedCopy(mail, "alice@b.example"), NOW).signature();
        assertThat(v.result()).isEqualTo(AuthResult.FAIL);
        assertThat(v.reason()).isEqualTo(Reason.WRONG_RECIPIENT);
    }

    @Test
    void deliversRecipientsWithoutAKeyAsTheyAreAndLeavesTheirMailAlone() throws Exception {
        FakeMail mail = delivered("dora@b.example");
        mail.getMessage().addHeader("X-Auth-HMAC", "v=1; d=a.example; s=k1; r=b.example");
        mail.getMessage().saveChanges();

        mailet.service(mail);

        assertThat(mail.getPerRecipientSpecificHeaders().getRecipientsWithSpecificHeaders()).isEmpty();
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC")).as("the partner signature stays").hasSize(1);
        assertThat(metrics.countFor(Metrics.MAILBOX_NO_KEY)).isEqualTo(1);
    }

    @Test
    void removesIncomingSignaturesSoTheyCannotCrowdOutTheMailboxOne() throws Exception {
        FakeMail mail = delivered("alice@b.example");
        for (int i = 0; i < 6; i++) {
            mail.getMessage().addHeader("X-Auth-HMAC", "v=1; junk=" + i);
        }
        mail.getMessage().setHeader("Authentication-Results", "mx.b.example; auth-hmac=pass");
        mail.getMessage().saveChanges();

        mailet.service(mail);

        byte[] copy = storedCopy(mail, "alice@b.example");
        assertThat(client("alice@b.example", "mbx-alice").verify(copy, NOW).signature().result()).isEqualTo(AuthResult.PASS);
        assertThat(new String(copy)).contains("Authentication-Results: mx.b.example; auth-hmac=pass").doesNotContain("junk=");
    }

    @Test
    void waitsForRetryWhenTheVaultIsDownAndAddsNothing() throws Exception {
        FakeMail mail = delivered("alice@b.example", "bob@b.example");
        vault.goDown();

        assertThatThrownBy(() -> mailet.service(mail)).isInstanceOf(MessagingException.class).hasMessageContaining("not delivered unsigned");
        assertThat(mail.getPerRecipientSpecificHeaders().getRecipientsWithSpecificHeaders()).isEmpty();
        assertThat(metrics.countFor(Metrics.MAILBOX_KEY_UNAVAILABLE)).isEqualTo(1);
    }

    @Test
    void deliversAMessageThatCannotBeSignedWithoutAMailboxSignatureAndBouncesNothing() throws Exception {
        // given a mail with two Cc fields (the signer refuses duplicates) for alice, who has a mailbox key
        FakeMail mail = FakeMail.builder().name("two-cc").mimeMessage(Mails.parse(
                "From: m@evil.example\r\nCc: x@evil.example\r\nCc: y@evil.example\r\nTo: alice@b.example\r\nSubject: x\r\n\r\nbody\r\n"))
                .sender("carol@b.example").recipients("alice@b.example").state("auth-hmac-deliver").build();

        mailet.service(mail);

        // then it goes on to LocalDelivery unsigned (alice's client says none), not to an error processor
        assertThat(mail.getState()).isEqualTo("auth-hmac-deliver");
        assertThat(mail.getPerRecipientSpecificHeaders().getRecipientsWithSpecificHeaders()).isEmpty();
        assertThat(metrics.countFor(Metrics.MAILBOX_FAILED)).isEqualTo(1);
    }

    @Test
    void deliversMalformedMimeUnsignedAndWritableInsteadOfThrowingForARetry() throws Exception {
        // given a multipart whose boundary never occurs, with an edited header block, as James holds it
        FakeMail mail = FakeMail.builder().name("no-boundary").mimeMessage(UnsavedMessage.of(UnsavedMessage.NO_BOUNDARY))
                .sender("ceo@a.example").recipients("alice@b.example").state("auth-hmac-deliver").build();
        mail.getMessage().addHeader("Delivered-To", "alice@b.example");

        mailet.service(mail);

        // then it goes on unsigned, and LocalDelivery can write it: the bytes that arrived, plus the header edit
        assertThat(mail.getState()).isEqualTo("auth-hmac-deliver");
        assertThat(mail.getPerRecipientSpecificHeaders().getRecipientsWithSpecificHeaders()).isEmpty();
        assertThat(Mails.text(mail.getMessage())).contains("Delivered-To: alice@b.example", "no boundary here");
        assertThat(metrics.countFor(Metrics.MAILBOX_FAILED)).isEqualTo(1);
    }

    @Test
    void sendsAMessageThatCannotBeSignedToTheErrorProcessorWhenOneIsNamed() throws Exception {
        SignForMailbox m = new SignForMailbox(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC));
        m.init(FakeMailetConfig.builder().mailetName("SignForMailbox").mailetContext(FakeMailContext.defaultContext())
                .setProperty("errorProcessor", "auth-hmac-hold").build());
        FakeMail mail = FakeMail.builder().name("two-froms").mimeMessage(Mails.parse(
                "From: a@a.example\r\nFrom: b@a.example\r\nTo: alice@b.example\r\nSubject: x\r\n\r\nbody\r\n"))
                .sender("a@a.example").recipients("alice@b.example").state("local-delivery").build();

        m.service(mail);

        assertThat(mail.getState()).isEqualTo("auth-hmac-hold");
    }

    @Test
    void refusesAnUnknownParameterAtStartUp() {
        SignForMailbox m = new SignForMailbox(vault, metrics);
        assertThatThrownBy(() -> m.init(FakeMailetConfig.builder().mailetName("SignForMailbox")
                .setProperty("removeIncomming", "true").build())).hasMessageContaining("removeIncomming");
        assertThatThrownBy(() -> m.init(FakeMailetConfig.builder().mailetName("SignForMailbox")
                .setProperty("removeIncoming", "ture").build())).hasMessageContaining("removeIncoming");
    }

    @Test
    void declaresItsErrorProcessorSoThatJamesRefusesToStartWhenItIsMissing() throws Exception {
        assertThat(mailet.requiredProcessingState()).isEmpty();

        SignForMailbox m = new SignForMailbox(vault, metrics, Clock.fixed(NOW, ZoneOffset.UTC));
        m.init(FakeMailetConfig.builder().mailetName("SignForMailbox").mailetContext(FakeMailContext.defaultContext())
                .setProperty("errorProcessor", "auth-hmac-hold").build());
        assertThat(AuthHmacQuarantineTest.names(m.requiredProcessingState())).containsExactly("auth-hmac-hold");
    }
}
