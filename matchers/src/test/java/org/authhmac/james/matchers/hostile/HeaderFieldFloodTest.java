package org.authhmac.james.matchers.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.mailets.AuthHmacQuarantine;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.matchers.AuthHmacFailed;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One mail with a million header fields, each of its own name (13 MB of header block; James's sample configuration
 * accepts any size). JavaMail removes header fields one name at a time, each removal a scan of every field: a header
 * block rebuilt name by name costs names x fields, 10^12 comparisons here, hours of one spool thread per mail. Each
 * step of ours that edits the header block (the receiver's Authentication-Results, the sender's stripping of our
 * key ids, the mark) must do it in time linear in the fields. Each test gives the whole step two minutes; done
 * linearly it takes seconds.
 */
class HeaderFieldFloodTest {
    static final Instant ACCEPTED_AT = Instant.parse("2026-11-22T02:00:05Z");
    static final int FIELDS = 1_000_000;

    /** The flood: {@code X-0000001: v} .. {@code X-1000000: v}, every name different, then the given fields and a body. */
    static String flood(String fields) {
        StringBuilder b = new StringBuilder(FIELDS * 14 + 512);
        for (int i = 0; i < FIELDS; i++) {
            b.append(String.format("X-%07d: v\r\n", i));
        }
        return b.append(fields).append("\r\nHello\r\n").toString();
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theReceiverRecordsAVerdictForAMillionDistinctHeaderFieldsAndAForgedResultInLinearTime() throws Exception {
        // given a forgery claiming a.example that also carries a forged Authentication-Results in B's name
        AuthHmacFailed matcher = new AuthHmacFailed(new InMemoryKeyVault()
                .add("ka1", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b")),
                new InMemoryReplayCache(1000, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)), new RecordingMetricFactory(),
                TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example"));
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed")
                .mailetContext(FakeMailContext.defaultContext()).build());
        FakeMail mail = FakeMail.builder().name("flood")
                .mimeMessage(Mails.parse(flood("Authentication-Results: mx.b.example; auth-hmac=pass\r\n"
                        + "From: ceo@a.example\r\nSubject: pay now\r\n").getBytes(StandardCharsets.ISO_8859_1)))
                .sender("attacker@evil.example").recipient("bob@b.example").lastUpdated(Date.from(ACCEPTED_AT))
                .state("auth-hmac-verify").build();

        // when B's matcher sees it
        var matched = matcher.match(mail);

        // then it is failed (never a pass), the forged field is gone and B's own verdict is on the mail
        assertThat(matched).hasSize(1);
        assertThat(RecordedVerdict.readFrom(mail).orElseThrow().result()).isNotEqualTo(AuthResult.PASS);
        assertThat(mail.getMessage().getHeader("Authentication-Results")).singleElement().asString()
                .startsWith("mx.b.example; auth-hmac=").doesNotContain("auth-hmac=pass");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theSenderStripsOurKeyIdFromAForwardWithAMillionDistinctHeaderFieldsInLinearTime() throws Exception {
        // given an Internet mail that A forwards to a partner, carrying a signature header with one of A's key ids
        SignWithAuthHmac signer = new SignWithAuthHmac(new InMemoryKeyVault()
                .add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b")), new RecordingMetricFactory(),
                Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC), TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        FakeMail mail = Mails.relayed(flood("X-Auth-HMAC: v=1; a=hmac-sha256; d=a.example; s=ka1; t=1\r\n"
                + "From: ceo@a.example\r\n"), "attacker@evil.example", "bob@b.example");

        // when A's signing mailet handles it
        signer.service(mail);

        // then it goes on unsigned, without the captured header
        assertThat(mail.getState()).isEqualTo("relay");
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC")).isNull();
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theMarkOfAMailWithAMillionDistinctHeaderFieldsIsWrittenInLinearTime() throws Exception {
        // given a failed mail in mark mode that came with its own status field
        AuthHmacQuarantine mark = new AuthHmacQuarantine(null, new RecordingMetricFactory(), null);
        mark.init(FakeMailetConfig.builder().mailetName("AuthHmacQuarantine").mailetContext(FakeMailContext.defaultContext())
                .setProperty("action", "mark").build());
        FakeMail mail = FakeMail.builder().name("flood")
                .mimeMessage(Mails.parse(flood("X-Auth-HMAC-Status: pass verified\r\nFrom: ceo@a.example\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1)))
                .sender("attacker@evil.example").recipient("bob@b.example").state("auth-hmac-verify").build();
        new RecordedVerdict(AuthResult.NONE, org.authhmac.protocol.Reason.NO_SIGNATURE, java.util.Optional.empty(),
                java.util.Optional.empty(), java.util.Optional.empty(), "no signature").writeTo(mail);

        // when it is marked
        mark.service(mail);

        // then only the verdict's own status field is on it, and it goes on to transport
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC-Status")).containsExactly("none no-signature");
        assertThat(mail.getState()).isEqualTo("transport");
        assertThat(mail.getState()).isNotEqualTo(Mail.ERROR);
    }
}
