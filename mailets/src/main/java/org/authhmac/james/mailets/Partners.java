package org.authhmac.james.mailets;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetException;
import org.authhmac.james.NeededKeysets;
import org.authhmac.james.Parameters;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicy;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.UnknownKeyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partner domains {@link SignWithAuthHmac} signs for, each with its keyset and a signer with its period length
 * (from {@link PartnerPolicies}), and a mail's recipients seen through them.
 *
 * @param keysetByDomain partner domain (normal form) -> keyset
 * @param signerByDomain partner domain -> the signer of its period length
 */
record Partners(Map<String, String> keysetByDomain, Map<String, Signer> signerByDomain) {
    private static final Logger LOGGER = LoggerFactory.getLogger(SignWithAuthHmac.class);

    /**
     * The partners of the file, each with a signer from {@code signing}. A keyset without primary key yet is logged and
     * accepted (keys may be provisioned after start-up; mail for that partner waits); a vault that cannot answer fails
     * start-up.
     */
    static Partners of(PartnerPolicies policies, MailSigner signing) throws MailetException {
        Map<String, Signer> signers = new HashMap<>();
        for (PartnerPolicy p : policies.partners().values()) {
            signers.put(p.domain(), signing.signerWithPeriod(p.periodSeconds()));
        }
        Partners partners = new Partners(Map.copyOf(policies.keysetByDomain()), Map.copyOf(signers));
        for (String keyset : Set.copyOf(partners.keysetByDomain().values())) {
            try {
                signing.vault().primaryKeyId(keyset);
            } catch (UnknownKeyException e) {
                // Not a start-up failure: the key may be imported while James runs (docs/INSTALL.md section 3).
                LOGGER.warn("auth-hmac: {}. James starts all the same; the AuthHmacKeyVault health check is unhealthy "
                        + "until the keyset has a primary", NeededKeysets.noPrimary(signing.vault(), keyset, partners.domainsOf(keyset)));
            } catch (RuntimeException e) {
                throw Parameters.error("keyset", "the key vault cannot resolve keyset '" + keyset + "' (" + PartnerPolicies.PATH
                        + "): " + e.getMessage());
            }
        }
        return partners;
    }

    /** The partner domains whose keyset this is. */
    Set<String> domainsOf(String keyset) {
        Set<String> out = new TreeSet<>();
        keysetByDomain.forEach((domain, k) -> {
            if (k.equals(keyset)) {
                out.add(domain);
            }
        });
        return out;
    }

    /** Partner recipient domain -> keyset, in recipient order. */
    Map<String, String> ofRecipients(Mail mail) {
        Map<String, String> out = new LinkedHashMap<>();
        for (MailAddress rcpt : mail.getRecipients()) {
            domain(rcpt).ifPresent(d -> out.putIfAbsent(d, keysetByDomain.get(d)));
        }
        return out;
    }

    /**
     * Recipients in each partner domain (key: the domain, in recipient order) and those outside every partner
     * domain (key: null, last), each list in recipient order.
     */
    Map<String, List<MailAddress>> recipientsByDomain(Mail mail) {
        Map<String, List<MailAddress>> out = new LinkedHashMap<>();
        List<MailAddress> others = new ArrayList<>();
        for (MailAddress rcpt : mail.getRecipients()) {
            Optional<String> domain = domain(rcpt);
            if (domain.isPresent()) {
                out.computeIfAbsent(domain.get(), d -> new ArrayList<>()).add(rcpt);
            } else {
                others.add(rcpt);
            }
        }
        if (!others.isEmpty()) {
            out.put(null, others);
        }
        return out;
    }

    /** The recipient's domain when it is a partner's. */
    private Optional<String> domain(MailAddress rcpt) {
        return Parameters.normalDomain(rcpt.getDomain().asString()).filter(keysetByDomain::containsKey);
    }
}
