package org.authhmac.james.matchers.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.MessagingException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import org.apache.james.core.MailAddress;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.matchers.AuthHmacFailed;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The hostile messages of the protocol tests through the James side: signed by SignWithAuthHmac on A, damaged, parsed
 * by jakarta.mail as B's James would, then matched by AuthHmacFailed. Each gets a recorded verdict and a
 * routing decision; none throws (a throw would send the mail to the error processor or into retries).
 */
class HostileMailsTest {
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    static final Instant ACCEPTED_AT = SIGNED_AT.plusSeconds(5);
    static final String BOB = "bob@b.example";

    InMemoryKeyVault senderVault;
    InMemoryKeyVault receiverVault;
    AuthHmacFailed matcher;

    @BeforeEach
    void setUp() throws MessagingException {
        senderVault = new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
        receiverVault = new InMemoryKeyVault().add("ka1", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"));
        matcher = new AuthHmacFailed(receiverVault, new InMemoryReplayCache(1000, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)), new RecordingMetricFactory(),
                TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example"));
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed")
                .mailetContext(FakeMailContext.defaultContext()).build());
    }

    /** The bytes A's James sends for this message after SignWithAuthHmac, as one char per byte. */
    String signedByA(String raw) throws Exception {
        SignWithAuthHmac signer = new SignWithAuthHmac(senderVault, new RecordingMetricFactory(), Clock.fixed(SIGNED_AT, ZoneOffset.UTC),
                TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        FakeMail mail = FakeMail.builder().name("out").mimeMessage(Mails.parse(raw.getBytes(StandardCharsets.ISO_8859_1)))
                .sender("alice@a.example").recipient(BOB).state("relay")
                .attribute(new org.apache.mailet.Attribute(org.apache.mailet.Mail.SMTP_AUTH_USER, org.apache.mailet.AttributeValue.of("alice@a.example")))
                .build();
        signer.service(mail);
        String sent = new String(Mails.bytes(mail.getMessage()), StandardCharsets.ISO_8859_1);
        assertThat(sent).as("A signed it").contains("X-Auth-HMAC: v=1;");
        return sent;
    }

    String signedByA() throws Exception {
        return signedByA(message("Hello Bob,"));
    }

    static String message(String body) {
        return "From: Alice <alice@a.example>\r\nTo: Bob <bob@b.example>\r\nSubject: Quarterly figures\r\n"
                + "Date: Sun, 22 Nov 2026 02:00:00 +0000\r\nMessage-ID: <h1@a.example>\r\n\r\n" + body + "\r\n";
    }

    record Outcome(Collection<MailAddress> matched, RecordedVerdict verdict) {
    }

    /** What B's matcher decides for these bytes. */
    Outcome arrive(String bytes) throws Exception {
        FakeMail mail = FakeMail.builder().name("in").mimeMessage(Mails.parse(bytes.getBytes(StandardCharsets.ISO_8859_1)))
                .sender("alice@a.example").recipient(BOB).lastUpdated(Date.from(ACCEPTED_AT)).state("auth-hmac-verify").build();
        Collection<MailAddress> matched = matcher.match(mail);
        return new Outcome(matched, RecordedVerdict.readFrom(mail).orElseThrow(() -> new AssertionError("no verdict recorded")));
    }

    void assertFailedWith(Outcome o, AuthResult result, Reason reason) {
        assertThat(o.verdict().result()).as("%s", o.verdict()).isEqualTo(result);
        assertThat(o.verdict().reason()).as("%s", o.verdict()).isEqualTo(reason);
        assertThat(o.matched()).as("the mail is routed as failed").containsExactly(Mails.address(BOB));
    }

    @Test
    @Tag("large")
    void aFiftyMegabyteBodyPassesAndOneChangedByteInItIsBodyChanged() throws Exception {
        String body = ("line of text with  white space\t and more text  \r\n").repeat(50 * 1024 * 1024 / 48);
        String signed = signedByA(message(body));

        Outcome good = arrive(signed);
        int deep = signed.length() - 1000;
        Outcome changed = arrive(signed.substring(0, deep) + (signed.charAt(deep) == 'x' ? 'y' : 'x') + signed.substring(deep + 1));

        assertThat(good.verdict().result()).isEqualTo(AuthResult.PASS);
        assertThat(good.matched()).isEmpty();
        assertFailedWith(changed, AuthResult.FAIL, Reason.BODY_CHANGED);
    }

    /** 9,100 trace fields (outside h=) and 900 signed ones, the most a signature may list being 1,024. */
    @Test
    void aTenThousandLineHeaderBlockPasses() throws Exception {
        StringBuilder filler = new StringBuilder();
        for (int i = 0; i < 9_100; i++) {
            filler.append("Received: from hop").append(i).append(" by hop").append(i + 1).append("\r\n");
        }
        for (int i = 0; i < 900; i++) {
            filler.append("X-F: value ").append(i).append("\r\n");
        }

        Outcome o = arrive(signedByA(filler + message("Hello Bob,")));

        assertThat(o.verdict().result()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void aThousandForgedSignatureHeadersCostAtMostFiveKeyDerivations() throws Exception {
        String signed = signedByA();
        String line = signed.substring(0, signed.indexOf("\r\n"));
        String unsignedPart = signed.substring(signed.indexOf("\r\n") + 2);
        String prefix = line.substring(0, line.indexOf("; b=") + 4);
        StringBuilder forged = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            forged.append(prefix).append((char) ('A' + i % 26)).append("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n");
        }
        int before = receiverVault.derivations();

        Outcome o = arrive(forged + unsignedPart);

        assertFailedWith(o, AuthResult.FAIL, Reason.BAD_MAC);
        assertThat(receiverVault.derivations() - before).as("key derivations for 1,000 signature headers").isLessThanOrEqualTo(5);
    }

    @Test
    void nulBytesAndBareCrInTheBodyAreCaughtWhenChanged() throws Exception {
        String signed = signedByA(message("Hel\0lo\rBob"));

        assertThat(arrive(signed).verdict().result()).isEqualTo(AuthResult.PASS);
        assertFailedWith(arrive(signed.replace("Hel\0lo", "Hello")), AuthResult.FAIL, Reason.BODY_CHANGED);
    }

    @Test
    void bareLfLineEndsStillPass() throws Exception {
        assertThat(arrive(signedByA().replace("\r\n", "\n")).verdict().result()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void invalidUtf8PutIntoASignedHeaderIsABadMac() throws Exception {
        Outcome o = arrive(signedByA().replace("Subject: Quarterly", "Subject: Quarterly \u00c3\u0028\u00ff"));

        assertFailedWith(o, AuthResult.FAIL, Reason.BAD_MAC);
    }

    @Test
    void invalidUtf8InAnAddedTraceFieldLeavesThePass() throws Exception {
        String signed = signedByA();
        int afterSignature = signed.indexOf("\r\n") + 2;

        Outcome o = arrive(signed.substring(0, afterSignature) + "Received: from \u00c3\u0028\u00ff\u00fe\r\n" + signed.substring(afterSignature));

        assertThat(o.verdict().result()).isEqualTo(AuthResult.PASS);
        assertThat(o.matched()).isEmpty();
    }

    @Test
    void invalidUtf8InAnAddedFieldOutsideTheIgnoreListIsAnUnsignedHeader() throws Exception {
        String signed = signedByA();
        int afterSignature = signed.indexOf("\r\n") + 2;

        Outcome o = arrive(signed.substring(0, afterSignature) + "X-Junk: \u00c3\u0028\u00ff\u00fe\r\n" + signed.substring(afterSignature));

        assertFailedWith(o, AuthResult.FAIL, Reason.UNSIGNED_HEADER);
    }

    @Test
    void invalidUtf8AndNulInsideTheSignatureHeaderArePermerrorMalformed() throws Exception {
        assertFailedWith(arrive(signedByA().replace("d=a.example", "d=a.\u00c3\u0028example")), AuthResult.PERMERROR, Reason.MALFORMED);
        assertFailedWith(arrive(signedByA().replace("; s=ka1", "; s=k\0a1")), AuthResult.PERMERROR, Reason.MALFORMED);
    }

    @Test
    void anOversizedTagValueIsPermerrorMalformed() throws Exception {
        assertFailedWith(arrive(signedByA().replace("; b=", "; b=" + "QUFB".repeat(100_000))), AuthResult.PERMERROR, Reason.MALFORMED);
    }

    @Test
    void nonNumericAndNegativeTimesArePermerrorMalformed() throws Exception {
        for (String t : List.of("t=17637x6800", "t=-1")) {
            String s = signedByA();
            String damaged = s.replaceFirst("t=[0-9]+", t);

            assertFailedWith(arrive(damaged), AuthResult.PERMERROR, Reason.MALFORMED);
        }
    }

    @Test
    void unknownVersionAndAlgorithmArePermerror() throws Exception {
        assertFailedWith(arrive(signedByA().replace("v=1;", "v=2;")), AuthResult.PERMERROR, Reason.UNSUPPORTED_VERSION);
        assertFailedWith(arrive(signedByA().replace("a=hmac-sha256", "a=hmac-sha1")), AuthResult.PERMERROR, Reason.UNSUPPORTED_ALGORITHM);
    }

    @Test
    void base64WithJunkIsPermerrorMalformed() throws Exception {
        assertFailedWith(arrive(signedByA().replace("; b=", "; b=*%$")), AuthResult.PERMERROR, Reason.MALFORMED);
        assertFailedWith(arrive(signedByA().replace("; bh=", "; bh=!")), AuthResult.PERMERROR, Reason.MALFORMED);
    }
}
