package org.authhmac.james.mailets;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;

/**
 * Held mail as AuthHmacQuarantine leaves it for release by reply, built without the matcher (which is in the matchers
 * module): a.example's mail, signed for real by SignWithAuthHmac at {@link #SIGNED_AT}, with the verdict attributes the
 * matcher would have written.
 */
final class HeldMails {
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    static final byte[] PARTNER_PRIMARY = InMemoryKeyVault.primary("a-b");
    static final String PARTNERS = "partner.a.example.keyset=partner-a";
    static final String REPOSITORY = "memory://var/mail/auth-hmac-quarantine/";

    private HeldMails() {
    }

    /** a.example's server: its key ka1 of the relationship with b.example. */
    static InMemoryKeyVault partnerA() {
        return new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, PARTNER_PRIMARY);
    }

    /** Whoever holds {@code primary} under {@code keyId}: a.example with a new key, or a forger with a key of their own. */
    static InMemoryKeyVault signer(String keyId, byte[] primary) {
        return new InMemoryKeyVault().add(keyId, "partner-b", KeyStatus.PRIMARY, primary);
    }

    /** b.example's vault (PKCS#12, so that release tokens can draw their key): a.example's ka1 in keyset partner-a. */
    static DefaultKeyVault receiverVault(Path dir, Clock clock) {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        DefaultKeyVault vault = KeyVaults.open(p, dir, clock, false);
        vault.importKey("ka1", "partner-a", PARTNER_PRIMARY.clone(), KeyStatus.PRIMARY);
        return vault;
    }

    /** The mail alice@a.example sends to the recipients, signed by her server with {@code senderVault} at SIGNED_AT. */
    static FakeMail signed(InMemoryKeyVault senderVault, String... recipients) throws Exception {
        SignWithAuthHmac signer = new SignWithAuthHmac(senderVault, new RecordingMetricFactory(), Clock.fixed(SIGNED_AT, ZoneOffset.UTC),
                TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        FakeMail outbound = Mails.outbound(Mails.message("alice@a.example", String.join(", ", recipients), "contract", "Signed copy attached."),
                "alice@a.example", recipients);
        signer.service(outbound);
        FakeMail arrived = Mails.arrived(outbound, SIGNED_AT.plusSeconds(7200));
        fromDomainRead(arrived, "a.example");
        return arrived;
    }

    /** The From domain AuthHmacFailed read on the mail, which a release re-checks the signature against. */
    static void fromDomainRead(FakeMail mail, String domain) {
        mail.setAttribute(new Attribute(AuthHmacAttributes.AUTHOR_DOMAIN, AttributeValue.of(domain)));
    }

    /**
     * Bytes signed by a partner's server with the protocol's Signer: key {@code keyId} with {@code primary}, for
     * {@code d=domain}, bound to {@code binding} (a recipient domain, or one mailbox) with {@code rc=recipients}.
     */
    static FakeMail signedRaw(String from, String keyId, byte[] primary, String domain, String binding, int recipients,
                              String... envelopeRecipients) throws Exception {
        String raw = Mails.message(from, String.join(", ", envelopeRecipients), "contract", "Signed copy attached.");
        byte[] bytes = raw.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.util.List<String> header = new org.authhmac.protocol.Signer(org.authhmac.protocol.SignerSettings.defaults())
                .sign(bytes, 0, bytes.length, java.util.List.of(new org.authhmac.protocol.SignRequest(keyId, domain, binding,
                        SIGNED_AT, recipients)), org.authhmac.protocol.StaticPeriodKeys.of(keyId, primary));
        FakeMail mail = FakeMail.builder().name("raw-" + System.nanoTime())
                .mimeMessage(Mails.parse(String.join("\r\n", header) + "\r\n" + raw)).sender(from)
                .recipients(envelopeRecipients).build();
        fromDomainRead(mail, from.substring(from.indexOf('@') + 1));
        return mail;
    }

    /** A verdict of a.example's signature under {@code keyId} made at SIGNED_AT. */
    static RecordedVerdict verdict(AuthResult result, Reason reason, String keyId) {
        return new RecordedVerdict(result, reason, Optional.of(keyId), Optional.of("a.example"), Optional.of(SIGNED_AT), "as recorded");
    }

    static RecordedVerdict expired() {
        return verdict(AuthResult.FAIL, Reason.EXPIRED, "ka1");
    }

    /** The mail as the quarantine stores it: one verdict for every recipient, the mail's own the first one's. */
    static FakeMail held(FakeMail mail, RecordedVerdict verdict) {
        Map<MailAddress, RecordedVerdict> each = new LinkedHashMap<>();
        mail.getRecipients().forEach(r -> each.put(r, verdict));
        return held(mail, each);
    }

    static FakeMail held(FakeMail mail, Map<MailAddress, RecordedVerdict> verdicts) {
        verdicts.values().stream().findFirst().ifPresent(v -> v.writeTo(mail));
        RecordedVerdict.writePerRecipient(mail, verdicts);
        mail.setAttribute(new Attribute(AuthHmacAttributes.HELD, AttributeValue.of(REPOSITORY)));
        return mail;
    }
}
