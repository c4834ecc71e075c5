package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.james.testing.Mails.address;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.authhmac.james.PartnerKeys;
import org.authhmac.james.Metrics;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class RecipientVerificationTest {
    static final Instant ACCEPTED_AT = Instant.parse("2026-11-22T02:00:05Z");
    static final MailAddress BOB = address("bob@b.example");
    static final MailAddress CAROL = address("carol@b.example");

    final RecordingMetricFactory metricFactory = new RecordingMetricFactory();
    final Metrics metrics = new Metrics(metricFactory);
    final RecipientVerification verification = new RecipientVerification(new Verifier(VerifierSettings.defaults(),
            new PartnerKeys(new InMemoryKeyVault(), Map.of("a.example", "partner-a"), metrics),
            new InMemoryReplayCache(1000, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC))), metrics);

    /** A message whose writeTo fails as given: a spool read error, or MIME jakarta.mail cannot write back. */
    static FakeMail writeToFails(Exception failure) throws MessagingException {
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
        return FakeMail.builder().name("odd").mimeMessage(message).sender("alice@a.example")
                .recipients(BOB, CAROL).state("auth-hmac-verify").build();
    }

    @Test
    void anUnsignedPartnerMailIsDecidedAsNoneForEveryPendingRecipientAndCounted() throws Exception {
        // given
        FakeMail mail = Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "hi", "x"), "alice@a.example",
                ACCEPTED_AT, "bob@b.example", "carol@b.example");

        // when
        RecipientVerification.Attempt attempt = verification.verify(mail, List.of(BOB, CAROL), Optional.of("a.example"), ACCEPTED_AT);

        // then
        assertThat(attempt).isInstanceOf(RecipientVerification.Decided.class);
        assertThat(attempt.decided()).containsOnlyKeys(BOB, CAROL);
        assertThat(attempt.decided().values()).allSatisfy(v -> assertThat(v.shortForm()).isEqualTo("none no-signature"));
        assertThat(metricFactory.countFor(Metrics.VERIFY_RESULT + "none")).isEqualTo(2);
        assertThat(metricFactory.executionTimesFor(Metrics.VERIFY_TIMER)).hasSize(1);
    }

    @Test
    void onlyThePendingRecipientsGetAVerdict() throws Exception {
        FakeMail mail = Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "hi", "x"), "alice@a.example",
                ACCEPTED_AT, "bob@b.example", "carol@b.example");

        RecipientVerification.Attempt attempt = verification.verify(mail, List.of(CAROL), Optional.of("a.example"), ACCEPTED_AT);

        assertThat(attempt).isInstanceOf(RecipientVerification.Decided.class);
        assertThat(attempt.decided()).containsOnlyKeys(CAROL);
        assertThat(metricFactory.countFor(Metrics.VERIFY_RESULT + "none")).isEqualTo(1);
    }

    @Test
    void aMessageTheSpoolCannotReadBackIsATemperrorForEveryRecipient() throws Exception {
        for (Exception failure : List.of(new IOException("spool read error"),
                new MessagingException("cannot write", new IOException("spool read error")))) {
            RecipientVerification.Attempt attempt = verification.verify(writeToFails(failure), List.of(BOB, CAROL),
                    Optional.of("a.example"), ACCEPTED_AT);

            assertThat(attempt).as(failure.toString()).isInstanceOfSatisfying(RecipientVerification.TempError.class, t ->
                    assertThat(t.detail()).startsWith("internal-error: verification could not run").contains("spool read error"));
            assertThat(attempt.decided()).isEmpty();
        }
        assertThat(metricFactory.countFor(Metrics.VERIFY_RESULT + "temperror")).isEqualTo(4);
    }

    @Test
    void mimeThatCannotBeWrittenBackIsAPermerrorMalformedAtOnce() throws Exception {
        RecipientVerification.Attempt attempt = verification.verify(
                writeToFails(new MessagingException("Missing start boundary")), List.of(BOB, CAROL), Optional.of("a.example"), ACCEPTED_AT);

        assertThat(attempt).isInstanceOf(RecipientVerification.Decided.class);
        assertThat(attempt.decided().values()).allSatisfy(v -> {
            assertThat(v.shortForm()).isEqualTo("permerror malformed");
            assertThat(v.detail()).contains("Missing start boundary");
        });
    }

    @Nested
    class Alignment {
        final SignatureHeader signedForA = new SignatureHeader(1, SignatureHeader.ALGORITHM, "a.example", "ka1",
                ACCEPTED_AT.getEpochSecond(), 900, SignatureHeader.DEFAULT_CANONICALIZATION, List.of("from"), "bh",
                "bob@b.example", "0123456789abcdef", "mac", 1);

        @Test
        void aPassForTheAuthorDomainStands() {
            Verdict pass = new Verdict.Pass(signedForA);

            assertThat(RecipientVerification.aligned(pass, Optional.of("a.example"))).isSameAs(pass);
        }

        @Test
        void aPassForAnotherDomainThanTheAuthorsIsAFromMismatch() {
            Verdict v = RecipientVerification.aligned(new Verdict.Pass(signedForA), Optional.of("c.example"));

            assertThat(v.result()).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.FROM_MISMATCH);
            assertThat(v.signature()).contains(signedForA);
            assertThat(v.detail()).isEqualTo("signed for d=a.example but the From domain is c.example");
        }

        @Test
        void aPassForAFromThatParsersReadDifferentlyIsAFromMismatch() {
            Verdict v = RecipientVerification.aligned(new Verdict.Pass(signedForA), Optional.empty());

            assertThat(v.reason()).isEqualTo(Reason.FROM_MISMATCH);
            assertThat(v.detail()).isEqualTo("signed for d=a.example but mail clients' parsers do not read the From field as one mailbox in it");
        }

        @Test
        void otherVerdictsPassThroughUnchanged() {
            Verdict fail = new Verdict.Fail(Reason.BAD_MAC, Optional.of(signedForA), "MAC does not match");

            assertThat(RecipientVerification.aligned(fail, Optional.empty())).isSameAs(fail);
        }

        @Test
        void aRecipientTheVerifierGaveNoVerdictIsATemperror() {
            Verdict v = RecipientVerification.aligned(null, Optional.of("a.example"));

            assertThat(v.result()).isEqualTo(AuthResult.TEMPERROR);
            assertThat(v.reason()).isEqualTo(Reason.INTERNAL_ERROR);
        }
    }
}
