package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.james.testing.Mails.address;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.mailet.PerRecipientHeaders;
import org.apache.mailet.base.test.FakeMail;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.junit.jupiter.api.Test;

class ResultsAnnouncementTest {
    static final MailAddress BOB = address("bob@b.example");
    static final MailAddress CAROL = address("carol@b.example");
    static final RecordedVerdict PASS = RecipientVerdictsTest.PASS;
    static final RecordedVerdict FAIL = RecipientVerdictsTest.FAIL;
    static final RecordedVerdict NONE = new RecordedVerdict(AuthResult.NONE, Reason.NO_SIGNATURE, Optional.empty(),
            Optional.empty(), Optional.empty(), "no signature");

    static final Set<AuthResult> FAIL_ON = Set.of(AuthResult.FAIL, AuthResult.NONE);

    final ResultsAnnouncement announcement = new ResultsAnnouncement("mx.b.example");

    static List<String> perRecipientFields(FakeMail mail, MailAddress rcpt) {
        return mail.getPerRecipientSpecificHeaders().getHeadersForRecipient(rcpt).stream()
                .filter(h -> h.getName().equals("Authentication-Results")).map(PerRecipientHeaders.Header::getValue).toList();
    }

    @Test
    void theDecisiveVerdictIsTheFirstThatCountsAsFailure() {
        assertThat(ResultsAnnouncement.decisive(List.of(PASS, NONE, FAIL), FAIL_ON)).isSameAs(NONE);
    }

    @Test
    void theDecisiveVerdictFollowsTheFailOnOfTheMail() {
        assertThat(ResultsAnnouncement.decisive(List.of(PASS, NONE, FAIL), Set.of(AuthResult.FAIL))).isSameAs(FAIL);
        assertThat(ResultsAnnouncement.decisive(List.of(PASS, NONE, FAIL), Set.of(AuthResult.PERMERROR))).isSameAs(PASS);
    }

    @Test
    void withoutAFailureTheDecisiveVerdictIsTheFirst() {
        RecordedVerdict otherPass = new RecordedVerdict(AuthResult.PASS, Reason.VERIFIED, Optional.of("ka2"),
                Optional.of("a.example"), Optional.empty(), "verified");

        assertThat(ResultsAnnouncement.decisive(List.of(otherPass, PASS), FAIL_ON)).isSameAs(otherPass);
    }

    @Test
    void recipientsThatAgreeShareOneFieldOnTopOfTheMessage() throws Exception {
        // given
        FakeMail mail = RecipientVerdictsTest.mailTo("bob@b.example", "carol@b.example");
        Map<MailAddress, RecordedVerdict> decided = Map.of(BOB, PASS, CAROL, PASS);

        // when
        announcement.announce(mail, decided, decided, Optional.of("a.example"), FAIL_ON);

        // then
        assertThat(mail.getMessage().getHeader("Authentication-Results")).singleElement()
                .satisfies(ar -> assertThat(ar).startsWith("mx.b.example; auth-hmac=pass").contains("header.from=a.example"));
        assertThat(perRecipientFields(mail, BOB)).isEmpty();
        assertThat(RecordedVerdict.readFrom(mail)).map(RecordedVerdict::shortForm).contains("pass verified");
    }

    @Test
    void recipientsThatDisagreeEachGetTheirOwnFieldAndTheFailureIsTheSummary() throws Exception {
        // given
        FakeMail mail = RecipientVerdictsTest.mailTo("bob@b.example", "carol@b.example");
        Map<MailAddress, RecordedVerdict> decided = new java.util.LinkedHashMap<>(Map.of(BOB, PASS));
        decided.put(CAROL, FAIL);

        // when
        announcement.announce(mail, decided, decided, Optional.of("a.example"), FAIL_ON);

        // then
        assertThat(mail.getMessage().getHeader("Authentication-Results")).isNull();
        assertThat(perRecipientFields(mail, BOB)).singleElement().satisfies(ar -> assertThat(ar).contains("auth-hmac=pass"));
        assertThat(perRecipientFields(mail, CAROL)).singleElement().satisfies(ar -> assertThat(ar).contains("auth-hmac=fail"));
        assertThat(RecordedVerdict.readFrom(mail)).map(RecordedVerdict::shortForm).contains("fail bad-mac");
    }

    @Test
    void aRecipientDecidedLaterGetsAFieldOfItsOwnAndTheEarlierOnesNoSecond() throws Exception {
        // given: bob was announced on an earlier pass through the matcher
        FakeMail mail = RecipientVerdictsTest.mailTo("bob@b.example", "carol@b.example");
        PASS.writeTo(mail);

        // when
        announcement.announce(mail, Map.of(BOB, PASS, CAROL, PASS), Map.of(CAROL, PASS), Optional.of("a.example"), FAIL_ON);

        // then
        assertThat(perRecipientFields(mail, CAROL)).hasSize(1);
        assertThat(perRecipientFields(mail, BOB)).isEmpty();
        assertThat(mail.getMessage().getHeader("Authentication-Results")).isNull();
    }

    @Test
    void theFirstAnnouncementAlsoNamesWhatPassedDuringAnAttemptThatEndedInTemperror() throws Exception {
        // given: bob passed before a temperror; nothing was announced yet, carol is now decided
        FakeMail mail = RecipientVerdictsTest.mailTo("bob@b.example", "carol@b.example");

        // when
        announcement.announce(mail, Map.of(BOB, PASS, CAROL, FAIL), Map.of(CAROL, FAIL), Optional.of("a.example"), FAIL_ON);

        // then
        assertThat(perRecipientFields(mail, BOB)).hasSize(1);
        assertThat(perRecipientFields(mail, CAROL)).hasSize(1);
    }

    @Test
    void nothingToAnnounceWritesNothing() throws Exception {
        FakeMail mail = RecipientVerdictsTest.mailTo("bob@b.example");

        announcement.announce(mail, Map.of(), Map.of(), Optional.of("a.example"), FAIL_ON);

        assertThat(mail.getAttribute(AuthHmacAttributes.RESULT)).isEmpty();
        assertThat(mail.getMessage().getHeader("Authentication-Results")).isNull();
    }
}
