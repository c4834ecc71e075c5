package org.authhmac.james;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.mail.internet.AddressException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;

/** A verdict as it travels on a James mail: plain values that survive queues and mail repositories. */
public record RecordedVerdict(AuthResult result, Reason reason, Optional<String> keyId, Optional<String> domain,
                              Optional<Instant> signingTime, String detail) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static RecordedVerdict of(Verdict verdict) {
        Optional<SignatureHeader> sig = verdict.signature();
        return new RecordedVerdict(verdict.result(), verdict.reason(),
                sig.map(SignatureHeader::keyId), sig.map(SignatureHeader::domain),
                sig.map(s -> Instant.ofEpochSecond(s.time())), verdict.detail());
    }

    /** Writes the verdict attributes (result, reason, key id, domain, signing time, detail) onto the mail. */
    public void writeTo(Mail mail) {
        mail.setAttribute(new Attribute(AuthHmacAttributes.RESULT, AttributeValue.of(result.token())));
        mail.setAttribute(new Attribute(AuthHmacAttributes.REASON, AttributeValue.of(reason.token())));
        mail.setAttribute(new Attribute(AuthHmacAttributes.DETAIL, AttributeValue.of(detail)));
        keyId.ifPresentOrElse(k -> mail.setAttribute(new Attribute(AuthHmacAttributes.KEY_ID, AttributeValue.of(k))),
                () -> mail.removeAttribute(AuthHmacAttributes.KEY_ID));
        domain.ifPresentOrElse(d -> mail.setAttribute(new Attribute(AuthHmacAttributes.DOMAIN, AttributeValue.of(d))),
                () -> mail.removeAttribute(AuthHmacAttributes.DOMAIN));
        signingTime.ifPresentOrElse(
                t -> mail.setAttribute(new Attribute(AuthHmacAttributes.SIGNING_TIME, AttributeValue.of(t.getEpochSecond()))),
                () -> mail.removeAttribute(AuthHmacAttributes.SIGNING_TIME));
    }

    /** The verdict recorded on the mail, if the validating matcher has seen it. */
    public static Optional<RecordedVerdict> readFrom(Mail mail) {
        Optional<String> result = string(mail, AuthHmacAttributes.RESULT);
        Optional<String> reason = string(mail, AuthHmacAttributes.REASON);
        if (result.isEmpty() || reason.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new RecordedVerdict(AuthResult.fromToken(result.get()), Reason.fromToken(reason.get()),
                    string(mail, AuthHmacAttributes.KEY_ID), string(mail, AuthHmacAttributes.DOMAIN),
                    mail.getAttribute(AuthHmacAttributes.SIGNING_TIME)
                            .flatMap(a -> a.getValue().valueAs(Long.class)).map(Instant::ofEpochSecond),
                    string(mail, AuthHmacAttributes.DETAIL).orElse("")));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Writes the per-recipient verdicts ({@link AuthHmacAttributes#RECIPIENT_VERDICTS}) as one String, a JSON object of
     * address to {@link #encode()}'s form in recipient order: {@code {"bob@b.example":"fail bad-mac s=k1 d=a.example"}}.
     * A String because James's WebAdmin shows each attribute as its value's {@code toString()}: a Map of
     * AttributeValues reads {@code {bob@b.example=AttributeValue{value=fail bad-mac, serializer=StringSerializer}}}
     * there. JSON because an address may hold any character a separator could.
     */
    public static void writePerRecipient(Mail mail, Map<MailAddress, RecordedVerdict> verdicts) {
        ObjectNode json = JSON.createObjectNode();
        verdicts.forEach((rcpt, v) -> json.put(rcpt.asString(), v.encode()));
        try {
            mail.setAttribute(new Attribute(AuthHmacAttributes.RECIPIENT_VERDICTS, AttributeValue.of(JSON.writeValueAsString(json))));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON object of strings cannot be written: " + e.getMessage(), e);
        }
    }

    /**
     * The per-recipient verdicts the matcher recorded ({@link AuthHmacAttributes#RECIPIENT_VERDICTS}), in its order;
     * entries that are not in {@link #encode()}'s form, or whose key is not an address, are skipped. Reads the JSON
     * text {@link #writePerRecipient} writes and the Map of String AttributeValues that earlier versions wrote (a mail
     * held or queued before an upgrade).
     */
    public static Map<MailAddress, RecordedVerdict> perRecipient(Mail mail) {
        Map<MailAddress, RecordedVerdict> out = new LinkedHashMap<>();
        Optional<Object> value = mail.getAttribute(AuthHmacAttributes.RECIPIENT_VERDICTS).map(a -> a.getValue().value());
        if (value.isPresent() && value.get() instanceof String text) {
            try {
                JsonNode json = JSON.readTree(text);
                if (json != null && json.isObject()) {
                    json.fields().forEachRemaining(e -> add(out, e.getKey(), e.getValue().isTextual() ? e.getValue().textValue() : null));
                }
            } catch (JsonProcessingException ignored) {
                // not written by us
            }
        } else if (value.isPresent() && value.get() instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                Object raw = e.getValue() instanceof AttributeValue<?> av ? av.value() : e.getValue();
                if (e.getKey() instanceof String addr && raw instanceof String enc) {
                    add(out, addr, enc);
                }
            }
        }
        return out;
    }

    private static void add(Map<MailAddress, RecordedVerdict> out, String addr, String encoded) {
        if (encoded == null) {
            return;
        }
        try {
            MailAddress rcpt = new MailAddress(addr);
            decode(encoded).ifPresent(rv -> out.put(rcpt, rv));
        } catch (AddressException ignored) {
            // not written by us
        }
    }

    /** "fail bad-mac": result and reason. */
    public String shortForm() {
        return result.token() + " " + reason.token();
    }

    /** One-line form kept per recipient: "fail bad-mac s=k1 d=a.example t=1763776800" (tags only when known). */
    public String encode() {
        StringBuilder b = new StringBuilder(shortForm());
        keyId.ifPresent(k -> b.append(" s=").append(k));
        domain.ifPresent(d -> b.append(" d=").append(d));
        signingTime.ifPresent(t -> b.append(" t=").append(t.getEpochSecond()));
        return b.toString();
    }

    /** Reads {@link #encode()}'s form; empty when it is not one (an attribute written by something else). */
    public static Optional<RecordedVerdict> decode(String encoded) {
        String[] parts = encoded.trim().split(" ");
        if (parts.length < 2) {
            return Optional.empty();
        }
        try {
            AuthResult result = AuthResult.fromToken(parts[0]);
            Reason reason = Reason.fromToken(parts[1]);
            Optional<String> keyId = Optional.empty();
            Optional<String> domain = Optional.empty();
            Optional<Instant> time = Optional.empty();
            for (int i = 2; i < parts.length; i++) {
                String p = parts[i];
                if (p.startsWith("s=")) {
                    keyId = Optional.of(p.substring(2));
                } else if (p.startsWith("d=")) {
                    domain = Optional.of(p.substring(2));
                } else if (p.startsWith("t=")) {
                    time = Optional.of(Instant.ofEpochSecond(Long.parseLong(p.substring(2))));
                }
            }
            return Optional.of(new RecordedVerdict(result, reason, keyId, domain, time, "recorded earlier"));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Same outcome and same deciding signature (the detail text may differ). */
    public boolean sameAs(RecordedVerdict other) {
        return encode().equals(other.encode());
    }

    private static Optional<String> string(Mail mail, org.apache.mailet.AttributeName name) {
        return mail.getAttribute(name).flatMap(a -> a.getValue().valueAs(String.class));
    }
}
