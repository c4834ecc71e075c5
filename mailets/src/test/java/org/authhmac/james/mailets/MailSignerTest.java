package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.UnknownKeyException;
import org.junit.jupiter.api.Test;

/** One signing attempt: a missing or unreachable key keeps the mail for retry; a message fault goes to the mailet. */
class MailSignerTest {
    static final MailSigner.Reporting REPORTING = new MailSigner.Reporting("sign.time", "sign.keyUnavailable",
            "vault down for %s: %s", "no key for %s: %s", e -> e instanceof UncheckedIOException);

    final RecordingMetricFactory metrics = new RecordingMetricFactory();
    final MailSigner signer = new MailSigner(new InMemoryKeyVault(), metrics, Clock.systemUTC());
    final List<Exception> unsignable = new ArrayList<>();

    @Test
    void aMissingKeyIsCountedAndKeepsTheMailForRetry() throws MessagingException {
        FakeMail mail = FakeMail.builder().name("m1").build();

        assertThatThrownBy(() -> signer.attempt(mail, REPORTING, () -> {
            throw new UnknownKeyException("keyset partner-b has no primary key");
        }, unsignable::add))
                .isInstanceOf(MessagingException.class)
                .hasMessage("no key for m1: keyset partner-b has no primary key");

        assertThat(metrics.countFor("sign.keyUnavailable")).isEqualTo(1);
        assertThat(unsignable).isEmpty();
    }

    @Test
    void anUnreachableVaultIsCountedAndKeepsTheMailForRetry() throws MessagingException {
        FakeMail mail = FakeMail.builder().name("m2").build();

        assertThatThrownBy(() -> signer.attempt(mail, REPORTING, () -> {
            throw new KeyUnavailableException("TPM gone");
        }, unsignable::add))
                .isInstanceOf(MessagingException.class)
                .hasMessage("vault down for m2: TPM gone");

        assertThat(metrics.countFor("sign.keyUnavailable")).isEqualTo(1);
        assertThat(unsignable).isEmpty();
    }

    @Test
    void anUncheckedExceptionTheMailetBlamesOnTheMessageGoesBackToTheMailet() throws MessagingException {
        FakeMail mail = FakeMail.builder().name("m3").build();
        UncheckedIOException fault = new UncheckedIOException(new IOException("part cannot be read"));

        Object result = signer.attempt(mail, REPORTING, () -> {
            throw fault;
        }, unsignable::add);

        assertThat(result).isNull();
        assertThat(unsignable).containsExactly(fault);
        assertThat(metrics.countFor("sign.keyUnavailable")).isZero();
    }

    @Test
    void anUncheckedExceptionTheMailetDoesNotBlameOnTheMessageEscapes() throws MessagingException {
        FakeMail mail = FakeMail.builder().name("m4").build();

        assertThatThrownBy(() -> signer.attempt(mail, REPORTING, () -> {
            throw new IllegalStateException("a bug");
        }, unsignable::add)).isInstanceOf(IllegalStateException.class).hasMessage("a bug");

        assertThat(unsignable).isEmpty();
    }

    @Test
    void aMessageJavaMailCannotWriteGoesBackToTheMailet() throws MessagingException {
        FakeMail mail = FakeMail.builder().name("m5").build();
        MessagingException fault = new MessagingException("missing boundary");

        Object result = signer.attempt(mail, REPORTING, () -> {
            throw fault;
        }, unsignable::add);

        assertThat(result).isNull();
        assertThat(unsignable).containsExactly(fault);
    }

    @Test
    void anUncheckedExceptionIsTheMessagesFaultOnlyWhenJavaMailOrTheStreamCausedIt() {
        assertThat(MailSigner.causedByTheMessage(new RuntimeException(new MessagingException("no boundary")))).isTrue();
        assertThat(MailSigner.causedByTheMessage(new RuntimeException(new IllegalStateException(new IOException("eof")))))
                .as("a cause further down").isTrue();
        assertThat(MailSigner.causedByTheMessage(new UncheckedIOException(new IOException("eof")))).isTrue();
        assertThat(MailSigner.causedByTheMessage(new RuntimeException("a bug of ours"))).isFalse();
        assertThat(MailSigner.causedByTheMessage(new RuntimeException(new IllegalStateException("a bug of ours")))).isFalse();
    }
}
