package org.authhmac.james;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import org.apache.james.utils.PropertiesProvider;
import org.apache.mailet.MailetException;

/**
 * {@code conf/auth-hmac-partners.properties}, read through James's {@link PropertiesProvider} the first time a mailet or
 * the matcher asks, and kept: every declaration of the signing mailet and of the validating matcher sees the same
 * {@link PartnerPolicies}. A Guice just-in-time singleton, so that operators list nothing for it in
 * extensions.properties. A missing or invalid file is remembered too, and every asker fails its start-up with the
 * same message.
 */
@Singleton
public class PartnerPolicyFile {
    /** How the file is read: PropertiesProvider in James, a value in tests. */
    @FunctionalInterface
    interface Source {
        PartnerPolicies read() throws MailetException;
    }

    private final Source source;
    private PartnerPolicies policies;
    private MailetException failure;

    @Inject
    public PartnerPolicyFile(PropertiesProvider properties) {
        this(() -> read(properties));
    }

    private PartnerPolicyFile(Source source) {
        this.source = source;
    }

    /** Policies already read (tests, and tools that build them from a Configuration of their own). */
    public static PartnerPolicyFile of(PartnerPolicies policies) {
        return new PartnerPolicyFile(() -> policies);
    }

    /** The policies; throws, naming the file and the bad key, when it is missing or invalid. */
    public synchronized PartnerPolicies policies() throws MailetException {
        if (policies == null && failure == null) {
            try {
                policies = source.read();
            } catch (MailetException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw new MailetException(failure.getMessage(), failure);
        }
        return policies;
    }

    private static PartnerPolicies read(PropertiesProvider properties) throws MailetException {
        try {
            return PartnerPolicies.from(properties.getConfiguration(PartnerPolicies.FILE));
        } catch (MailetException e) {
            throw e;
        } catch (Exception e) {
            // FileNotFoundException, or PropertiesProvider's MissingConfigurationFile, or a file it cannot parse.
            throw new MailetException("auth-hmac: cannot read " + PartnerPolicies.PATH + ", which names the "
                    + "partner domains and their keysets (docs/CONFIGURATION.md): " + e, e);
        }
    }
}
