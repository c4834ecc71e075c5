package org.authhmac.james.matchers;

import jakarta.mail.MessagingException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Mail;
import org.apache.mailet.PerRecipientHeaders;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.MessageHeaders;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.protocol.AuthResult;

/**
 * Tells later mailets and readers what was decided: the summary attributes ({@link RecordedVerdict#writeTo}) and an
 * RFC 8601 Authentication-Results field, one for the whole mail or one per recipient when their verdicts differ.
 */
final class ResultsAnnouncement {
    private final String authservId;

    ResultsAnnouncement(String authservId) {
        this.authservId = authservId;
    }

    /**
     * Writes the summary attributes and Authentication-Results once per decision: for every recipient the first
     * time (including those that passed during an attempt that ended in temperror), later only for new ones.
     * {@code failOn}: the results that count as failure for this mail, which the summary shows first.
     */
    void announce(Mail mail, Map<MailAddress, RecordedVerdict> recorded, Map<MailAddress, RecordedVerdict> fresh,
                  Optional<String> headerFrom, Set<AuthResult> failOn) throws MessagingException {
        Map<MailAddress, RecordedVerdict> toAnnounce = new LinkedHashMap<>();
        if (mail.getAttribute(AuthHmacAttributes.RESULT).isEmpty()) {
            for (MailAddress r : mail.getRecipients()) {
                if (recorded.containsKey(r)) {
                    toAnnounce.put(r, recorded.get(r));
                }
            }
        } else {
            toAnnounce.putAll(fresh);
        }
        if (toAnnounce.isEmpty()) {
            return;
        }
        decisive(toAnnounce.values(), failOn).writeTo(mail);
        addResultsHeaders(mail, toAnnounce, headerFrom);
    }

    /** The verdict the summary attributes show: the first failing one, else the first. */
    static RecordedVerdict decisive(Collection<RecordedVerdict> verdicts, Set<AuthResult> failOn) {
        return verdicts.stream().filter(v -> failOn.contains(v.result())).findFirst()
                .orElse(verdicts.iterator().next());
    }

    private void addResultsHeaders(Mail mail, Map<MailAddress, RecordedVerdict> fresh, Optional<String> headerFrom)
            throws MessagingException {
        List<RecordedVerdict> distinct = new ArrayList<>();
        for (RecordedVerdict v : fresh.values()) {
            if (distinct.stream().noneMatch(v::sameAs)) {
                distinct.add(v);
            }
        }
        if (distinct.size() == 1 && fresh.size() == mail.getRecipients().size()) {
            MessageHeaders.prepend(mail.getMessage(),
                    List.of(AuthenticationResults.HEADER + ": " + AuthenticationResults.value(authservId, distinct.get(0), headerFrom)));
            return;
        }
        // Recipients disagree (or some were decided earlier): each gets the field that describes its own copy.
        for (Map.Entry<MailAddress, RecordedVerdict> e : fresh.entrySet()) {
            mail.addSpecificHeaderForRecipient(PerRecipientHeaders.Header.builder()
                    .name(AuthenticationResults.HEADER)
                    .value(AuthenticationResults.value(authservId, e.getValue(), headerFrom))
                    .build(), e.getKey());
        }
    }
}
