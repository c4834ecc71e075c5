package org.authhmac.james.mailets;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.authhmac.james.Parameters;

/**
 * The partner domains {@link SignWithAuthHmac} signs for, each with its keyset (parameter {@code partners}), and a
 * mail's recipients seen through them.
 *
 * @param keysetByDomain partner domain (normal form) -> keyset
 */
record Partners(Map<String, String> keysetByDomain) {

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
