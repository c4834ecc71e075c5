package org.authhmac.james.mailets;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.james.core.MailAddress;
import org.apache.james.rrt.api.RecipientRewriteTable;
import org.apache.james.rrt.lib.Mapping;
import org.apache.james.rrt.lib.Mappings;

/**
 * The local mailboxes an envelope recipient ends in after alias rewriting (James's RecipientRewriteTable: aliases,
 * forwards, groups). Quarantine notices go to these only, so a notice never follows a forward out of the domain.
 */
@FunctionalInterface
interface LocalMailboxes {
    /** The local mailboxes of one recipient; empty when it has none (remote, an error mapping, or unresolvable). */
    List<MailAddress> of(MailAddress recipient);

    /** Resolution through James's RecipientRewriteTable; {@code local} tells whether an address is a local mailbox. */
    static LocalMailboxes resolvedBy(RecipientRewriteTable rrt, Predicate<MailAddress> local) {
        return recipient -> {
            Mappings mappings;
            try {
                mappings = rrt.getResolvedMappings(recipient.getLocalPart(), recipient.getDomain());
            } catch (Exception e) {
                // an error mapping or a table that cannot answer: no notice for this recipient (the postmaster has one)
                return List.of();
            }
            if (mappings == null || mappings.isEmpty()) {
                return local.test(recipient) ? List.of(recipient) : List.of();
            }
            Set<MailAddress> out = new LinkedHashSet<>();
            mappings.asStream().map(Mapping::asMailAddress).flatMap(Optional::stream).filter(local).forEach(out::add);
            return new ArrayList<>(out);
        };
    }
}
