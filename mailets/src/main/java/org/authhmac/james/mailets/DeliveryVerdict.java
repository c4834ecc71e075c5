package org.authhmac.james.mailets;

import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.client.ServerVerdict;

/**
 * What this server decided about a mail for one local recipient, as SignForMailbox writes it into that mailbox's
 * signature (sv=, and pd= for a pass; docs/PROTOCOL.md 10.1, docs/CLIENTS.md). Read only from mail attributes our
 * own mailets and matcher set, never from the message: a sender controls every header field, attributes it cannot
 * touch.
 *
 * <ol>
 *   <li>a notice AuthHmacQuarantine wrote ({@link AuthHmacAttributes#NOTICE}): {@code notice};</li>
 *   <li>the matcher's verdict for the recipient ({@link AuthHmacAttributes#RECIPIENT_VERDICTS}). A recipient the
 *       matcher did not see (an alias rewritten after verification) gets the verdict all recorded recipients share,
 *       or, when they differ, the least trusted of them;</li>
 *   <li>a mail one of our mailets held ({@link AuthHmacAttributes#HELD}) and an administrator sent on: {@code released},
 *       unless its verdict for the recipient is a pass (a passed mail held afterwards, for example because the
 *       mailbox key could not be used for an hour, keeps its pass);</li>
 *   <li>pass (with the signature's d= as pd), fail and permerror as recorded; anything else, and a mail the matcher
 *       did not verify (it claimed no partner domain), {@code none}.</li>
 * </ol>
 */
public record DeliveryVerdict(ServerVerdict verdict, Optional<String> partnerDomain) {

    public DeliveryVerdict {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(partnerDomain, "partnerDomain");
        if (partnerDomain.isPresent() != (verdict == ServerVerdict.PASS)) {
            throw new IllegalArgumentException("a partner domain comes exactly with pass");
        }
    }

    public static DeliveryVerdict of(Mail mail, MailAddress recipient) {
        if (mail.getAttribute(AuthHmacAttributes.NOTICE).isPresent()) {
            return new DeliveryVerdict(ServerVerdict.NOTICE, Optional.empty());
        }
        Optional<RecordedVerdict> recorded = recordedFor(RecordedVerdict.perRecipient(mail), recipient);
        boolean passed = recorded.map(v -> v.result() == AuthResult.PASS && v.domain().isPresent()).orElse(false);
        if (passed) {
            return new DeliveryVerdict(ServerVerdict.PASS, recorded.get().domain());
        }
        if (mail.getAttribute(AuthHmacAttributes.HELD).isPresent()) {
            return new DeliveryVerdict(ServerVerdict.RELEASED, Optional.empty());
        }
        ServerVerdict v = recorded.map(r -> switch (r.result()) {
            case FAIL -> ServerVerdict.FAIL;
            case PERMERROR -> ServerVerdict.PERMERROR;
            default -> ServerVerdict.NONE;
        }).orElse(ServerVerdict.NONE);
        return new DeliveryVerdict(v, Optional.empty());
    }

    private static Optional<RecordedVerdict> recordedFor(Map<MailAddress, RecordedVerdict> recorded, MailAddress recipient) {
        RecordedVerdict own = recorded.get(recipient);
        if (own != null || recorded.isEmpty()) {
            return Optional.ofNullable(own);
        }
        Collection<RecordedVerdict> all = recorded.values();
        RecordedVerdict first = all.iterator().next();
        if (all.stream().allMatch(first::sameAs)) {
            return Optional.of(first);
        }
        RecordedVerdict least = first;
        for (RecordedVerdict v : all) {
            if (trust(v) < trust(least)) {
                least = v;
            }
        }
        return Optional.of(least);
    }

    /** Higher is more trusted: pass, then results that vouch for nothing, then failures. */
    private static int trust(RecordedVerdict v) {
        return switch (v.result()) {
            case PASS -> 2;
            case FAIL, PERMERROR -> 0;
            default -> 1;
        };
    }

    /** The sv= value. */
    public String token() {
        return verdict.token();
    }
}
