package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.authhmac.james.testing.Mails.address;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.base.test.FakeMail;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.testing.Mails;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.junit.jupiter.api.Test;

class RecipientVerdictsTest {
    static final MailAddress BOB = address("bob@b.example");
    static final MailAddress CAROL = address("carol@b.example");
    static final MailAddress DAVE = address("dave@b.example");
    static final RecordedVerdict PASS = new RecordedVerdict(AuthResult.PASS, Reason.VERIFIED, Optional.of("ka1"),
            Optional.of("a.example"), Optional.of(Instant.parse("2026-11-22T02:00:00Z")), "verified");
    static final RecordedVerdict FAIL = new RecordedVerdict(AuthResult.FAIL, Reason.BAD_MAC, Optional.of("ka1"),
            Optional.of("a.example"), Optional.empty(), "MAC does not match");

    static FakeMail mailTo(String... recipients) throws Exception {
        return Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "hi", "x"), "alice@a.example",
                Instant.parse("2026-11-22T02:00:05Z"), recipients);
    }

    static Map<MailAddress, RecordedVerdict> verdicts(Object... recipientAndVerdict) {
        Map<MailAddress, RecordedVerdict> out = new LinkedHashMap<>();
        for (int i = 0; i < recipientAndVerdict.length; i += 2) {
            out.put((MailAddress) recipientAndVerdict[i], (RecordedVerdict) recipientAndVerdict[i + 1]);
        }
        return out;
    }

    static void recordedEarlier(FakeMail mail, MailAddress rcpt, RecordedVerdict v) {
        mail.setAttribute(new Attribute(AuthHmacAttributes.RECIPIENT_VERDICTS,
                AttributeValue.of(Map.<String, AttributeValue<?>>of(rcpt.asString(), AttributeValue.of(v.encode())))));
    }

    /**
     * Each attribute as James's WebAdmin shows it ({@code GET /mailRepositories/{repo}/mails/{key}?additionalFields=
     * attributes}): MailDto maps every attribute to {@code getValue().value().toString()} (James 3.8.1 and 3.9.0),
     * after the mail went through a repository, which stores attributes as JSON.
     */
    static Map<String, String> asWebAdminShowsThem(FakeMail mail) {
        Map<String, String> out = new LinkedHashMap<>();
        mail.attributes().forEach(a -> {
            AttributeValue<?> stored = AttributeValue.fromJson(a.getValue().toJson().orElseThrow());
            out.put(a.getName().asString(), stored.value().toString());
        });
        return out;
    }

    @Test
    void webAdminShowsTheRecordedVerdictsAsPlainTextNotAsJavaObjects() throws Exception {
        FakeMail mail = mailTo("bob@b.example", "carol@b.example");

        RecipientVerdicts.of(mail).record(new RecipientVerification.Decided(verdicts(BOB, FAIL, CAROL, PASS)));

        assertThat(asWebAdminShowsThem(mail).get(AuthHmacAttributes.RECIPIENT_VERDICTS.asString()))
                .doesNotContain("AttributeValue", "serializer")
                .isEqualTo("{\"bob@b.example\":\"fail bad-mac s=ka1 d=a.example\","
                        + "\"carol@b.example\":\"pass verified s=ka1 d=a.example t=1795312800\"}");
    }

    @Test
    void verdictsRecordedByAnEarlierVersionAsAMapAreStillRead() throws Exception {
        FakeMail mail = mailTo("bob@b.example", "carol@b.example");
        recordedEarlier(mail, BOB, PASS);

        assertThat(RecipientVerdicts.of(mail).pending()).containsExactly(CAROL);
    }

    @Test
    void anAddressWithQuotesAndSpacesSurvivesTheTextForm() throws Exception {
        MailAddress odd = new MailAddress("\"a \\\" b,c\"@b.example");
        FakeMail mail = mailTo("bob@b.example");

        RecipientVerdicts.of(mail).record(new RecipientVerification.Decided(verdicts(odd, FAIL, BOB, PASS)));

        assertThat(RecordedVerdict.perRecipient(mail)).containsOnlyKeys(odd, BOB);
        assertThat(RecordedVerdict.perRecipient(mail).get(odd).sameAs(FAIL)).isTrue();
    }

    @Test
    void aMailSeenForTheFirstTimeHasNoVerdictAndEveryRecipientIsPending() throws Exception {
        RecipientVerdicts verdicts = RecipientVerdicts.of(mailTo("bob@b.example", "carol@b.example"));

        assertThat(verdicts.isEmpty()).isTrue();
        assertThat(verdicts.pending()).containsExactly(BOB, CAROL);
    }

    @Test
    void onlyTheRecipientsWithoutARecordedVerdictArePending() throws Exception {
        FakeMail mail = mailTo("bob@b.example", "carol@b.example");
        recordedEarlier(mail, BOB, PASS);

        RecipientVerdicts verdicts = RecipientVerdicts.of(mail);

        assertThat(verdicts.isEmpty()).isFalse();
        assertThat(verdicts.pending()).containsExactly(CAROL);
    }

    @Test
    void aDecidedAttemptIsRecordedOnTheMailBesideTheEarlierVerdicts() throws Exception {
        // given
        FakeMail mail = mailTo("bob@b.example", "carol@b.example");
        recordedEarlier(mail, BOB, PASS);
        RecipientVerdicts verdicts = RecipientVerdicts.of(mail);

        // when
        Map<MailAddress, RecordedVerdict> fresh = verdicts.record(new RecipientVerification.Decided(verdicts(CAROL, FAIL)));

        // then
        assertThat(fresh).containsOnlyKeys(CAROL);
        assertThat(verdicts.pending()).isEmpty();
        assertThat(RecordedVerdict.perRecipient(mail)).containsOnlyKeys(BOB, CAROL);
        assertThat(RecordedVerdict.perRecipient(mail).get(CAROL).shortForm()).isEqualTo("fail bad-mac");
        assertThat(mail.getAttribute(AuthHmacAttributes.TEMPERROR_ATTEMPTS)).isEmpty();
    }

    @Test
    void afterATemperrorOnlyThePassesAreKeptTheAttemptIsCountedAndTheMailWaits() throws Exception {
        // given: bob passed, carol failed, dave got temperror (left out of the attempt's decided verdicts)
        FakeMail mail = mailTo("bob@b.example", "carol@b.example", "dave@b.example");
        RecipientVerdicts verdicts = RecipientVerdicts.of(mail);
        RecipientVerification.TempError attempt = new RecipientVerification.TempError(verdicts(BOB, PASS, CAROL, FAIL),
                "key-unavailable: vault down");

        // when / then
        assertThatThrownBy(() -> verdicts.record(attempt)).isInstanceOf(TemporaryVerificationFailure.class)
                .hasMessage("auth-hmac temperror, retry later (key-unavailable: vault down)");
        assertThat(RecordedVerdict.perRecipient(mail)).containsOnlyKeys(BOB);
        assertThat(verdicts.pending()).containsExactly(CAROL, DAVE);
        assertThat(mail.getAttribute(AuthHmacAttributes.TEMPERROR_ATTEMPTS)).flatMap(a -> a.getValue().valueAs(Integer.class)).contains(1);

        assertThatThrownBy(() -> RecipientVerdicts.of(mail).record(attempt)).isInstanceOf(TemporaryVerificationFailure.class);
        assertThat(mail.getAttribute(AuthHmacAttributes.TEMPERROR_ATTEMPTS)).flatMap(a -> a.getValue().valueAs(Integer.class)).contains(2);
    }

    @Test
    void aTemperrorWithNothingPassedStillRecordsAnEmptySetOfVerdicts() throws Exception {
        FakeMail mail = mailTo("bob@b.example");

        assertThatThrownBy(() -> RecipientVerdicts.of(mail).record(new RecipientVerification.TempError(Map.of(), "x: y")))
                .isInstanceOf(TemporaryVerificationFailure.class);

        assertThat(mail.getAttribute(AuthHmacAttributes.RECIPIENT_VERDICTS)).isPresent();
        assertThat(RecordedVerdict.perRecipient(mail)).isEmpty();
    }

    @Test
    void failingListsInTheMailsOrderTheRecipientsWhoseResultCountsAsFailure() throws Exception {
        // given
        FakeMail mail = mailTo("dave@b.example", "bob@b.example", "carol@b.example");
        RecipientVerdicts verdicts = RecipientVerdicts.of(mail);
        verdicts.record(new RecipientVerification.Decided(verdicts(CAROL, FAIL, BOB, PASS, DAVE, FAIL)));

        // when / then
        assertThat(verdicts.failing(Set.of(AuthResult.FAIL))).containsExactly(DAVE, CAROL);
        assertThat(verdicts.failing(Set.of(AuthResult.NONE))).isEmpty();
    }

    @Test
    void aRecipientWithoutAVerdictIsNeverFailing() throws Exception {
        RecipientVerdicts verdicts = RecipientVerdicts.of(mailTo("bob@b.example"));

        assertThat(verdicts.failing(Set.of(AuthResult.FAIL, AuthResult.PERMERROR, AuthResult.NONE))).isEmpty();
    }
}
