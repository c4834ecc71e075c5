package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.internet.MimeMessage;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.authhmac.james.Metrics;
import org.authhmac.james.testing.Mails;
import org.junit.jupiter.api.Test;

class ForgedResultsTest {
    final RecordingMetricFactory metricFactory = new RecordingMetricFactory();
    final ForgedResults forgedResults = new ForgedResults("mx.b.example", new Metrics(metricFactory));

    @Test
    void removesOnlyTheFieldsThatClaimOurAuthservIdAndCountsTheMail() throws Exception {
        // given
        MimeMessage message = Mails.parse("Authentication-Results: mx.b.example; auth-hmac=pass reason=\"verified\"\r\n"
                + "Authentication-Results: mx.other.example; spf=pass\r\n"
                + Mails.message("alice@a.example", "bob@b.example", "hi", "x"));

        // when
        forgedResults.strip(message);

        // then
        assertThat(message.getHeader("Authentication-Results")).containsExactly("mx.other.example; spf=pass");
        assertThat(metricFactory.countFor(Metrics.AR_STRIPPED)).isEqualTo(1);
    }

    @Test
    void aMessageWithoutSuchFieldsIsNotCounted() throws Exception {
        MimeMessage message = Mails.parse("Authentication-Results: mx.other.example; spf=pass\r\n"
                + Mails.message("alice@a.example", "bob@b.example", "hi", "x"));

        forgedResults.strip(message);

        assertThat(message.getHeader("Authentication-Results")).hasSize(1);
        assertThat(metricFactory.countFor(Metrics.AR_STRIPPED)).isZero();
    }
}
