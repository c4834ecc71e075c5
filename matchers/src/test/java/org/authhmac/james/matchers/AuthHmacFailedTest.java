package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.Metrics;
import org.authhmac.james.NeededKeysets;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.james.testing.UnsavedMessage;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Server A (a.example) signs with SignWithAuthHmac; server B (b.example) checks with AuthHmacFailed. */
class AuthHmacFailedTest {
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    static final Instant ACCEPTED_AT = SIGNED_AT.plusSeconds(5);
    /** B's partner file: partners a.example and c.example. */
    static final List<String> PARTNERS = List.of("authservId=mx.b.example", "partner.a.example.keyset=partner-a",
            "partner.c.example.keyset=partner-c");
    /** A's partner file: partner b.example. */
    static final PartnerPolicies SIGNERS_PARTNERS = TestPartners.of("partner.b.example.keyset=partner-b");

    InMemoryKeyVault senderVault;
    InMemoryKeyVault otherPartnerVault;
    InMemoryKeyVault receiverVault;
    RecordingMetricFactory metrics;
    AuthHmacFailed matcher;

    @BeforeEach
    void setUp() throws MessagingException {
        senderVault = new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
        otherPartnerVault = new InMemoryKeyVault().add("kc1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c-b"));
        receiverVault = new InMemoryKeyVault()
                .add("ka1", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"))
                .add("kc1", "partner-c", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c-b"));
        metrics = new RecordingMetricFactory();
        matcher = matcher();
    }

    /** B's matcher, its partner file {@link #PARTNERS} and these lines. */
    AuthHmacFailed matcher(String... moreLines) throws MessagingException {
        List<String> lines = new ArrayList<>(PARTNERS);
        lines.addAll(List.of(moreLines));
        return matcher(TestPartners.of(lines.toArray(String[]::new)));
    }

    AuthHmacFailed matcher(PartnerPolicies partners) throws MessagingException {
        return matcher(partners, null);
    }

    AuthHmacFailed matcher(PartnerPolicies partners, String condition) throws MessagingException {
        AuthHmacFailed m = new AuthHmacFailed(receiverVault, new InMemoryReplayCache(1000, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)),
                metrics, partners);
        m.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").condition(condition)
                .mailetContext(FakeMailContext.defaultContext()).build());
        return m;
    }

    /** What server A sends: the message signed by A's mailet for the given recipients at the given time. */
    FakeMail signedByA(String raw, Instant at, InMemoryKeyVault vault, String domain, String... recipients) throws Exception {
        return signedBy(SIGNERS_PARTNERS, raw, at, vault, domain, recipients);
    }

    /** As {@link #signedByA(String, Instant, InMemoryKeyVault, String, String...)}, with the signer's partner file. */
    FakeMail signedBy(PartnerPolicies signersPartners, String raw, Instant at, InMemoryKeyVault vault, String domain,
                      String... recipients) throws Exception {
        SignWithAuthHmac signer = new SignWithAuthHmac(vault, new RecordingMetricFactory(), Clock.fixed(at, ZoneOffset.UTC),
                signersPartners);
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", domain).build());
        FakeMail mail = Mails.outbound(raw, "alice@" + domain, recipients);
        signer.service(mail);
        return mail;
    }

    /**
     * What a partner server that signs whatever it is given sends (A's own mailet refuses to sign a From that is not
     * its user's): the protocol's Signer under the vault's primary key, then A's envelope.
     */
    FakeMail signedByAnyServer(String raw, InMemoryKeyVault vault, String domain, String sender, String recipient) throws Exception {
        byte[] bytes = raw.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.util.List<String> header = new org.authhmac.protocol.Signer(org.authhmac.protocol.SignerSettings.defaults()).sign(bytes, 0, bytes.length,
                java.util.List.of(new org.authhmac.protocol.SignRequest(vault.primaryKeyId("partner-b"), domain, "b.example", SIGNED_AT, 1)), vault);
        return Mails.relayed(String.join("\r\n", header) + "\r\n" + raw, sender, recipient);
    }

    FakeMail signedByA(String... recipients) throws Exception {
        return signedByA(Mails.message("alice@a.example", "bob@b.example", "quarterly report", "numbers inside"),
                SIGNED_AT, senderVault, "a.example", recipients);
    }

    static RecordedVerdict verdictOf(Mail mail) {
        return RecordedVerdict.readFrom(mail).orElseThrow(() -> new AssertionError("no verdict attributes"));
    }

    @Test
    void passesAndRecordsTheVerdictForAMailSignedByThePartner() throws Exception {
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);

        assertThat(matcher.match(mail)).isEmpty();

        RecordedVerdict v = verdictOf(mail);
        assertThat(v.result()).isEqualTo(AuthResult.PASS);
        assertThat(v.reason()).isEqualTo(Reason.VERIFIED);
        assertThat(v.keyId()).contains("ka1");
        assertThat(v.domain()).contains("a.example");
        assertThat(v.signingTime()).contains(SIGNED_AT);
        assertThat(mail.getMessage().getHeader("Authentication-Results"))
                .containsExactly("mx.b.example; auth-hmac=pass reason=\"verified\" header.from=a.example header.d=a.example header.s=ka1");
        assertThat(metrics.countFor(Metrics.VERIFY_RESULT + "pass")).isEqualTo(1);
        assertThat(metrics.executionTimesFor(Metrics.VERIFY_TIMER)).hasSize(1);
    }

    @Test
    void passesForAMultipartMailBuiltInsideJamesWithAnEightBitPart() throws Exception {
        SignWithAuthHmac signer = new SignWithAuthHmac(senderVault, new RecordingMetricFactory(), Clock.fixed(SIGNED_AT, ZoneOffset.UTC),
                SIGNERS_PARTNERS);
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        FakeMail sent = FakeMail.builder().name("multipart").sender("alice@a.example").recipient("bob@b.example")
                .attribute(new org.apache.mailet.Attribute(Mail.SMTP_AUTH_USER, org.apache.mailet.AttributeValue.of("alice@a.example")))
                .mimeMessage(org.apache.james.core.builder.MimeMessageBuilder.mimeMessageBuilder()
                        .addFrom("alice@a.example").addToRecipient("bob@b.example").setSubject("Bericht")
                        .addHeader("Message-ID", "<multi@a.example>").addHeader("Date", "Sun, 22 Nov 2026 02:00:00 +0000")
                        .setMultipartWithBodyParts(
                                org.apache.james.core.builder.MimeMessageBuilder.bodyPartBuilder().data("Grüße, siehe Anhang"),
                                org.apache.james.core.builder.MimeMessageBuilder.bodyPartBuilder().data("a,b\n1,2\n")
                                        .filename("data.csv").disposition("attachment")))
                .build();

        signer.service(sent);
        FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);

        assertThat(matcher.match(mail)).isEmpty();
        assertThat(verdictOf(mail).result()).isEqualTo(AuthResult.PASS);
        assertThat(mail.getMessage().getMessageID()).isEqualTo("<multi@a.example>");
    }

    @Test
    void matchesAPartnerMailWithoutSignatureAsNone() throws Exception {
        FakeMail mail = Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "hi", "unsigned"),
                "alice@a.example", ACCEPTED_AT, "bob@b.example");

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));

        assertThat(verdictOf(mail).shortForm()).isEqualTo("none no-signature");
        assertThat(mail.getMessage().getHeader("Authentication-Results")[0]).contains("auth-hmac=none");
    }

    @Test
    void givesAPermanentVerdictAtOnceForMimeThatCannotBeWrittenBackAfterAForgedResultIsStripped() throws Exception {
        // given: a forged Authentication-Results (so the matcher edits the header, and James re-parses the MIME
        // structure when it writes the message) on a multipart whose boundary never occurs
        FakeMail mail = FakeMail.builder().name("broken").sender("alice@a.example").recipient("bob@b.example")
                .mimeMessage(UnsavedMessage.of("Authentication-Results: mx.b.example; auth-hmac=pass\r\n"
                        + UnsavedMessage.NO_BOUNDARY.replace("ceo@a.example", "alice@a.example")))
                .lastUpdated(Date.from(ACCEPTED_AT)).state("auth-hmac-verify").build();

        // when / then: the first sight decides; nothing waits for a retry that cannot help
        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(mail).shortForm()).isEqualTo("permerror malformed");
    }

    @Test
    void treatsAMailAsPartnerMailWhenOnlyTheEnvelopeSenderClaimsThePartner() throws Exception {
        FakeMail mail = Mails.arrivedRaw(Mails.message("someone@elsewhere.example", "bob@b.example", "hi", "unsigned"),
                "bounce@a.example", ACCEPTED_AT, "bob@b.example");

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
    }

    @Test
    void verifiesAnUnsignedMailWhoseFromIsAGroupNamingThePartner() throws Exception {
        // jakarta.mail reads "Board:ceo@a.example;" as one address with domain "a.example;"; mail clients show ceo@a.example
        FakeMail mail = Mails.arrivedRaw(Mails.message("Board:ceo@a.example;", "bob@b.example", "pay today", "unsigned"),
                "mallory@evil.example", ACCEPTED_AT, "bob@b.example");

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));

        assertThat(verdictOf(mail).shortForm()).isEqualTo("none no-signature");
        assertThat(mail.getMessage().getHeader("Authentication-Results")).singleElement()
                .satisfies(ar -> assertThat(ar).startsWith("mx.b.example; auth-hmac=none"));
    }

    @Test
    void givesNoPassWhenThePartnersSignatureCoversAFromOfAnotherDomain() throws Exception {
        // alice, a user of a.example, writes From: ceo@b.example and a partner server signs it anyway (d=a.example).
        // Our Signer refuses such a signature, so the From is put in after signing: the verifier compares the From
        // domain with d= before the MAC, so it answers as it would for a signature made over that From.
        FakeMail sent = signedByAnyServer(Mails.message("alice@a.example", "bob@b.example", "new bank details", "x"),
                senderVault, "a.example", "alice@a.example", "bob@b.example");
        sent.getMessage().setHeader("From", "\"CEO\" <ceo@b.example>");
        FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));

        assertThat(verdictOf(mail).result()).isNotEqualTo(AuthResult.PASS);
        assertThat(mail.getMessage().getHeader("Authentication-Results")).singleElement()
                .satisfies(ar -> assertThat(ar).doesNotContain("auth-hmac=pass").contains("header.from=b.example"));
    }

    @Test
    void givesNoPassWhenTheSignedFromAlsoShowsAnotherAddressInItsDisplayName() throws Exception {
        // a partner server signs whatever it is given: one mailbox in a.example, so d=a.example matches the From domain,
        // but the reader sees ceo@b.example as the sender
        FakeMail sent = signedByAnyServer(Mails.message("\"ceo@b.example\" <alice@a.example>", "bob@b.example", "new bank details", "x"),
                senderVault, "a.example", "alice@a.example", "bob@b.example");
        FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));

        RecordedVerdict v = verdictOf(mail);
        assertThat(v.shortForm()).isEqualTo("fail from-mismatch");
        assertThat(v.detail()).contains("signed for d=a.example", "parsers do not read the From field as one mailbox in it");
        assertThat(mail.getMessage().getHeader("Authentication-Results"))
                .containsExactly("mx.b.example; auth-hmac=fail reason=\"from-mismatch\" header.d=a.example header.s=ka1");
    }

    @Test
    void aRecipientThatJoinsAfterTheVerdictIsVerifiedAndGetsItsOwnAuthenticationResults() throws Exception {
        // given the mail decided for bob, then carried on for carol too (a recipient rewritten after the verdict)
        FakeMail mail = Mails.arrived(signedByA("bob@b.example", "carol@b.example"), ACCEPTED_AT);
        mail.setRecipients(List.of(Mails.address("bob@b.example")));
        matcher.match(mail);
        mail.setRecipients(List.of(Mails.address("bob@b.example"), Mails.address("carol@b.example")));

        // when it is matched again
        assertThat(matcher.match(mail)).isEmpty();

        // then carol's copy says how carol's verdict was reached; bob's field is not written twice
        assertThat(RecordedVerdict.perRecipient(mail)).hasEntrySatisfying(Mails.address("carol@b.example"),
                v -> assertThat(v.shortForm()).isEqualTo("pass verified"));
        assertThat(mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(Mails.address("carol@b.example")))
                .singleElement().satisfies(h -> assertThat(h.getValue()).startsWith("mx.b.example; auth-hmac=pass"));
        assertThat(mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(Mails.address("bob@b.example"))).isEmpty();
        assertThat(mail.getMessage().getHeader("Authentication-Results")).hasSize(1);
    }

    @Test
    void byDefaultBobPlusTagIsBobsMailboxSoASecondCopyToItIsAReplay() throws Exception {
        FakeMail sent = signedByA("bob@b.example", "carol@b.example");
        FakeMail first = Mails.arrived(sent, ACCEPTED_AT);
        first.setRecipients(List.of(Mails.address("bob@b.example")));
        FakeMail tagged = Mails.arrived(sent, ACCEPTED_AT.plusSeconds(60));
        tagged.setRecipients(List.of(Mails.address("bob+news@b.example")));

        assertThat(matcher.match(first)).isEmpty();
        assertThat(matcher.match(tagged)).as("bob's mailbox again").containsExactly(Mails.address("bob+news@b.example"));
        assertThat(verdictOf(tagged).shortForm()).isEqualTo("fail replay");
    }

    @Test
    void aConfiguredSubAddressSeparatorMakesBobDashTagBobsMailbox() throws Exception {
        FakeMail sent = signedByA("bob@b.example", "carol@b.example");
        FakeMail first = Mails.arrived(sent, ACCEPTED_AT);
        first.setRecipients(List.of(Mails.address("bob@b.example")));
        FakeMail tagged = Mails.arrived(sent, ACCEPTED_AT.plusSeconds(60));
        tagged.setRecipients(List.of(Mails.address("bob-news@b.example")));
        AuthHmacFailed dash = matcher("subAddressSeparator=-");

        assertThat(dash.match(first)).isEmpty();
        assertThat(dash.match(tagged)).as("bob's mailbox again").containsExactly(Mails.address("bob-news@b.example"));
        assertThat(verdictOf(tagged).shortForm()).isEqualTo("fail replay");
    }

    @Test
    void withReplayScopeSignatureTheSecondCopyOfASignatureIsAReplayEvenForAnotherRecipient() throws Exception {
        // A signs one mail for bob and carol; B accepts bob first and carol in A's retry
        FakeMail sent = signedByA("bob@b.example", "carol@b.example");
        FakeMail first = Mails.arrived(sent, ACCEPTED_AT);
        first.setRecipients(List.of(Mails.address("bob@b.example")));
        FakeMail retry = Mails.arrived(sent, ACCEPTED_AT.plusSeconds(300));
        retry.setRecipients(List.of(Mails.address("carol@b.example")));
        AuthHmacFailed perSignature = matcher("partner.a.example.replayScope=Signature");

        assertThat(perSignature.match(first)).isEmpty();
        assertThat(perSignature.match(retry)).containsExactly(Mails.address("carol@b.example"));
        assertThat(verdictOf(retry).shortForm()).isEqualTo("fail replay");
    }

    @Test
    void aConfiguredMaxAgeFailsASignatureOlderThanItAtAcceptance() throws Exception {
        FakeMail fresh = Mails.arrived(signedByA("bob@b.example"), SIGNED_AT.plusSeconds(50));
        FakeMail old = Mails.arrived(signedByA("carol@b.example"), SIGNED_AT.plusSeconds(70));
        AuthHmacFailed oneMinute = matcher("partner.a.example.maxAge=1m");

        assertThat(oneMinute.match(fresh)).isEmpty();
        assertThat(oneMinute.match(old)).containsExactly(Mails.address("carol@b.example"));
        assertThat(verdictOf(old).shortForm()).isEqualTo("fail expired");
    }

    @Test
    void withoutAuthservIdTheFieldsNameThisHost() throws Exception {
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);

        String host;
        try {
            host = InetAddress.getLocalHost().getCanonicalHostName().toLowerCase(java.util.Locale.ROOT);
        } catch (UnknownHostException e) {
            host = "localhost";
        }

        String thisHost = host;

        matcher(TestPartners.of("partner.a.example.keyset=partner-a")).match(mail);

        assertThat(mail.getMessage().getHeader("Authentication-Results")).singleElement()
                .satisfies(ar -> assertThat(ar).startsWith(thisHost + "; auth-hmac=pass"));
    }

    @Test
    void describesItselfToJames() {
        assertThat(matcher.getMatcherInfo()).startsWith("AuthHmacFailed: verifies X-Auth-HMAC");
    }

    /** A spooled message whose content cannot be read back (a disk error while James streams it from the spool). */
    static FakeMail unreadableFromTheSpool(Exception failure) throws MessagingException {
        byte[] raw = Mails.message("alice@a.example", "bob@b.example", "hi", "x").getBytes(StandardCharsets.UTF_8);
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(raw)) {
            @Override
            public void writeTo(OutputStream os) throws IOException, MessagingException {
                if (failure instanceof IOException e) {
                    throw e;
                }
                throw (MessagingException) failure;
            }
        };
        return FakeMail.builder().name("unreadable").mimeMessage(message).sender("alice@a.example").recipient("bob@b.example")
                .lastUpdated(Date.from(ACCEPTED_AT)).state("auth-hmac-verify").build();
    }

    @Test
    void aMessageTheSpoolCannotReadBackMakesTheMailWaitAndIsNeverAVerdict() throws Exception {
        for (Exception failure : List.of(new IOException("spool read error"),
                new MessagingException("cannot write", new IOException("spool read error")))) {
            FakeMail mail = unreadableFromTheSpool(failure);

            assertThatThrownBy(() -> matcher.match(mail)).as(failure.toString()).isInstanceOf(TemporaryVerificationFailure.class)
                    .hasMessageContaining("internal-error: verification could not run").hasMessageContaining("spool read error");
            assertThat(mail.getAttribute(AuthHmacAttributes.RESULT)).isEmpty();
        }
    }

    @Test
    void reportsTheFromDomainInTheAuthenticationResults() throws Exception {
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);

        matcher.match(mail);

        assertThat(mail.getMessage().getHeader("Authentication-Results"))
                .containsExactly("mx.b.example; auth-hmac=pass reason=\"verified\" header.from=a.example header.d=a.example header.s=ka1");
    }

    @Test
    void leavesMailFromOtherSendersAlone() throws Exception {
        FakeMail mail = Mails.arrivedRaw(Mails.message("news@elsewhere.example", "bob@b.example", "hi", "unsigned"),
                "news@elsewhere.example", ACCEPTED_AT, "bob@b.example");

        assertThat(matcher.match(mail)).isEmpty();

        assertThat(mail.getAttribute(AuthHmacAttributes.RESULT)).isEmpty();
        assertThat(mail.getMessage().getHeader("Authentication-Results")).isNull();
        assertThat(receiverVault.derivations()).isZero();
        assertThat(metrics.countFor(Metrics.VERIFY_SKIPPED)).isEqualTo(1);
        assertThat(metrics.countFor(Metrics.AR_STRIPPED)).as("nothing to strip, nothing counted").isZero();
    }

    @Test
    void failsAsBadMacWhenASignedHeaderWasChanged() throws Exception {
        FakeMail sent = signedByA("bob@b.example");
        sent.getMessage().setHeader("Subject", "quarterly report (revised)");
        FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(mail).shortForm()).isEqualTo("fail bad-mac");
    }

    @Test
    void failsAsBodyChangedWhenARelayRewroteTheBody() throws Exception {
        String sent = Mails.text(signedByA("bob@b.example").getMessage()).replace("numbers inside", "numbers changed");
        FakeMail mail = Mails.arrivedRaw(sent, "alice@a.example", ACCEPTED_AT, "bob@b.example");

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(mail).shortForm()).isEqualTo("fail body-changed");
    }

    @Test
    void failsAsExpiredWhenAcceptedTwoPeriodsAfterSigning() throws Exception {
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), SIGNED_AT.plus(Duration.ofMinutes(31)));

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(mail).shortForm()).isEqualTo("fail expired");
    }

    @Test
    void failsAsFutureWhenSignedWellAfterAcceptance() throws Exception {
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), SIGNED_AT.minus(Duration.ofMinutes(10)));

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(mail).shortForm()).isEqualTo("fail future");
    }

    @Test
    void measuresTheWindowFromAcceptanceNotFromProcessingTime() throws Exception {
        // Accepted 5 s after signing, processed a day later (the spool was stuck): still in the window.
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);

        assertThat(matcher.match(mail)).isEmpty();
        assertThat(verdictOf(mail).result()).isEqualTo(AuthResult.PASS);
        assertThat(mail.getAttribute(AuthHmacAttributes.ACCEPTED_AT))
                .hasValueSatisfying(a -> assertThat(a.getValue().value()).isEqualTo(ACCEPTED_AT.toEpochMilli()));
    }

    @Test
    void failsAsReplayWhenTheSameSignedMessageArrivesAgain() throws Exception {
        FakeMail sent = signedByA("bob@b.example");
        FakeMail first = Mails.arrived(sent, ACCEPTED_AT);
        FakeMail second = Mails.arrived(sent, ACCEPTED_AT.plusSeconds(60));

        assertThat(matcher.match(first)).isEmpty();
        assertThat(matcher.match(second)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(second).shortForm()).isEqualTo("fail replay");
    }

    @Test
    void aMailSignedForTwoRecipientsPassesForBothAcrossAPartialDeliveryAndForNoOtherMailbox() throws Exception {
        // given A signs one mail for bob and carol (rc=2); B first accepts only bob, carol comes in A's retry
        FakeMail sent = signedByA("bob@b.example", "carol@b.example");
        FakeMail first = Mails.arrived(sent, ACCEPTED_AT);
        first.setRecipients(java.util.List.of(Mails.address("bob@b.example")));
        FakeMail retry = Mails.arrived(sent, ACCEPTED_AT.plusSeconds(300));
        retry.setRecipients(java.util.List.of(Mails.address("carol@b.example")));
        // and someone replays the captured copy to an alias of bob and to another mailbox
        FakeMail replayed = Mails.arrived(sent, ACCEPTED_AT.plusSeconds(360));
        replayed.setRecipients(java.util.List.of(Mails.address("bob+x@b.example"), Mails.address("dave@b.example")));

        assertThat(matcher.match(first)).isEmpty();
        assertThat(matcher.match(retry)).isEmpty();
        assertThat(matcher.match(replayed)).containsExactlyInAnyOrder(Mails.address("bob+x@b.example"), Mails.address("dave@b.example"));
        assertThat(verdictOf(replayed).shortForm()).isEqualTo("fail replay");
    }

    @Test
    void anEmptySubAddressSeparatorMakesBobPlusTagAMailboxOfItsOwn() throws Exception {
        FakeMail sent = signedByA("bob@b.example", "carol@b.example");
        FakeMail first = Mails.arrived(sent, ACCEPTED_AT);
        first.setRecipients(java.util.List.of(Mails.address("bob@b.example")));
        FakeMail tagged = Mails.arrived(sent, ACCEPTED_AT.plusSeconds(60));
        tagged.setRecipients(java.util.List.of(Mails.address("bob+news@b.example")));
        AuthHmacFailed noSubAddressing = matcher("subAddressSeparator=");

        assertThat(noSubAddressing.match(first)).isEmpty();
        assertThat(noSubAddressing.match(tagged)).as("a second mailbox, within rc=2").isEmpty();
        assertThat(verdictOf(tagged).result()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void doesNotVerifyAgainAMailThatAlreadyCarriesItsVerdict() throws Exception {
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);
        matcher.match(mail);
        int derivations = receiverVault.derivations();

        // Reprocessing (or a second AuthHmacFailed in the pipeline) must not see its own signature as a replay.
        assertThat(matcher.match(mail)).isEmpty();
        assertThat(matcher().match(mail)).isEmpty();

        assertThat(verdictOf(mail).result()).isEqualTo(AuthResult.PASS);
        assertThat(receiverVault.derivations()).isEqualTo(derivations);
        assertThat(mail.getMessage().getHeader("Authentication-Results")).hasSize(1);
        assertThat(metrics.countFor(Metrics.VERIFY_REUSED)).isEqualTo(2);
    }

    @Test
    void failsAsWrongRecipientWhenTheSignatureWasMadeForAnotherDomain() throws Exception {
        FakeMail sent = signedByA("bob@b.example");
        FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);
        mail.setRecipients(java.util.List.of(Mails.address("bob@b2.example")));

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b2.example"));
        assertThat(verdictOf(mail).shortForm()).isEqualTo("fail wrong-recipient");
    }

    @Test
    void givesEachRecipientItsOwnVerdictWhenTheyDiffer() throws Exception {
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);
        mail.setRecipients(java.util.List.of(Mails.address("bob@b.example"), Mails.address("joe@b2.example")));

        assertThat(matcher.match(mail)).containsExactly(Mails.address("joe@b2.example"));

        assertThat(verdictOf(mail).shortForm()).isEqualTo("fail wrong-recipient");
        assertThat(mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(Mails.address("bob@b.example")))
                .singleElement().satisfies(h -> assertThat(h.getValue()).contains("auth-hmac=pass"));
        assertThat(mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(Mails.address("joe@b2.example")))
                .singleElement().satisfies(h -> assertThat(h.getValue()).contains("auth-hmac=fail"));
    }

    @Test
    void givesPermerrorWhenAPartnerSignsWithAKeyOfAnotherKeyset() throws Exception {
        // kc1 belongs to partner C; a signature claiming d=a.example with it must not pass.
        InMemoryKeyVault rogue = new InMemoryKeyVault().add("kc1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c-b"));
        FakeMail sent = signedByA(Mails.message("alice@a.example", "bob@b.example", "hi", "x"), SIGNED_AT, rogue, "a.example", "bob@b.example");
        FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(mail).shortForm()).isEqualTo("permerror unknown-key");
    }

    @Test
    void failsAsFromMismatchWhenAnotherPartnerSignsMailThatClaimsThisPartnersDomain() throws Exception {
        // Partner C signs correctly for its own domain, then the From is made to say a.example: the verifier
        // compares the From domain with d= before any key work (C's own signer refuses to make such a signature).
        FakeMail sent = signedByA(Mails.message("alice@c.example", "bob@b.example", "hi", "x"), SIGNED_AT, otherPartnerVault,
                "c.example", "bob@b.example");
        sent.getMessage().setHeader("From", "alice@a.example");
        FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        RecordedVerdict v = verdictOf(mail);
        assertThat(v.shortForm()).isEqualTo("fail from-mismatch");
        assertThat(v.domain()).contains("c.example");
    }

    @Test
    void stripsInboundAuthenticationResultsThatClaimOurAuthservId() throws Exception {
        String forged = "Authentication-Results: mx.b.example; auth-hmac=pass reason=\"verified\"\r\n"
                + "Authentication-Results: MX.B.EXAMPLE (forged) 1; auth-hmac=pass\r\n"
                + "Authentication-Results: (relay) mx.b.example; auth-hmac=pass\r\n"
                + "Authentication-Results: \"mx.b.example\"; auth-hmac=pass\r\n"
                + "Authentication-Results: mx.upstream.example; spf=pass\r\n";
        FakeMail mail = Mails.arrivedRaw(forged + Mails.message("alice@a.example", "bob@b.example", "hi", "unsigned"),
                "alice@a.example", ACCEPTED_AT, "bob@b.example");

        matcher.match(mail);

        assertThat(mail.getMessage().getHeader("Authentication-Results"))
                .containsExactly("mx.b.example; auth-hmac=none reason=\"no-signature\" header.from=a.example", "mx.upstream.example; spf=pass");
        assertThat(metrics.countFor(Metrics.AR_STRIPPED)).isEqualTo(1);
    }

    @Test
    void stripsForgedResultsFromNonPartnerMailToo() throws Exception {
        FakeMail mail = Mails.arrivedRaw("Authentication-Results: mx.b.example; auth-hmac=pass\r\n"
                + Mails.message("x@elsewhere.example", "bob@b.example", "hi", "unsigned"), "x@elsewhere.example", ACCEPTED_AT, "bob@b.example");

        matcher.match(mail);

        assertThat(mail.getMessage().getHeader("Authentication-Results")).isNull();
    }

    @Test
    void givesPermerrorForAnUnsupportedVersion() throws Exception {
        String sent = Mails.text(signedByA("bob@b.example").getMessage()).replaceFirst("v=1;", "v=2;");
        FakeMail mail = Mails.arrivedRaw(sent, "alice@a.example", ACCEPTED_AT, "bob@b.example");

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(mail).result()).isEqualTo(AuthResult.PERMERROR);
    }

    @Test
    void givesPermerrorForAMalformedSignatureHeader() throws Exception {
        FakeMail mail = Mails.arrivedRaw("X-Auth-HMAC: v=1; a=hmac-sha256; d=a.example; this is not a tag list\r\n"
                + Mails.message("alice@a.example", "bob@b.example", "hi", "x"), "alice@a.example", ACCEPTED_AT, "bob@b.example");

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(mail).shortForm()).isEqualTo("permerror malformed");
    }

    @Test
    void failsAsDuplicateHeaderWhenASecondFromWasAddedAfterSigning() throws Exception {
        String sent = "From: ceo@a.example\r\n" + Mails.text(signedByA("bob@b.example").getMessage());
        FakeMail mail = Mails.arrivedRaw(sent, "alice@a.example", ACCEPTED_AT, "bob@b.example");

        assertThat(matcher.match(mail)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(mail).shortForm()).isEqualTo("fail duplicate-header");
    }

    @Test
    void failOnDecidesWhichResultsMatch() throws Exception {
        AuthHmacFailed onlyFail = matcher("partner.a.example.failOn=fail");
        FakeMail unsigned = Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "hi", "unsigned"),
                "alice@a.example", ACCEPTED_AT, "bob@b.example");

        assertThat(onlyFail.match(unsigned)).isEmpty();
        assertThat(verdictOf(unsigned).result()).isEqualTo(AuthResult.NONE);
    }

    @Test
    void anExplicitFailOnMatchesTheResultsItNames() throws Exception {
        // given B configured to quarantine only unsigned partner mail, and A's genuine mail replayed
        AuthHmacFailed onlyNone = matcher("partner.a.example.failOn=none");
        AuthHmacFailed failAndNone = matcher("partner.a.example.failOn=fail, none");
        FakeMail unsigned = Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "hi", "unsigned"),
                "alice@a.example", ACCEPTED_AT, "bob@b.example");
        FakeMail sent = signedByA("bob@b.example");
        FakeMail first = Mails.arrived(sent, ACCEPTED_AT);
        FakeMail replayed = Mails.arrived(sent, ACCEPTED_AT.plusSeconds(60));

        // then each matcher matches exactly the results it names
        assertThat(onlyNone.match(unsigned)).containsExactly(Mails.address("bob@b.example"));
        assertThat(failAndNone.match(first)).isEmpty();
        assertThat(failAndNone.match(replayed)).containsExactly(Mails.address("bob@b.example"));
        assertThat(verdictOf(replayed).shortForm()).isEqualTo("fail replay");
    }

    @Test
    void lookAlikeHeaderFieldsAreNeitherSignaturesNorMalformedSignatures() throws Exception {
        // given the quarantine's own mark and an X-Auth field, once in unsigned partner mail and once in mail A signs
        String lookAlikes = "X-Auth-HMAC-Status: pass verified\r\nX-Auth: v=1; a=hmac-sha256; d=a.example\r\n"
                + "X-Auth-HMACx: v=1\r\n";
        FakeMail unsigned = Mails.arrivedRaw(lookAlikes + Mails.message("alice@a.example", "bob@b.example", "hi", "unsigned"),
                "alice@a.example", ACCEPTED_AT, "bob@b.example");
        FakeMail signed = Mails.arrived(signedByA(lookAlikes + Mails.message("alice@a.example", "bob@b.example", "hi", "signed"),
                SIGNED_AT, senderVault, "a.example", "bob@b.example"), ACCEPTED_AT);

        // when B verifies them
        matcher.match(unsigned);
        assertThat(matcher.match(signed)).isEmpty();

        // then the unsigned one has no signature (not a malformed one), and the signed one passes
        assertThat(verdictOf(unsigned).shortForm()).isEqualTo("none no-signature");
        assertThat(verdictOf(signed).shortForm()).isEqualTo("pass verified");
    }

    /**
     * The verifier refuses a recipient that no r= could name (IllegalArgumentException before any work), and the
     * matcher would then give every recipient temperror. James's MailAddress refuses each such address first, so a
     * mail never carries one: odd addresses James does accept get a verdict of their own, and the others keep theirs.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"postmaster@[192.0.2.1]", "\"a b\"@b.example", "bob@localhost",
            "bob@xn--zz.example", "bob@b_x.example", "bob@-b.example", "bob@b..example", "bob@b\u00fc.example",
            "postmaster@[IPv6:2001:db8::1]", "bob@b.example."})
    void anOddRecipientNeverMakesTheOtherRecipientsTemperror(String odd) throws Exception {
        // given A's genuine mail for bob, and an odd address beside bob in the envelope, where James accepts one
        org.apache.james.core.MailAddress oddRecipient;
        try {
            oddRecipient = new org.apache.james.core.MailAddress(odd);
        } catch (jakarta.mail.internet.AddressException | IllegalArgumentException refused) {
            return; // James refuses it at RCPT TO: no mail carries it
        }
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);
        mail.setRecipients(java.util.List.of(Mails.address("bob@b.example"), oddRecipient));

        // when B verifies it
        java.util.Collection<org.apache.james.core.MailAddress> failing = matcher.match(mail);

        // then bob passes and the odd address fails now (r= names another domain, or rc=1 is used up by bob), not on
        // every retry
        assertThat(failing).containsExactly(oddRecipient);
        assertThat(RecordedVerdict.perRecipient(mail))
                .hasEntrySatisfying(Mails.address("bob@b.example"), v -> assertThat(v.shortForm()).isEqualTo("pass verified"))
                .hasEntrySatisfying(oddRecipient, v -> assertThat(v.shortForm()).isIn("fail wrong-recipient", "fail replay"));
    }

    @Nested
    class Temperror {
        @Test
        void aRecipientThatPassedBeforeTheKeySourceWentDownMidMailIsNotFailedAsAReplayOnTheRetry() throws Exception {
            // given one mail for bob@b.example and dave@d.example (B hosts both) with one signature per domain, as a
            // signer that does not split per domain sends it: A's two copies, dave's signature put on bob's copy
            InMemoryKeyVault sender = new InMemoryKeyVault()
                    .add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"))
                    .add("kad1", "partner-d", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-d"));
            receiverVault.add("kad1", "partner-a", KeyStatus.ACTIVE, InMemoryKeyVault.primary("a-d"));
            SignWithAuthHmac signer = new SignWithAuthHmac(sender, new RecordingMetricFactory(), Clock.fixed(SIGNED_AT, ZoneOffset.UTC),
                    TestPartners.of("partner.b.example.keyset=partner-b", "partner.d.example.keyset=partner-d"));
            FakeMailContext spool = FakeMailContext.defaultContext();
            signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(spool)
                    .setProperty("signingDomain", "a.example").build());
            FakeMail sent = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "report", "numbers"),
                    "alice@a.example", "bob@b.example", "dave@d.example");
            signer.service(sent);
            String davesSignature = spool.getSentMails().get(0).getMsg().getHeader("X-Auth-HMAC")[0];
            sent.getMessage().addHeader("X-Auth-HMAC", davesSignature);
            sent.setRecipients(java.util.List.of(Mails.address("bob@b.example"), Mails.address("dave@d.example")));
            FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);

            // when B's key source answers bob's signature and then goes down before dave's
            receiverVault.goDownAfter(1);
            assertThatThrownBy(() -> matcher.match(mail)).isInstanceOf(TemporaryVerificationFailure.class)
                    .hasMessageContaining("key-unavailable");
            // and the retry runs once it is back
            receiverVault.comeBack();
            mail.setLastUpdated(Date.from(ACCEPTED_AT.plus(Duration.ofMinutes(10))));

            // then both pass: bob's pass from the first attempt is kept, not checked again (it would be a replay)
            assertThat(matcher.match(mail)).isEmpty();
            assertThat(RecordedVerdict.perRecipient(mail)).hasEntrySatisfying(Mails.address("bob@b.example"),
                            v -> assertThat(v.shortForm()).isEqualTo("pass verified"))
                    .hasEntrySatisfying(Mails.address("dave@d.example"), v -> assertThat(v.shortForm()).isEqualTo("pass verified"));
            assertThat(receiverVault.derivations()).as("bob's key once, dave's once").isEqualTo(2);
        }

        @Test
        void theReplayCacheSeesTheMailsOwnTokenOnEveryAttemptAndAnotherCopyAnother() throws Exception {
            // a cache whose first answer is lost (as a Redis timeout after the script ran), noting the token it is given
            List<String> tokens = new ArrayList<>();
            int[] calls = {0};
            org.authhmac.protocol.ReplayCache cache = (signature, replayId, maxRecipients, expiresAt) -> {
                tokens.add(ReplayAttempt.current().orElse("none"));
                if (calls[0]++ == 0) {
                    throw new org.authhmac.protocol.ReplayCacheException("timeout");
                }
                return org.authhmac.protocol.ReplayCache.Outcome.FRESH;
            };
            AuthHmacFailed m = new AuthHmacFailed(receiverVault, cache, metrics, TestPartners.of(PARTNERS.toArray(String[]::new)));
            m.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").mailetContext(FakeMailContext.defaultContext()).build());
            FakeMail sent = signedByA("bob@b.example");
            FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);
            FakeMail copy = Mails.arrived(sent, ACCEPTED_AT.plusSeconds(5));

            assertThatThrownBy(() -> m.match(mail)).isInstanceOf(TemporaryVerificationFailure.class);
            assertThat(m.match(copy)).isEmpty();
            assertThat(m.match(mail)).isEmpty();

            assertThat(tokens).hasSize(3).allMatch(t -> t.matches("[0-9a-f]{16}"));
            assertThat(tokens.get(2)).as("the retry's token").isEqualTo(tokens.get(0));
            assertThat(tokens.get(1)).as("another copy's token").isNotEqualTo(tokens.get(0));
            assertThat(mail.getAttribute(ReplayAttempt.ATTRIBUTE)).hasValueSatisfying(
                    a -> assertThat(a.getValue().value()).isEqualTo(tokens.get(0)));
            assertThat(ReplayAttempt.current()).as("nothing left on the thread").isEmpty();
        }

        @Test
        void throwsSoThatTheMailWaitsAndIsNeverMatchedAsFailing() throws Exception {
            FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);
            receiverVault.goDown();

            assertThatThrownBy(() -> matcher.match(mail)).isInstanceOf(TemporaryVerificationFailure.class)
                    .hasMessageContaining("key-unavailable");

            assertThat(mail.getAttribute(AuthHmacAttributes.RESULT)).isEmpty();
            assertThat(mail.getMessage().getHeader("Authentication-Results")).isNull();
            assertThat(mail.getAttribute(AuthHmacAttributes.TEMPERROR_ATTEMPTS))
                    .hasValueSatisfying(a -> assertThat(a.getValue()).isEqualTo(AttributeValue.of(1)));
            assertThat(metrics.countFor(Metrics.VERIFY_RESULT + "temperror")).isEqualTo(1);
        }

        @Test
        void countsTheAttemptsThatEndedInTemperror() throws Exception {
            FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);
            receiverVault.goDown();

            for (int attempt = 1; attempt <= 3; attempt++) {
                int counted = attempt;
                assertThatThrownBy(() -> matcher.match(mail)).isInstanceOf(TemporaryVerificationFailure.class);
                assertThat(mail.getAttribute(AuthHmacAttributes.TEMPERROR_ATTEMPTS)).as("attempt " + attempt)
                        .hasValueSatisfying(a -> assertThat(a.getValue()).isEqualTo(AttributeValue.of(counted)));
            }
        }

        @Test
        void theRetriedMailPassesAgainstItsAcceptanceTimeEvenIfItWaitedLong() throws Exception {
            FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);
            receiverVault.goDown();
            assertThatThrownBy(() -> matcher.match(mail)).isInstanceOf(TemporaryVerificationFailure.class);

            // An hour in the retry queue, and something in between touched lastUpdated: the pinned time counts.
            mail.setLastUpdated(Date.from(ACCEPTED_AT.plus(Duration.ofHours(1))));
            receiverVault.comeBack();

            assertThat(matcher.match(mail)).isEmpty();
            assertThat(verdictOf(mail).result()).isEqualTo(AuthResult.PASS);
        }

        @Test
        void aRecipientThatPassedBeforeTheOutageIsNotCheckedAgainAsAReplay() throws Exception {
            FakeMail sent = signedByA("bob@b.example");
            FakeMail mail = Mails.arrived(sent, ACCEPTED_AT);
            // bob passed on the first attempt (another recipient hit the outage); the retry must reuse that pass.
            Map<String, String> recorded = Map.of("bob@b.example", "pass verified s=ka1 d=a.example t=" + SIGNED_AT.getEpochSecond());
            mail.setAttribute(new org.apache.mailet.Attribute(AuthHmacAttributes.RECIPIENT_VERDICTS,
                    AttributeValue.of(Map.of("bob@b.example", AttributeValue.of(recorded.get("bob@b.example"))))));
            mail.setAttribute(new org.apache.mailet.Attribute(AuthHmacAttributes.ACCEPTED_AT, AttributeValue.of(ACCEPTED_AT.toEpochMilli())));
            receiverVault.goDown();

            assertThat(matcher.match(mail)).isEmpty();
            assertThat(receiverVault.derivations()).isZero();
            // the pass recorded during the failed attempt is announced now that the mail is decided
            assertThat(verdictOf(mail).result()).isEqualTo(AuthResult.PASS);
            assertThat(mail.getMessage().getHeader("Authentication-Results"))
                    .containsExactly("mx.b.example; auth-hmac=pass reason=\"verified\" header.from=a.example header.d=a.example header.s=ka1");
        }
    }

    @Test
    void givesUnknownKeyWithoutDerivingAKeyWhenTheSignatureHasAnotherPeriodLengthThanConfigured() throws Exception {
        // given: A signs with the default 900 s periods; B has agreed 3600 s with A
        AuthHmacFailed hourly = matcher("partner.a.example.periodSeconds=3600");
        FakeMail mail = Mails.arrived(signedByA("bob@b.example"), ACCEPTED_AT);

        // when
        assertThat(hourly.match(mail)).hasSize(1);

        // then
        RecordedVerdict v = verdictOf(mail);
        assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
        assertThat(v.reason()).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(receiverVault.derivations()).isZero();
    }

    /**
     * B's partners agreed on different terms: a.example signs hourly periods and only a failing signature counts as
     * failure; c.example signs ten-minute periods and an unsigned or broken mail counts too. c.example comes first in
     * the file, so that a mail verified under the file's first partner instead of its author's shows.
     */
    @Nested
    class EachPartnersOwnTerms {
        static final String[] TWO_PARTNERS = {"authservId=mx.b.example",
                "partner.c.example.keyset=partner-c", "partner.c.example.periodSeconds=600", "partner.c.example.failOn=none,permerror",
                "partner.a.example.keyset=partner-a", "partner.a.example.periodSeconds=3600", "partner.a.example.failOn=fail"};

        AuthHmacFailed twoPartners;

        @BeforeEach
        void setUp() throws MessagingException {
            twoPartners = matcher(TestPartners.of(TWO_PARTNERS));
        }

        /** A mail from {@code domain}'s alice, signed by her server for b.example with this period length. */
        FakeMail signedWithPeriod(String domain, InMemoryKeyVault vault, int periodSeconds) throws Exception {
            PartnerPolicies signersPartners = TestPartners.of("partner.b.example.keyset=partner-b",
                    "partner.b.example.periodSeconds=" + periodSeconds);
            FakeMail sent = signedBy(signersPartners,
                    Mails.message("alice@" + domain, "bob@b.example", "report", "numbers"), SIGNED_AT, vault, domain, "bob@b.example");
            assertThat(sent.getMessage().getHeader("X-Auth-HMAC")).singleElement().asString().contains("p=" + periodSeconds + ";");
            return Mails.arrived(sent, ACCEPTED_AT);
        }

        @Test
        void aMailClaimingAPartnerIsVerifiedWithThatPartnersPeriodLength() throws Exception {
            FakeMail aHourly = signedWithPeriod("a.example", senderVault, 3600);
            FakeMail cTenMinutes = signedWithPeriod("c.example", otherPartnerVault, 600);

            assertThat(twoPartners.match(aHourly)).isEmpty();
            assertThat(twoPartners.match(cTenMinutes)).isEmpty();

            assertThat(verdictOf(aHourly).shortForm()).isEqualTo("pass verified");
            assertThat(verdictOf(cTenMinutes).shortForm()).isEqualTo("pass verified");
        }

        @Test
        void aSignatureMadeWithTheOtherPartnersPeriodLengthDoesNotPassAndIsMatchedOnTheClaimedPartnersFailOn() throws Exception {
            FakeMail aTenMinutes = signedWithPeriod("a.example", senderVault, 600);
            FakeMail cHourly = signedWithPeriod("c.example", otherPartnerVault, 3600);

            // a.example's failOn is fail only: its permerror is recorded, not matched; c.example's includes permerror
            assertThat(twoPartners.match(aTenMinutes)).isEmpty();
            assertThat(twoPartners.match(cHourly)).containsExactly(Mails.address("bob@b.example"));

            assertThat(verdictOf(aTenMinutes).shortForm()).isEqualTo("permerror unknown-key");
            assertThat(verdictOf(cHourly).shortForm()).isEqualTo("permerror unknown-key");
            assertThat(receiverVault.derivations()).as("no key derived for a period length nobody agreed").isZero();
        }

        @Test
        void anUnsignedMailIsMatchedOnTheFailOnOfThePartnerItClaims() throws Exception {
            FakeMail fromA = Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "hi", "unsigned"),
                    "alice@a.example", ACCEPTED_AT, "bob@b.example");
            FakeMail fromC = Mails.arrivedRaw(Mails.message("carol@c.example", "bob@b.example", "hi", "unsigned"),
                    "carol@c.example", ACCEPTED_AT, "bob@b.example");

            assertThat(twoPartners.match(fromA)).isEmpty();
            assertThat(twoPartners.match(fromC)).containsExactly(Mails.address("bob@b.example"));

            assertThat(verdictOf(fromA).shortForm()).isEqualTo("none no-signature");
            assertThat(verdictOf(fromC).shortForm()).isEqualTo("none no-signature");
        }

        @Test
        void aFromNamingOnePartnerWithTheEnvelopeSenderOfTheOtherIsMatchedOnTheUnionOfTheirFailOn() throws Exception {
            // given unsigned mail whose From is a.example's (none is not a failure there) sent as c.example's (it is there)
            FakeMail mixed = Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "hi", "unsigned"),
                    "bounce@c.example", ACCEPTED_AT, "bob@b.example");

            assertThat(twoPartners.match(mixed)).containsExactly(Mails.address("bob@b.example"));
            assertThat(verdictOf(mixed).shortForm()).isEqualTo("none no-signature");
        }

        @Test
        void aSignedMailOfOnePartnerSentAsTheOtherIsVerifiedUnderTheAuthorsTerms() throws Exception {
            // given a.example's hourly signature on a mail whose envelope sender is c.example's
            FakeMail sent = Mails.arrivedRaw(Mails.text(signedWithPeriod("a.example", senderVault, 3600).getMessage()),
                    "bounce@c.example", ACCEPTED_AT, "bob@b.example");

            assertThat(twoPartners.match(sent)).isEmpty();
            assertThat(verdictOf(sent).shortForm()).isEqualTo("pass verified");
        }

        @Test
        void anUnsignedMailWithTwoFromFieldsOfTheStrictPartnerSentAsTheLaxOneIsMatchedOnEveryPartnersFailOn() throws Exception {
            // given two From fields naming c.example (none counts as failure there), sent as a.example (it does not):
            // the From is not read, so only the envelope sender's partner is claimed
            String raw = "From: ceo@c.example\r\n" + Mails.message("ceo@c.example", "bob@b.example", "wire the money", "now");
            FakeMail forged = Mails.arrivedRaw(raw, "bounce@a.example", ACCEPTED_AT, "bob@b.example");

            assertThat(twoPartners.match(forged)).containsExactly(Mails.address("bob@b.example"));
            assertThat(verdictOf(forged).result()).isEqualTo(AuthResult.NONE);
        }

        @Test
        void anUnsignedMailWithAFromTooOddToParseNamingTheStrictPartnerSentAsTheLaxOneIsMatchedOnEveryPartnersFailOn()
                throws Exception {
            // given a From over the parse bound (more than 16 double quotes) that mail clients show as c.example's CEO
            String from = "\"The \\\"CEO\\\" \\\"of\\\" \\\"C\\\" \\\"Corp\\\" \\\"and\\\" \\\"more\\\" \\\"x\\\" \\\"y\\\"\" <ceo@c.example>";
            assertThat(from.chars().filter(c -> c == '"').count()).isGreaterThan(PartnerClaim.MAX_QUOTES);
            FakeMail forged = Mails.arrivedRaw(Mails.message(from, "bob@b.example", "wire the money", "now"),
                    "bounce@a.example", ACCEPTED_AT, "bob@b.example");

            assertThat(twoPartners.match(forged)).containsExactly(Mails.address("bob@b.example"));
            assertThat(verdictOf(forged).result()).isEqualTo(AuthResult.NONE);
        }

        @Test
        void anUnsignedMailWithoutAuthorThatNamesBothPartnersIsMatchedOnEveryPartnersFailOn() throws Exception {
            // given a From of two mailboxes, one of each partner: no author, so nothing can pass
            FakeMail twoAuthors = Mails.arrivedRaw(Mails.message("ceo@c.example, alice@a.example", "bob@b.example", "hi", "x"),
                    "bounce@a.example", ACCEPTED_AT, "bob@b.example");

            assertThat(twoPartners.match(twoAuthors)).containsExactly(Mails.address("bob@b.example"));
        }
    }

    @Nested
    class BadConfiguration {
        @Test
        void aConditionLeftFromAnOlderConfigurationStopsTheStartUpNamingIt() {
            assertThatThrownBy(() -> matcher(TestPartners.of(PARTNERS.toArray(String[]::new)),
                    "partners=a.example:partner-a; authservId=mx.b.example"))
                    .isInstanceOf(MessagingException.class)
                    .hasMessageContaining("'condition'", "takes no condition", "auth-hmac-partners.properties");
        }

        @Test
        void aPartnerFileTheReaderRefusesStopsTheStartUpNamingTheKey(@TempDir Path conf) throws Exception {
            TestPartners.write(conf, "partner.a.example.keyset=partner-a", "partner.a.example.failOn=fail,temperror");
            AuthHmacFailed m = new AuthHmacFailed(receiverVault, new SharedReplayCache(new InMemoryReplayCache(10, Clock.systemUTC())),
                    metrics, new PartnerPolicyFile(TestPartners.provider(conf)), new NeededKeysets());

            assertThatThrownBy(() -> m.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed")
                    .mailetContext(FakeMailContext.defaultContext()).build()))
                    .isInstanceOf(MessagingException.class)
                    .hasMessageContaining("conf/auth-hmac-partners.properties", "'partner.a.example.failOn'", "temperror");
        }

        @Test
        void theStartUpChecksTheReplayCachesSizeSoThatALeftoverSystemPropertyStopsIt(@TempDir Path conf) throws Exception {
            TestPartners.write(conf, "partner.a.example.keyset=partner-a");
            PartnerPolicyFile file = new PartnerPolicyFile(TestPartners.provider(conf));
            AuthHmacFailed m = new AuthHmacFailed(receiverVault, new SharedReplayCache(file), metrics, file, new NeededKeysets());
            System.setProperty("authhmac.replayCache.capacity", "100");
            try {
                assertThatThrownBy(() -> m.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed")
                        .mailetContext(FakeMailContext.defaultContext()).build()))
                        .isInstanceOf(MessagingException.class)
                        .hasMessageContaining("'authhmac.replayCache.capacity'", "replayCache.capacity");
            } finally {
                System.clearProperty("authhmac.replayCache.capacity");
            }
        }
    }

    @Test
    void aHostWhoseOwnNameDoesNotResolveIsLocalhost() {
        assertThat(AuthHmacFailed.localHostName(() -> {
            throw new UnknownHostException("mx: Name or service not known");
        })).isEqualTo("localhost");
    }
}
