package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.base.test.FakeMail;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.testing.Mails;
import org.junit.jupiter.api.Test;

class AcceptanceTimeTest {
    static final Instant ACCEPTED = Instant.parse("2026-11-22T02:00:05Z");
    static final Instant NOW = Instant.parse("2026-11-22T09:00:00Z");

    final AcceptanceTime acceptanceTime = new AcceptanceTime(Clock.fixed(NOW, ZoneOffset.UTC));

    static FakeMail acceptedAt(Instant at) throws Exception {
        return Mails.arrivedRaw(Mails.message("alice@a.example", "bob@b.example", "hi", "x"), "alice@a.example", at, "bob@b.example");
    }

    @Test
    void onFirstSightPinsTheTimeJamesAcceptedTheMail() throws Exception {
        FakeMail mail = acceptedAt(ACCEPTED);

        assertThat(acceptanceTime.pin(mail)).isEqualTo(ACCEPTED);
        assertThat(mail.getAttribute(AuthHmacAttributes.ACCEPTED_AT)).flatMap(a -> a.getValue().valueAs(Long.class))
                .contains(ACCEPTED.toEpochMilli());
    }

    @Test
    void aRetryKeepsThePinnedTimeThoughJamesUpdatedTheMailSince() throws Exception {
        // given: pinned on the first attempt, then re-queued hours later
        FakeMail mail = acceptedAt(ACCEPTED);
        acceptanceTime.pin(mail);
        mail.setLastUpdated(Date.from(NOW));

        // when / then
        assertThat(acceptanceTime.pin(mail)).isEqualTo(ACCEPTED);
    }

    @Test
    void aMailWithoutAnUpdateTimeIsAcceptedNowByTheClock() throws Exception {
        FakeMail mail = acceptedAt(ACCEPTED);
        mail.setLastUpdated(null);

        assertThat(acceptanceTime.pin(mail)).isEqualTo(NOW);
        assertThat(mail.getAttribute(AuthHmacAttributes.ACCEPTED_AT)).flatMap(a -> a.getValue().valueAs(Long.class)).contains(NOW.toEpochMilli());
    }

    @Test
    void isPinnedOnlyOnceTheAttributeIsThere() throws Exception {
        FakeMail mail = acceptedAt(ACCEPTED);
        assertThat(AcceptanceTime.isPinned(mail)).isFalse();

        mail.setAttribute(new Attribute(AuthHmacAttributes.ACCEPTED_AT, AttributeValue.of(ACCEPTED.toEpochMilli())));

        assertThat(AcceptanceTime.isPinned(mail)).isTrue();
    }
}
