package org.authhmac.james.matchers.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.matchers.AuthHmacFailed;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.james.testing.UnsavedMessage;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;

/**
 * A multipart nested 20,000 levels deep (1.4 MB). JavaMail parses and writes MIME recursively, so writing such a
 * message back (James does, once a header was edited) overflows the stack: a StackOverflowError is no Exception, so
 * or, where the overflow hits a service lookup, an IllegalStateException: either one was taken for a temporary
 * failure and retried up to the bound (240 attempts of about 20 s of CPU each) before the hold. It is a permanent
 * verdict.
 */
class DeepMimeNestingTest {
    static final Instant ACCEPTED_AT = Instant.parse("2026-11-22T02:00:05Z");

    static String nested(int depth) {
        StringBuilder b = new StringBuilder("Authentication-Results: mx.b.example; auth-hmac=pass\r\n"
                + "From: ceo@a.example\r\nTo: bob@b.example\r\nSubject: pay now\r\nMessage-ID: <deep@a.example>\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
        for (int i = 0; i < depth; i++) {
            b.append("--b").append(i).append("\r\nContent-Type: multipart/mixed; boundary=\"b").append(i + 1).append("\"\r\n\r\n");
        }
        b.append("--b").append(depth).append("\r\nContent-Type: text/plain\r\n\r\npay now\r\n--b").append(depth).append("--\r\n");
        for (int i = depth - 1; i >= 0; i--) {
            b.append("--b").append(i).append("--\r\n");
        }
        return b.toString();
    }

    @Test
    void aForgeryNestedTwentyThousandLevelsDeepIsPermerrorMalformedInsteadOfRetried() throws Exception {
        AuthHmacFailed matcher = new AuthHmacFailed(new InMemoryKeyVault()
                .add("ka1", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b")),
                new InMemoryReplayCache(1000, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)), new RecordingMetricFactory(),
                TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example"));
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed")
                .mailetContext(FakeMailContext.defaultContext()).build());
        FakeMail mail = FakeMail.builder().name("deep").mimeMessage(UnsavedMessage.of(nested(20_000)))
                .sender("attacker@evil.example").recipient("bob@b.example").lastUpdated(Date.from(ACCEPTED_AT))
                .state("auth-hmac-verify").build();

        var matched = matcher.match(mail);

        assertThat(matched).hasSize(1);
        assertThat(RecordedVerdict.readFrom(mail).orElseThrow().result()).isEqualTo(AuthResult.PERMERROR);
        assertThat(RecordedVerdict.readFrom(mail).orElseThrow().reason()).isEqualTo(org.authhmac.protocol.Reason.MALFORMED);
    }

    @Test
    void aMailNestedTwentyThousandLevelsDeepThatAliceSubmitsGoesToTheErrorProcessorInsteadOfIntoRetries() throws Exception {
        org.authhmac.james.mailets.SignWithAuthHmac signer = new org.authhmac.james.mailets.SignWithAuthHmac(new InMemoryKeyVault()
                .add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b")), new RecordingMetricFactory(),
                Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC), TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(org.apache.mailet.base.test.FakeMailetConfig.builder().mailetName("SignWithAuthHmac")
                .mailetContext(FakeMailContext.defaultContext()).setProperty("signingDomain", "a.example")
                .setProperty("errorProcessor", "auth-hmac-hold").build());
        FakeMail mail = FakeMail.builder().name("deep-out")
                .mimeMessage(UnsavedMessage.of(nested(20_000).replace("ceo@a.example", "alice@a.example")))
                .sender("alice@a.example").recipient("bob@b.example").state("relay")
                .attribute(new org.apache.mailet.Attribute(org.apache.mailet.Mail.SMTP_AUTH_USER,
                        org.apache.mailet.AttributeValue.of("alice@a.example")))
                .build();

        signer.service(mail);

        assertThat(mail.getState()).isEqualTo("auth-hmac-hold");
    }
}
