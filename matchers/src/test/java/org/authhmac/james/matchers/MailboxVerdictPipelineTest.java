package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Mail;
import org.apache.mailet.PerRecipientHeaders;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.mailets.AuthHmacQuarantine;
import org.authhmac.james.mailets.SignForMailbox;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.client.MailboxKey;
import org.authhmac.protocol.client.MailboxVerdict;
import org.authhmac.protocol.client.MailboxVerifier;
import org.authhmac.protocol.client.ServerVerdict;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The receiving pipeline as james-conf/receiving chains it, in mark mode: AuthHmacFailed, AuthHmacQuarantine (mark),
 * then, at local delivery, SignForMailbox; bob's client is the real MailboxVerifier with his mailbox key. What bob's
 * client shows must follow what the server decided, not the mere fact that the server delivered the mail.
 */
class MailboxVerdictPipelineTest {
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    static final Instant ACCEPTED_AT = SIGNED_AT.plusSeconds(5);
    static final String BOB = "bob@b.example";

    InMemoryKeyVault senderVault;
    InMemoryKeyVault receiverVault;
    AuthHmacFailed matcher;
    AuthHmacQuarantine mark;
    SignForMailbox signForMailbox;
    MailboxVerifier bobsClient;

    @BeforeEach
    void setUp() throws Exception {
        senderVault = new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
        receiverVault = new InMemoryKeyVault()
                .add("ka1", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"))
                .add("mbx-bob", "user:" + BOB, KeyStatus.PRIMARY, InMemoryKeyVault.primary("bob"));
        FakeMailContext context = FakeMailContext.builder().postmaster(Mails.address("postmaster@b.example")).build();
        matcher = new AuthHmacFailed(receiverVault, new InMemoryReplayCache(1000, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)),
                new RecordingMetricFactory(), TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example"));
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").mailetContext(context).build());
        mark = new AuthHmacQuarantine(null, new RecordingMetricFactory(), null);
        mark.init(FakeMailetConfig.builder().mailetName("AuthHmacQuarantine").mailetContext(context)
                .setProperty("action", "mark").build());
        signForMailbox = new SignForMailbox(receiverVault, new RecordingMetricFactory(), Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC));
        signForMailbox.init(FakeMailetConfig.builder().mailetName("SignForMailbox").mailetContext(context).build());
        bobsClient = new MailboxVerifier(MailboxKey.of(BOB, "mbx-bob", InMemoryKeyVault.primary("bob")));
    }

    /** What a.example's server sends bob: signed by its SignWithAuthHmac for alice, who submitted it. */
    FakeMail signedByA(String subject) throws Exception {
        SignWithAuthHmac signer = new SignWithAuthHmac(senderVault, new RecordingMetricFactory(), Clock.fixed(SIGNED_AT, ZoneOffset.UTC),
                TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        FakeMail sent = Mails.outbound(Mails.message("alice@a.example", BOB, subject, "numbers inside"), "alice@a.example", BOB);
        signer.service(sent);
        return Mails.arrived(sent, ACCEPTED_AT);
    }

    /** The receiving server's processors: auth-hmac-verify (matcher, mark), transport, auth-hmac-deliver. */
    void receive(Mail mail) throws MessagingException {
        if (!matcher.match(mail).isEmpty()) {
            // all of this mail's recipients failed: James hands the whole mail to the mailet
            mark.service(mail);
        }
        signForMailbox.service(mail);
    }

    /** The copy bob's mailbox stores: the message with bob's per-recipient headers, as LocalDelivery writes it. */
    static byte[] bobsCopy(Mail mail) throws Exception {
        MimeMessage copy = Mails.parse(Mails.bytes(mail.getMessage()));
        for (PerRecipientHeaders.Header h : mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(new MailAddress(BOB))) {
            copy.addHeader(h.getName(), h.getValue());
        }
        return Mails.bytes(copy);
    }

    @Test
    void aMarkModeFailureDeliveredToBobIsNotShownAsPassByHisClient() throws Exception {
        // given a partner mail whose body was changed on the way
        FakeMail mail = signedByA("invoice");
        mail.getMessage().setText("Pay to IBAN X instead.");
        mail.getMessage().saveChanges();

        // when the server, in mark mode, delivers it to bob
        receive(mail);

        // then bob's client shows the server's failure, not a pass
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC-Status")).singleElement().asString().startsWith("fail ");
        MailboxVerdict v = bobsClient.verify(bobsCopy(mail), ACCEPTED_AT);
        assertThat(v.signature().result()).as("delivered intact by bob's server").isEqualTo(AuthResult.PASS);
        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.PARTNER_FAILED);
        assertThat(v.serverVerdict()).contains(ServerVerdict.FAIL);
        assertThat(v.partnerVerified()).isFalse();
    }

    @Test
    void aForgedAuthenticationResultsThatReachesTheInboxDoesNotMakeBobsClientShowPass() throws Exception {
        // given an outsider's mail with an Authentication-Results claiming a pass from bob's server under an id the
        // matcher's stripping does not recognise (a trailing dot), which some mail readers show as mx.b.example
        FakeMail mail = Mails.arrivedRaw("Authentication-Results: mx.b.example.; auth-hmac=pass reason=\"verified\""
                        + " header.from=a.example header.d=a.example\r\n"
                        + Mails.message("Alice <alice@a-example.net>", BOB, "invoice", "Pay to IBAN X."),
                "alice@a-example.net", ACCEPTED_AT, BOB);

        // when the server delivers it to bob
        receive(mail);

        // then it is in bob's copy, and bob's client shows the sender as not verified
        assertThat(new String(bobsCopy(mail), java.nio.charset.StandardCharsets.UTF_8)).contains("auth-hmac=pass");
        MailboxVerdict v = bobsClient.verify(bobsCopy(mail), ACCEPTED_AT);
        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.SENDER_UNVERIFIED);
        assertThat(v.partnerVerified()).isFalse();
    }

    @Test
    void aPartnerMailTheServerPassedIsShownAsVerifiedFromThatPartner() throws Exception {
        FakeMail mail = signedByA("quarterly report");

        receive(mail);

        MailboxVerdict v = bobsClient.verify(bobsCopy(mail), ACCEPTED_AT);
        assertThat(v.status()).isEqualTo(MailboxVerdict.Status.PARTNER_VERIFIED);
        assertThat(v.partnerDomain()).contains("a.example");
    }

    @Test
    void anUnsignedMailClaimingThePartnerDeliveredInMarkModeIsNotShownAsVerified() throws Exception {
        FakeMail mail = Mails.arrivedRaw(Mails.message("ceo@a.example", BOB, "wire transfer", "Pay now."), "ceo@a.example",
                ACCEPTED_AT, BOB);

        receive(mail);

        MailboxVerdict v = bobsClient.verify(bobsCopy(mail), ACCEPTED_AT);
        assertThat(v.serverVerdict()).contains(ServerVerdict.NONE);
        assertThat(v.partnerVerified()).isFalse();
    }
}
