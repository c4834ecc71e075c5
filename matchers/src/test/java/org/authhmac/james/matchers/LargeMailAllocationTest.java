package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.util.SharedByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Properties;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.mailets.SignForMailbox;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.Test;

/**
 * Memory per large mail, counted, not timed: the bytes each of our steps allocates (the JVM's per-thread allocation
 * counter) for a 50 MiB mail with 9 KB of header fields. Each step serializes the message once into a buffer sized
 * from the message itself, so it allocates about the mail's size, not two to four times it. Figures in
 * docs/PERFORMANCE.md ("Memory per large mail").
 */
class LargeMailAllocationTest {
    static final int BODY = 50 * 1024 * 1024;
    static final Instant NOW = Instant.parse("2026-11-22T02:00:00Z");
    static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    InMemoryKeyVault vault = new InMemoryKeyVault()
            .add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"))
            .add("ka1r", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b"))
            .add("mbx-bob", "user:bob@b.example", KeyStatus.PRIMARY, InMemoryKeyVault.primary("bob"));

    @Test
    void eachStepAllocatesAboutTheMailsSizeNotAMultipleOfIt() throws Exception {
        byte[] raw = message();
        long size = raw.length;

        // the sending server signs it
        SignWithAuthHmac signer = new SignWithAuthHmac(vault, new RecordingMetricFactory(), Clock.fixed(NOW, ZoneOffset.UTC),
                TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        FakeMail outbound = mail(raw);
        long sign = allocated(() -> signer.service(outbound));
        assertThat(outbound.getMessage().getHeader("X-Auth-HMAC")).hasSize(1);
        byte[] signed = org.authhmac.james.testing.Mails.bytes(outbound.getMessage());

        // the receiving server verifies it
        AuthHmacFailed matcher = new AuthHmacFailed(new InMemoryKeyVault()
                .add("ka1", "partner-a", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a-b")),
                new InMemoryReplayCache(10, Clock.fixed(NOW, ZoneOffset.UTC)), new RecordingMetricFactory(),
                TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example"));
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed")
                .mailetContext(FakeMailContext.defaultContext()).build());
        FakeMail inbound = mail(signed);
        long verify = allocated(() -> matcher.match(inbound));
        assertThat(RecordedVerdict.readFrom(inbound)).hasValueSatisfying(v -> assertThat(v.result().token()).isEqualTo("pass"));

        // and signs it for bob's mailbox at delivery
        SignForMailbox mailboxSigner = new SignForMailbox(vault, new RecordingMetricFactory(), Clock.fixed(NOW, ZoneOffset.UTC));
        mailboxSigner.init(FakeMailetConfig.builder().mailetName("SignForMailbox").mailetContext(FakeMailContext.defaultContext()).build());
        FakeMail delivered = mail(signed);
        long mailbox = allocated(() -> mailboxSigner.service(delivered));
        assertThat(delivered.getPerRecipientSpecificHeaders().getRecipientsWithSpecificHeaders()).hasSize(1);

        System.out.printf("allocated for a %,d-byte mail (9 KB of header fields): SignWithAuthHmac %,d (%.2fx), "
                        + "AuthHmacFailed %,d (%.2fx), SignForMailbox %,d (%.2fx)%n",
                size, sign, (double) sign / size, verify, (double) verify / size, mailbox, (double) mailbox / size);
        long bound = size + size / 4;
        assertThat(sign).as("SignWithAuthHmac").isLessThan(bound);
        assertThat(verify).as("AuthHmacFailed").isLessThan(bound);
        assertThat(mailbox).as("SignForMailbox").isLessThan(bound);
    }

    /** 9 KB of header fields (a long Received trail) over a 50 MiB text body. */
    static byte[] message() {
        StringBuilder h = new StringBuilder("From: alice@a.example\r\nTo: bob@b.example\r\nSubject: the archive\r\n"
                + "Date: Sun, 22 Nov 2026 02:00:00 +0000\r\nMessage-ID: <large@a.example>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n");
        for (int i = 0; h.length() < 9 * 1024; i++) {
            h.append("Received: from relay").append(i).append(".example.net (relay").append(i)
                    .append(".example.net [192.0.2.").append(i % 250).append("]) by mx.example.org; Sun, 22 Nov 2026 01:59:00 +0000\r\n");
        }
        h.append("\r\n");
        byte[] head = h.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] line = ("x".repeat(76) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + BODY];
        System.arraycopy(head, 0, out, 0, head.length);
        for (int at = head.length; at < out.length; at += line.length) {
            System.arraycopy(line, 0, out, at, Math.min(line.length, out.length - at));
        }
        out[out.length - 2] = '\r';
        out[out.length - 1] = '\n';
        return out;
    }

    /** A parsed mail that shares the given bytes (as James's own message source does), so setting up costs nothing. */
    static FakeMail mail(byte[] raw) throws Exception {
        MimeMessage m = new MimeMessage(Session.getInstance(new Properties()), new SharedByteArrayInputStream(raw));
        // submitted by alice with SMTP AUTH, so that the signing step signs it
        return FakeMail.builder().name("large").mimeMessage(m).sender("alice@a.example").recipients("bob@b.example")
                .attribute(new org.apache.mailet.Attribute(org.apache.mailet.Mail.SMTP_AUTH_USER,
                        org.apache.mailet.AttributeValue.of("alice@a.example")))
                .lastUpdated(java.util.Date.from(NOW)).state("transport").build();
    }

    interface Step {
        void run() throws Exception;
    }

    static long allocated(Step step) throws Exception {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        step.run();
        return THREADS.getCurrentThreadAllocatedBytes() - before;
    }
}
