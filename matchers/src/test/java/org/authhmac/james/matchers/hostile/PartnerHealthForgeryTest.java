package org.authhmac.james.matchers.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.apache.james.metrics.api.NoopGaugeRegistry;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.PartnerHealth;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.matchers.AuthHmacFailed;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.testing.Stderr;
import org.authhmac.testing.Stderr.ThrowingRunnable;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a forger who holds no key of partner a.example can make B's partner health say, through the real matcher. The
 * forger signs with a key it made up (any secret, any key id): B answers permerror unknown-key, and the key id is
 * reported as a claim, not as the partner's.
 */
class PartnerHealthForgeryTest {
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    static final Instant ACCEPTED_AT = SIGNED_AT.plusSeconds(5);
    static final String BOB = "bob@b.example";

    InMemoryKeyVault receiverVault;
    PartnerHealth health;
    AuthHmacFailed matcher;

    @BeforeEach
    void setUp() throws Exception {
        receiverVault = new InMemoryKeyVault()
                .add("ka1", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"))
                // retired on B after a.example reported it compromised
                .add("ka0", "partner-a", KeyStatus.RETIRED, InMemoryKeyVault.primary("a-b-old"));
        PartnerPolicies policies = TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example");
        health = new PartnerHealth(PartnerPolicyFile.of(policies), receiverVault, new RecordingMetricFactory(),
                new NoopGaugeRegistry(), Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC));
        matcher = new AuthHmacFailed(receiverVault, new InMemoryReplayCache(1000, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)),
                new RecordingMetricFactory(), policies, Optional.of(health));
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").mailetContext(FakeMailContext.defaultContext()).build());
    }

    /** Signed as d=a.example under key id {@code keyId} with {@code secret}: a forger's own key when it is not A's. */
    static String signedAs(String keyId, String secretLabel, String messageId) throws Exception {
        InMemoryKeyVault v = new InMemoryKeyVault().add(keyId, "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary(secretLabel));
        SignWithAuthHmac signer = new SignWithAuthHmac(v, new RecordingMetricFactory(), Clock.fixed(SIGNED_AT, ZoneOffset.UTC),
                TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        String raw = "From: Alice <alice@a.example>\r\nTo: Bob <bob@b.example>\r\nSubject: Our new key\r\n"
                + "Date: Sun, 22 Nov 2026 02:00:00 +0000\r\nMessage-ID: <" + messageId + "@a.example>\r\n\r\nHello\r\n";
        FakeMail mail = FakeMail.builder().name("out").mimeMessage(Mails.parse(raw.getBytes(StandardCharsets.ISO_8859_1)))
                .sender("alice@a.example").recipient(BOB).state("relay")
                .attribute(new org.apache.mailet.Attribute(org.apache.mailet.Mail.SMTP_AUTH_USER,
                        org.apache.mailet.AttributeValue.of("alice@a.example")))
                .build();
        signer.service(mail);
        return new String(Mails.bytes(mail.getMessage()), StandardCharsets.ISO_8859_1);
    }

    void arrive(String bytes) throws Exception {
        FakeMail mail = FakeMail.builder().name("in").mimeMessage(Mails.parse(bytes.getBytes(StandardCharsets.ISO_8859_1)))
                .sender("alice@a.example").recipient(BOB).lastUpdated(Date.from(ACCEPTED_AT)).state("auth-hmac-verify").build();
        matcher.match(mail);
    }

    PartnerHealth.View a() {
        return health.partners().get(0);
    }

    @Test
    void aMadeUpKeyIdIsReportedAsAClaimAnyoneCanWriteWithTheImportOnlyOverAnAuthenticatedChannel() throws Exception {
        arrive(signedAs("a-2027-01", "forger's own secret", "f1"));

        // a forged mail can raise the warning (the rollout check cannot tell it from the partner's real mail), but the
        // warning must not state that the partner signs with it, nor invite an import of whatever file comes along
        assertThat(health.problems()).singleElement().asString()
                .contains("mail claiming partner a.example names key id(s) a-2027-01", "Anyone can write a key id",
                        "over your usual authenticated channel", "this is forged mail")
                .doesNotContain("promoted there before it was imported here");
    }

    @Test
    void aForgedRetiredKeyIdIsNamedAsRetiredAndNeverAsAnImport() throws Exception {
        arrive(signedAs("ka0", "anything", "f2"));

        assertThat(health.problems()).singleElement().asString().contains("ka0", "retired here", "Do not import")
                .doesNotContain("keys import");
    }

    @Test
    void sixteenForgedKeyIdsDoNotPushTheRealUnknownKeyIdOutOfTheView() throws Exception {
        // A really promoted ka2 before B imported it: its real mail arrives first
        arrive(signedAs("ka2", "a's real new key", "real"));
        // then forged mail with made-up ids, 16 of them: the list holds 16 key ids, first come first kept
        Clock later = Clock.fixed(ACCEPTED_AT.plusSeconds(1), ZoneOffset.UTC);
        for (int i = 0; i < 16; i++) {
            FakeMail mail = FakeMail.builder().name("in" + i)
                    .mimeMessage(Mails.parse(signedAs("ka2-" + i, "x", "f" + i).getBytes(StandardCharsets.ISO_8859_1)))
                    .sender("alice@a.example").recipient(BOB).lastUpdated(Date.from(later.instant())).state("auth-hmac-verify").build();
            matcher.match(mail);
        }

        assertThat(a().keyIds()).extracting(PartnerHealth.KeySeen::keyId)
                .as("the first key id seen in the window stays listed").contains("ka2");
        assertThat(health.problems()).singleElement().asString().contains("ka2", "and 1 more");
    }

    @Test
    void theAuditLogSaysAPartnersProblemsOnceNotOncePerForgedMail() throws Exception {
        List<String> forged = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            forged.add(signedAs("k" + (i % 17), "x", "a" + i)); // 17 ids in turn: each evicts the oldest
        }
        List<String> audit = auditLines(() -> {
            for (String f : forged) {
                arrive(f);
                health.partners(); // a Prometheus scrape of the public /metrics, or /healthcheck: both evaluate view()
            }
        });

        // one line for the kind of problem (unknown key ids), however many ids the forger makes up
        assertThat(audit).as("audit lines from 60 forged mails").hasSize(1);
    }

    static List<String> auditLines(ThrowingRunnable action) throws Exception {
        return Stderr.linesContaining("org.authhmac.audit", action);
    }
}
