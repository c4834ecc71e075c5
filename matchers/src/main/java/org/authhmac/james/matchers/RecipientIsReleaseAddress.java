package org.authhmac.james.matchers;

import java.util.Collection;
import java.util.List;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMatcher;
import org.authhmac.james.ReleaseTokens;

/**
 * Matches the recipients that are release-by-reply addresses ({@code <action>-<token>@auth-hmac.<domain>} for a
 * domain of this server,
 * {@link ReleaseTokens}), for AuthHmacRelease. Place it first in the root processor: such a recipient is a request,
 * never a mailbox, and must reach neither transport nor a relay.
 */
public class RecipientIsReleaseAddress extends GenericMatcher {
    @Override
    public Collection<MailAddress> match(Mail mail) {
        List<MailAddress> out = mail.getRecipients().stream()
                .filter(r -> ReleaseTokens.isReleaseAddress(r, getMailetContext()::isLocalServer)).toList();
        return out.isEmpty() ? null : out;
    }

    @Override
    public String getMatcherInfo() {
        return "RecipientIsReleaseAddress: recipients that are X-Auth-HMAC release-by-reply addresses";
    }
}
