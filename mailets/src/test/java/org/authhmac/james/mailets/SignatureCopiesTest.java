package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;

/**
 * Who receives a signature. A signature bound to b.example with {@code rc=1} is a one-time ticket into one b.example
 * mailbox. Were it on every copy of the mail, every co-recipient outside b.example (a Cc at another domain, the users
 * of a second partner) would receive the ticket too, and, as RemoteDelivery delivers each domain on its own schedule,
 * whoever gets his copy first could spend the ticket on a b.example mailbox of his choice before A's delivery to B
 * goes through (B greylisting, down, slow), and bob's genuine copy would then be held as a replay. So SignWithAuthHmac
 * splits the mail: one copy per partner domain, signed only for it, and one unsigned copy for everybody else.
 */
class SignatureCopiesTest {
    static final Instant NOW = Instant.parse("2026-11-22T02:00:00Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    static final PartnerPolicies PARTNERS = TestPartners.of("partner.b.example.keyset=partner-b", "partner.c.example.keyset=partner-c");

    InMemoryKeyVault vault = new InMemoryKeyVault()
            .add("kb1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("b"))
            .add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));
    FakeMailContext context = FakeMailContext.defaultContext();
    RecordingMetricFactory metrics = new RecordingMetricFactory();

    SignWithAuthHmac mailet() throws MessagingException {
        return mailet(context, null);
    }

    SignWithAuthHmac mailet(MailetContext mailetContext, String splitProcessor) throws MessagingException {
        SignWithAuthHmac m = new SignWithAuthHmac(vault, metrics, CLOCK, PARTNERS);
        FakeMailetConfig.Builder config = FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(mailetContext)
                .setProperty("signingDomain", "a.example")
                .setProperty("refusedProcessor", "auth-hmac-sign-refused");
        if (splitProcessor != null) {
            config.setProperty("splitProcessor", splitProcessor);
        }
        m.init(config.build());
        return m;
    }

    static FakeMail alicesMail(String... recipients) throws MessagingException {
        return Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "board minutes", "confidential"),
                "alice@a.example", recipients);
    }

    /** The mail itself as it goes on, then each copy queued, as the next hop sees them. */
    List<Copy> copiesThatLeave(Mail mail) throws MessagingException {
        List<Copy> copies = new ArrayList<>();
        copies.add(new Copy(List.copyOf(mail.getRecipients()), mail.getMessage()));
        for (FakeMailContext.SentMail sent : context.getSentMails()) {
            copies.add(new Copy(List.copyOf(sent.getRecipients()), sent.getMsg()));
        }
        return copies;
    }

    Copy copyFor(Mail mail, String recipient) throws MessagingException {
        return copiesThatLeave(mail).stream().filter(c -> c.recipients().stream().anyMatch(r -> r.asString().equals(recipient)))
                .findFirst().orElseThrow();
    }

    Verdict verify(MimeMessage message, Verifier verifier, String recipient) throws Exception {
        return verifier.verify(new ByteArrayInputStream(Mails.bytes(message)), NOW.plusSeconds(5), recipient);
    }

    Verifier verifierAtB() {
        return new Verifier(VerifierSettings.defaults(), vault, new InMemoryReplayCache(100, CLOCK));
    }

    @Test
    void noCopyCarriesASignatureForADomainNotAllOfItsRecipientsAreIn() throws Exception {
        // given alice's mail to bob at partner b, carol at partner c, and eve elsewhere
        FakeMail mail = alicesMail("bob@b.example", "carol@c.example", "eve@evil.example");

        mailet().service(mail);

        // then each copy that leaves carries only signatures bound to the domain all its recipients are in
        List<Copy> copies = copiesThatLeave(mail);
        for (Copy c : copies) {
            for (String signature : c.signatures()) {
                String bound = signature.replaceAll("(?s).*\\br=([^;\\s]+).*", "$1");
                assertThat(c.recipients()).as("recipients of a copy signed for %s", bound)
                        .allSatisfy(r -> assertThat(r.getDomain().asString()).isEqualTo(bound));
            }
        }
        assertThat(copies.stream().flatMap(c -> c.recipients().stream()).map(MailAddress::asString))
                .containsExactlyInAnyOrder("bob@b.example", "carol@c.example", "eve@evil.example");
    }

    @Test
    void theCopyOfARecipientElsewhereCannotBeSpentOnAPartnersMailboxBeforeBobsCopyArrives() throws Exception {
        // given alice's mail to bob at partner b and to eve elsewhere
        FakeMail mail = alicesMail("bob@b.example", "eve@evil.example");
        mailet().service(mail);
        Verifier b = verifierAtB();

        // when eve sends her copy on to cfo@b.example before A's delivery to B goes through
        Verdict evesTicket = verify(copyFor(mail, "eve@evil.example").message(), b, "cfo@b.example");

        // then it is no signed mail at all, and bob's genuine copy still passes
        assertThat(evesTicket.result()).isEqualTo(AuthResult.NONE);
        assertThat(evesTicket.reason()).isEqualTo(Reason.NO_SIGNATURE);
        assertThat(verify(copyFor(mail, "bob@b.example").message(), b, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void eachPartnerDomainsCopyHoldsAllItsRecipientsAndPassesForThemWithItsOwnSignatureOnly() throws Exception {
        // given a mail for two b.example users, one c.example user and somebody elsewhere
        FakeMail mail = alicesMail("bob@b.example", "carol@c.example", "dan@b.example", "eve@elsewhere.example");

        mailet().service(mail);

        // then the mail itself goes on for b.example, a copy for c.example, an unsigned copy for the rest
        assertThat(copiesThatLeave(mail)).extracting(c -> c.recipients().stream().map(MailAddress::asString).toList())
                .containsExactly(List.of("bob@b.example", "dan@b.example"), List.of("carol@c.example"), List.of("eve@elsewhere.example"));
        assertThat(copyFor(mail, "bob@b.example").signatures()).singleElement().asString().contains("s=kb1", "r=b.example", "; rc=2;");
        assertThat(copyFor(mail, "carol@c.example").signatures()).singleElement().asString().contains("s=kc1", "r=c.example", "; rc=1;");
        assertThat(copyFor(mail, "eve@elsewhere.example").signatures()).isEmpty();
        Verifier b = verifierAtB();
        assertThat(verify(copyFor(mail, "bob@b.example").message(), b, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
        assertThat(verify(copyFor(mail, "dan@b.example").message(), b, "dan@b.example").result()).isEqualTo(AuthResult.PASS);
        assertThat(verify(copyFor(mail, "carol@c.example").message(), verifierAtB(), "carol@c.example").result()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void writesTheNumberOfTheCopysRecipientsInItsDomainAsRc() throws Exception {
        FakeMail mail = alicesMail("bob@b.example", "carol@c.example", "dan@B.example", "erin@b.example", "eve@elsewhere.example");

        mailet().service(mail);

        assertThat(copyFor(mail, "erin@b.example").recipients()).hasSize(3);
        assertThat(copyFor(mail, "erin@b.example").signatures()).singleElement().asString().contains("r=b.example", "; rc=3;");
        assertThat(copyFor(mail, "carol@c.example").signatures()).singleElement().asString().contains("r=c.example", "; rc=1;");
    }

    @Test
    void countsOneMailboxSpelledInTwoCasesOnceInRcAsTheReceiverDoes() throws Exception {
        // given bob twice, in two spellings the receiver reads as one mailbox (replay ids are lower case)
        FakeMail mail = alicesMail("bob@b.example", "BOB@b.example", "eve@elsewhere.example");

        mailet().service(mail);

        // then the signature lets one b.example mailbox pass, not two: no spare ticket for another one
        assertThat(copyFor(mail, "bob@b.example").signatures()).singleElement().asString().contains("; rc=1;");
        assertThat(copyFor(mail, "bob@b.example").recipients()).extracting(MailAddress::asString)
                .containsExactly("bob@b.example", "BOB@b.example");
    }

    @Test
    void aMailForOnePartnerDomainOnlyIsNotSplit() throws Exception {
        FakeMail mail = alicesMail("bob@b.example", "dan@b.example");

        mailet().service(mail);

        assertThat(context.getSentMails()).isEmpty();
        assertThat(mail.getRecipients()).extracting(MailAddress::asString).containsExactly("bob@b.example", "dan@b.example");
        assertThat(copyFor(mail, "bob@b.example").signatures()).singleElement().asString().contains("; rc=2;");
        assertThat(metrics.countFor(Metrics.SIGN_SPLIT)).isZero();
    }

    @Test
    void countsTheSplitMailAndItsQueuedCopies() throws Exception {
        mailet().service(alicesMail("bob@b.example", "carol@c.example", "eve@elsewhere.example"));

        assertThat(metrics.countFor(Metrics.SIGNED)).isEqualTo(1);
        assertThat(metrics.countFor(Metrics.SIGN_SPLIT)).isEqualTo(1);
        assertThat(metrics.countFor(Metrics.SIGN_SPLIT_COPIES)).isEqualTo(2);
    }

    @Test
    void queuesTheCopiesUnderNewNamesToTheProcessorTheMailIsIn() throws Exception {
        FakeMail mail = alicesMail("bob@b.example", "eve@elsewhere.example");

        mailet().service(mail);

        FakeMailContext.SentMail copy = context.getSentMails().get(0);
        assertThat(copy.getState()).isEqualTo("relay");
        String name = (String) copy.getAttributes().get(AuthHmacAttributes.SPLIT_COPY).getValue().getValue();
        assertThat(name).startsWith(mail.getName() + "-split-").isNotEqualTo(mail.getName());
        assertThat(mail.getState()).isEqualTo("relay");
    }

    @Test
    void queuesTheCopiesToTheSplitProcessorWhenOneIsNamed() throws Exception {
        FakeMail mail = alicesMail("bob@b.example", "eve@elsewhere.example");

        mailet(context, "relay-out").service(mail);

        assertThat(context.getSentMails()).singleElement().extracting(FakeMailContext.SentMail::getState).isEqualTo("relay-out");
    }

    @Test
    void aQueuedCopyPassesTheMailetOnceUntouchedAndIsNeitherSignedNorSplitAgain() throws Exception {
        // given the unsigned copy for eve, queued back into the processor that holds the mailet
        SignWithAuthHmac mailet = mailet();
        mailet.service(alicesMail("bob@b.example", "carol@c.example", "eve@elsewhere.example"));
        List<FakeMailContext.SentMail> queued = List.copyOf(context.getSentMails());

        for (FakeMailContext.SentMail sent : queued) {
            FakeMail copy = asSpooled(sent);
            byte[] before = Mails.bytes(copy.getMessage());

            // when the spool hands it to the mailet
            mailet.service(copy);

            // then it goes on as it was queued, and the mark is spent
            assertThat(Mails.bytes(copy.getMessage())).isEqualTo(before);
            assertThat(copy.getRecipients()).containsExactlyElementsOf(sent.getRecipients());
            assertThat(copy.getState()).isEqualTo("relay");
            assertThat(copy.getAttribute(AuthHmacAttributes.SPLIT_COPY)).isEmpty();
        }
        assertThat(context.getSentMails()).hasSize(queued.size());
        assertThat(metrics.countFor(Metrics.SIGNED)).isEqualTo(1);
    }

    @Test
    void aCopyWhoseRecipientsChangedBeforeItCameBackIsSplitAgainNotPassedOnWithItsSignature() throws Exception {
        // given carol's copy, signed for c.example, queued back (splitProcessor or the mailet's place lets a mailet
        // run on it first) and given one more recipient elsewhere there (an alias, a Bcc archive) under the same name
        SignWithAuthHmac mailet = mailet();
        mailet.service(alicesMail("bob@b.example", "carol@c.example"));
        FakeMail copy = asSpooled(context.getSentMails().get(0));
        assertThat(copy.getRecipients()).extracting(MailAddress::asString).containsExactly("carol@c.example");
        copy.setRecipients(List.of(new MailAddress("carol@c.example"), new MailAddress("mallory@evil.example")));
        context.resetSentMails();

        // when it reaches the mailet again
        mailet.service(copy);

        // then mallory's copy carries no signature (he could spend carol's ticket on a c.example mailbox), carol's does
        Copy mallorys = copyFor(copy, "mallory@evil.example");
        assertThat(mallorys.recipients()).extracting(MailAddress::asString).containsExactly("mallory@evil.example");
        assertThat(mallorys.signatures()).isEmpty();
        assertThat(copyFor(copy, "carol@c.example").signatures()).singleElement().asString().contains("r=c.example", "; rc=1;");
    }

    @Test
    void aCopyWhoseContentAMailetChangedBeforeItCameBackIsSignedAnewAndPassesAtThePartner() throws Exception {
        // given carol's copy, queued back into the processor where a footer mailet runs before SignWithAuthHmac (the
        // place the relay processor's comment gives to mailets that rewrite content), so the footer is added again
        SignWithAuthHmac mailet = mailet();
        mailet.service(alicesMail("bob@b.example", "carol@c.example"));
        FakeMail copy = asSpooled(context.getSentMails().get(0));
        copy.getMessage().setText("confidential\r\n-- \r\nsent from a.example\r\n", "UTF-8");
        copy.getMessage().saveChanges();
        context.resetSentMails();

        // when it reaches the mailet again
        mailet.service(copy);

        // then its signature covers what leaves: c.example passes it, nothing else was queued
        assertThat(copy.getMessage().getHeader("X-Auth-HMAC")).singleElement().asString().contains("r=c.example");
        assertThat(verify(copy.getMessage(), verifierAtB(), "carol@c.example").result()).isEqualTo(AuthResult.PASS);
        assertThat(context.getSentMails()).isEmpty();
    }

    @Test
    void aCopyThatComesBackLongAfterItsSplitIsSignedAnewNotSentWithItsOldSignature() throws Exception {
        // given carol's copy, split off and signed, then stored unchanged with its mark (a processor without the mailet)
        mailet().service(alicesMail("bob@b.example", "carol@c.example"));
        FakeMail copy = asSpooled(context.getSentMails().get(0));
        context.resetSentMails();

        // when an administrator reprocesses it into the mailet's processor three hours later
        Clock later = Clock.offset(CLOCK, Duration.ofHours(3));
        SignWithAuthHmac mailetThen = new SignWithAuthHmac(vault, metrics, later, PARTNERS);
        mailetThen.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(context)
                .setProperty("signingDomain", "a.example").build());
        mailetThen.service(copy);

        // then it leaves with a signature made now, as the mail itself would, not with the one the partner holds as expired
        assertThat(copy.getMessage().getHeader("X-Auth-HMAC")).singleElement().asString()
                .contains("r=c.example", "t=" + later.instant().getEpochSecond() + ";");
    }

    @Test
    void aSplitMarkNamingAnotherMailIsIgnoredAndTheMailIsSignedAsAnyOther() throws Exception {
        // given a mail that carries the mark of some other mail (a copy duplicated again by another mailet)
        FakeMail mail = alicesMail("bob@b.example");
        mail.setAttribute(new Attribute(AuthHmacAttributes.SPLIT_COPY, AttributeValue.of("somebody-else")));

        mailet().service(mail);

        assertThat(copyFor(mail, "bob@b.example").signatures()).singleElement().asString().contains("r=b.example");
        assertThat(mail.getAttribute(AuthHmacAttributes.SPLIT_COPY)).isEmpty();
    }

    @Test
    void whenTheKeyVaultIsDownNoCopyLeavesAndTheWholeMailWaits() throws Exception {
        FakeMail mail = alicesMail("bob@b.example", "carol@c.example", "eve@elsewhere.example");
        vault.goDown();

        assertThatThrownBy(() -> mailet().service(mail)).isInstanceOf(MessagingException.class);

        assertThat(context.getSentMails()).isEmpty();
        assertThat(mail.getRecipients()).hasSize(3);
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC")).isNull();
    }

    @Test
    void whenACopyCannotBeQueuedTheQueuedRecipientsLeaveTheMailAndTheOthersWaitForRetry() throws Exception {
        // given a spool that takes the first copy and then fails
        AtomicInteger queued = new AtomicInteger();
        MailetContext failingSecondTime = (MailetContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {MailetContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("sendMail") && queued.incrementAndGet() == 2) {
                        throw new MessagingException("spool unavailable");
                    }
                    try {
                        return method.invoke(context, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        FakeMail mail = alicesMail("bob@b.example", "carol@c.example", "eve@elsewhere.example");

        // when the mail is split
        assertThatThrownBy(() -> mailet(failingSecondTime, null).service(mail)).isInstanceOf(MessagingException.class)
                .hasMessageContaining("wait for retry");

        // then carol's copy is queued, and the mail keeps bob and eve, unsigned, for the retry that signs it again
        assertThat(context.getSentMails()).singleElement().extracting(s -> List.copyOf(s.getRecipients()))
                .isEqualTo(List.of(new MailAddress("carol@c.example")));
        assertThat(mail.getRecipients()).extracting(MailAddress::asString).containsExactly("bob@b.example", "eve@elsewhere.example");
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC")).isNull();
    }

    @Test
    void whenQueuingACopyFailsWithAnErrorTheQueuedRecipientsStillLeaveTheMailAndItWaitsForRetry() throws Exception {
        // given a spool that takes the first copy and then runs out of memory
        AtomicInteger queued = new AtomicInteger();
        MailetContext outOfMemorySecondTime = (MailetContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {MailetContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("sendMail") && queued.incrementAndGet() == 2) {
                        throw new OutOfMemoryError("Java heap space");
                    }
                    try {
                        return method.invoke(context, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        FakeMail mail = alicesMail("bob@b.example", "carol@c.example", "eve@elsewhere.example");

        // when the mail is split
        assertThatThrownBy(() -> mailet(outOfMemorySecondTime, null).service(mail)).isInstanceOf(MessagingException.class)
                .hasMessageContaining("wait for retry");

        // then carol, whose copy is queued, is no longer a recipient of the mail that waits: the retry cannot send her a second
        assertThat(context.getSentMails()).singleElement().extracting(s -> List.copyOf(s.getRecipients()))
                .isEqualTo(List.of(new MailAddress("carol@c.example")));
        assertThat(mail.getRecipients()).extracting(MailAddress::asString).containsExactly("bob@b.example", "eve@elsewhere.example");
    }

    @Test
    void aMailTheSigningPolicyRefusesIsRefusedWholeAndNotSplit() throws Exception {
        // given alice logged in, writing as the CEO to b, c and elsewhere
        FakeMail mail = Mails.outbound(Mails.message("CEO <ceo@a.example>", "bob@b.example", "pay", "Pay 4711."),
                "alice@a.example", "bob@b.example", "carol@c.example", "eve@elsewhere.example");

        mailet().service(mail);

        assertThat(mail.getState()).isEqualTo("auth-hmac-sign-refused");
        assertThat(mail.getRecipients()).hasSize(3);
        assertThat(context.getSentMails()).isEmpty();
        assertThat(metrics.countFor(Metrics.SIGN_REFUSED_FROM_NOT_USER)).isEqualTo(1);
    }

    @Test
    void aMailThePolicySendsOnUnsignedGoesOnWholeWithoutAnySignature() throws Exception {
        FakeMail forward = Mails.relayed(Mails.message("someone@elsewhere.example", "fwd@a.example", "hi", "hello"),
                "someone@elsewhere.example", "bob@b.example", "carol@c.example", "eve@elsewhere.example");

        mailet().service(forward);

        assertThat(forward.getRecipients()).hasSize(3);
        assertThat(forward.getMessage().getHeader("X-Auth-HMAC")).isNull();
        assertThat(context.getSentMails()).isEmpty();
        assertThat(metrics.countFor(Metrics.SIGN_UNSIGNED_NOT_SUBMITTED_HERE)).isEqualTo(1);
    }

    /** A queued copy as the spool hands it back, read from the bytes it stored: its name is the one the mark records. */
    static FakeMail asSpooled(FakeMailContext.SentMail sent) throws Exception {
        String name = (String) sent.getAttributes().get(AuthHmacAttributes.SPLIT_COPY).getValue().getValue();
        MimeMessage stored = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(Mails.bytes(sent.getMsg())));
        return FakeMail.builder().name(name).mimeMessage(stored).sender(sent.getSender())
                .recipients(List.copyOf(sent.getRecipients())).attributes(List.copyOf(sent.getAttributes().values()))
                .state(sent.getState()).build();
    }

    record Copy(List<MailAddress> recipients, MimeMessage message) {
        List<String> signatures() throws MessagingException {
            String[] h = message.getHeader("X-Auth-HMAC");
            return h == null ? List.of() : List.of(h);
        }
    }
}
