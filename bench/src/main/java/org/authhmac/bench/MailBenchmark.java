package org.authhmac.bench;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.james.jdkim.DKIMSigner;
import org.apache.james.jdkim.DKIMVerifier;
import org.apache.james.jdkim.api.PublicKeyRecordRetriever;
import org.apache.james.jdkim.api.SignatureRecord;
import org.authhmac.protocol.BodyHash;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.vault.DefaultKeyVault;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One message, four ways: the limit (SHA-256 of the body plus one HMAC), our sign and verify, and DKIM rsa-sha256
 * sign and verify with Apache jDKIM (2048-bit key). Messages per second, so that ratios read directly.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class MailBenchmark {

    /** The ceiling: nothing but the two cryptographic operations signing cannot avoid, on reused instances. */
    @State(Scope.Thread)
    public static class Limit {
        MessageDigest sha256;
        Mac hmac;
        int headerBytes;

        @Setup(Level.Trial)
        public void setup(MessageState m) throws GeneralSecurityException {
            sha256 = MessageDigest.getInstance("SHA-256");
            hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
            headerBytes = m.bodyOffset;
        }
    }

    /** Our signer and verifier on a PKCS#12 vault whose period-key cache is warm, as in steady-state operation. */
    @State(Scope.Benchmark)
    public static class Ours {
        Path dir;
        DefaultKeyVault vault;
        Signer signer;
        Verifier verifier;
        List<SignRequest> request;
        byte[] signed;

        @Setup(Level.Trial)
        public void setup(MessageState m) throws Exception {
            dir = Fixtures.tempDir();
            vault = Fixtures.openVault(Fixtures.pkcs12Properties(), dir);
            signer = new Signer(SignerSettings.defaults());
            request = Fixtures.requests(1);
            signed = Messages.prepend(signer.sign(new ByteArrayInputStream(m.message), request, vault), m.message);
            // The replay cache's clock stands after the signature's maximum age, so each entry is purged by the next
            // call: every verification pays lookup, insert and purge, and every one passes (asserted below).
            InMemoryReplayCache replay = new InMemoryReplayCache(100_000, Duration.ZERO,
                    Clock.fixed(Fixtures.SIGNED_AT.plus(Duration.ofHours(2)), ZoneOffset.UTC));
            // the receiving server's path: keys for received headers through the vault's verification view
            verifier = new Verifier(VerifierSettings.defaults(), vault.forVerification(() -> { }), replay);
            for (int i = 0; i < 2; i++) {
                // Through the stream method, which every protocol build has (JarComparison loads older ones too).
                Verdict v = verifier.verify(new ByteArrayInputStream(signed), Fixtures.ACCEPTED_AT, "bob@b.example");
                if (!(v instanceof Verdict.Pass)) {
                    throw new IllegalStateException("benchmark message does not verify: " + v);
                }
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            vault.close();
            Fixtures.delete(dir);
        }
    }

    /** jDKIM with a 2048-bit RSA key; the verifier's key lookup is answered in process (no DNS). */
    @State(Scope.Benchmark)
    public static class Dkim {
        static final String TEMPLATE = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=a.example; s=bench; "
                + "h=from:to:cc:subject:date:message-id:mime-version:content-type; bh=; b=;";
        DKIMSigner signer;
        PublicKeyRecordRetriever keys;
        byte[] signed;

        @Setup(Level.Trial)
        public void setup(MessageState m) throws Exception {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048, new SecureRandom());
            KeyPair pair = g.generateKeyPair();
            signer = new DKIMSigner(TEMPLATE, pair.getPrivate());
            String record = "v=DKIM1; k=rsa; p=" + Base64.getEncoder().encodeToString(pair.getPublic().getEncoded());
            keys = (method, selector, domain) -> List.of(record);
            String header = signer.sign(new ByteArrayInputStream(m.message));
            if (!header.regionMatches(true, 0, "DKIM-Signature:", 0, 15)) {
                header = "DKIM-Signature: " + header;
            }
            signed = Messages.prepend(List.of(header), m.message);
            List<SignatureRecord> ok = dkimVerifyOnce(this);
            if (ok == null || ok.isEmpty()) {
                throw new IllegalStateException("benchmark message does not verify with jDKIM");
            }
        }
    }

    @Benchmark
    public byte[] limit(MessageState m, Limit s) {
        s.sha256.update(m.message, m.bodyOffset, m.message.length - m.bodyOffset);
        byte[] bodyHash = s.sha256.digest();
        // The MAC covers about as many bytes as ours does: the header block and the body hash.
        s.hmac.update(m.message, 0, s.headerBytes);
        s.hmac.update(bodyHash);
        return s.hmac.doFinal();
    }

    /** The path the signing mailets take: the message serialized into an array, signed in place. */
    @Benchmark
    public List<String> sign(MessageState m, Ours s) throws Exception {
        return s.signer.sign(m.message, 0, m.message.length, s.request, s.vault);
    }

    @Benchmark
    public Verdict verify(Ours s) {
        return verifyOnce(s);
    }

    /** The path the validating matcher takes: the message serialized into an array, verified in place. */
    static Verdict verifyOnce(Ours s) {
        return s.verifier.verify(s.signed, 0, s.signed.length, Fixtures.ACCEPTED_AT, RECIPIENT).get("bob@b.example");
    }

    private static final List<String> RECIPIENT = List.of("bob@b.example");

    @Benchmark
    public String dkimSign(MessageState m, Dkim d) throws Exception {
        return d.signer.sign(new ByteArrayInputStream(m.message));
    }

    @Benchmark
    public List<SignatureRecord> dkimVerify(Dkim d) throws Exception {
        return dkimVerifyOnce(d);
    }

    static List<SignatureRecord> dkimVerifyOnce(Dkim d) throws Exception {
        // A verifier keeps its results, so one per message, as James's DKIM mailet does.
        return new DKIMVerifier(d.keys).verify(new ByteArrayInputStream(d.signed));
    }

    /** Relaxed body canonicalization and hash alone; run with -prof gc to see that allocation does not grow with size. */
    @Benchmark
    public byte[] relaxedBodyHash(MessageState m) throws Exception {
        return BodyHash.of(Canonicalization.RELAXED,
                new ByteArrayInputStream(m.message, m.bodyOffset, m.message.length - m.bodyOffset));
    }

    @Benchmark
    public byte[] simpleBodyHash(MessageState m) throws Exception {
        return BodyHash.of(Canonicalization.SIMPLE,
                new ByteArrayInputStream(m.message, m.bodyOffset, m.message.length - m.bodyOffset));
    }
}
