package org.authhmac.james.mailets;

import jakarta.mail.MessagingException;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMailet;
import org.authhmac.james.Parameters;
import org.authhmac.james.VaultMetrics;
import org.authhmac.vault.KeyVault;

/**
 * The frame of the two signing mailets ({@link SignWithAuthHmac}, {@link SignForMailbox}): the {@link MailSigner}
 * built from the injected vault, metrics and clock, a start-up that checks the parameter names before the mailet reads
 * them (and gives its signer its settings), and the way a mail the mailet gives up on leaves for a processor.
 */
abstract class SigningMailet extends GenericMailet {
    final MailSigner signing;
    /** Every parameter the mailet accepts: any other name fails start-up. */
    private final Set<String> parameters;

    SigningMailet(KeyVault vault, MetricFactory metricFactory, Clock clock, Set<String> parameters) {
        this.signing = new MailSigner(vault, metricFactory, clock);
        this.parameters = parameters;
        VaultMetrics.attach(vault, metricFactory);
    }

    /**
     * Reads the mailet's own parameters into its fields and calls {@code signing.init} with its signer settings; a bad
     * value fails start-up, naming the parameter.
     */
    abstract void configure() throws MessagingException;

    /** Parameters that this mailet no longer takes, each with where its value goes now. */
    Map<String, String> movedParameters() {
        return Map.of();
    }

    @Override
    public final void init() throws MessagingException {
        for (Map.Entry<String, String> moved : movedParameters().entrySet()) {
            if (getInitParameter(moved.getKey()) != null) {
                throw Parameters.error(moved.getKey(), "is no longer a parameter of this mailet: " + moved.getValue());
            }
        }
        checkInitParameters(parameters);
        configure();
    }

    /**
     * A mail this mailet cannot sign, counted, with {@code "auth-hmac: " + problem} as its error message, goes to
     * {@code processor}. The caller has logged why.
     */
    void divert(Mail mail, String counter, String processor, String problem) {
        signing.count(counter);
        mail.setErrorMessage("auth-hmac: " + problem);
        mail.setState(processor);
    }
}
