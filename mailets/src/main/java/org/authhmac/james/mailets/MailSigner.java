package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.apache.mailet.Mail;
import org.authhmac.james.Metrics;
import org.authhmac.james.SerializedMessage;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyVault;

/**
 * What the two signing mailets share: the key vault, metrics and clock, the signer made from the signing parameters,
 * and what becomes of a signing attempt that fails. When the vault cannot answer, or a key is missing, the mailet
 * throws, so that the mail waits for retry in its onMailetException processor and never goes on unsigned; a message
 * that cannot be signed goes back to the mailet, whose own rule says where it goes.
 */
final class MailSigner {
    /**
     * How one mailet times and reports its signing attempts: the timer, the counter for a missing or unreachable key,
     * and the two retry messages, each a format of the mail's name and the cause's message. A RuntimeException that
     * {@code causedByTheMessage} accepts is the message's fault too; any other one escapes.
     */
    record Reporting(String timer, String keyUnavailable, String vaultUnavailable, String keyMissing,
            Predicate<RuntimeException> causedByTheMessage) {
    }

    /** One signing attempt: what it returns goes back to the mailet. */
    @FunctionalInterface
    interface Attempt<T> {
        T run() throws KeyUnavailableException, UnknownKeyException, MessagingException, IOException;
    }

    private final KeyVault vault;
    private final Metrics metrics;
    private final Clock clock;
    private SignerSettings settings;
    private Signer signer;
    private String headerName;

    MailSigner(KeyVault vault, MetricFactory metricFactory, Clock clock) {
        this.vault = vault;
        this.metrics = new Metrics(metricFactory);
        this.clock = clock;
    }

    /** The mailet's signer settings, read from its parameters or the partner file at start-up. */
    void init(SignerSettings settings) {
        this.settings = settings;
        headerName = settings.headerName();
        signer = new Signer(settings);
    }

    /** A signer with the mailet's settings but this period length (a partner's {@code periodSeconds}). */
    Signer signerWithPeriod(int periodSeconds) {
        return new Signer(settings.withPeriodSeconds(periodSeconds));
    }

    KeyVault vault() {
        return vault;
    }

    void count(String counter) {
        metrics.count(counter);
    }

    Instant now() {
        return clock.instant();
    }

    String headerName() {
        return headerName;
    }

    /** The signature lines over the message's bytes, one per request, in request order. */
    List<String> sign(SerializedMessage raw, List<SignRequest> requests)
            throws KeyUnavailableException, UnknownKeyException, IOException {
        return sign(raw, requests, signer);
    }

    /** As {@link #sign(SerializedMessage, List)}, with another signer ({@link #signerWithPeriod}). */
    List<String> sign(SerializedMessage raw, List<SignRequest> requests, Signer with)
            throws KeyUnavailableException, UnknownKeyException, IOException {
        List<String> lines = with.sign(raw.buffer(), 0, raw.size(), requests, vault);
        for (SignRequest r : requests) {
            // per partner (r= a domain) and key id: which key each partner's mail goes out under, for the rollout.
            // A mailbox binding (delivery-time signing for a user's client) is no partner: no user's address in a
            // metric name, and no counter per user
            if (!r.recipient().contains("@")) {
                metrics.count(Metrics.SIGN_PARTNER + r.recipient() + ".key." + r.keyId());
            }
        }
        return lines;
    }

    /**
     * Runs one attempt under the mailet's timer.
     *
     * @param unsignable takes the mail whose message cannot be signed (JavaMail cannot write it back, a field the
     *     signer refuses): a permanent verdict, retrying will not help
     * @return what the attempt returned, or null when the message could not be signed
     * @throws MessagingException the mail waits for retry: the vault cannot answer, or the key is missing
     */
    <T> T attempt(Mail mail, Reporting reporting, Attempt<T> attempt, Consumer<Exception> unsignable) throws MessagingException {
        TimeMetric timer = metrics.timer(reporting.timer());
        try {
            return attempt.run();
        } catch (KeyUnavailableException e) {
            metrics.count(reporting.keyUnavailable());
            throw new MessagingException(String.format(reporting.vaultUnavailable(), mail.getName(), e.getMessage()), e);
        } catch (UnknownKeyException e) {
            metrics.count(reporting.keyUnavailable());
            throw new MessagingException(String.format(reporting.keyMissing(), mail.getName(), e.getMessage()), e);
        } catch (MessagingException | IOException | IllegalArgumentException e) {
            unsignable.accept(e);
            return null;
        } catch (RuntimeException e) {
            if (!reporting.causedByTheMessage().test(e)) {
                throw e;
            }
            unsignable.accept(e);
            return null;
        } finally {
            timer.stopAndPublish();
        }
    }

    /**
     * Whether an unchecked exception carries JavaMail's or the stream's verdict on the message itself: James's 7-bit
     * conversion walks nested parts in a lambda that wraps JavaMail's checked exceptions.
     */
    static boolean causedByTheMessage(RuntimeException e) {
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof MessagingException || t instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}
