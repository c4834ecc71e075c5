package org.authhmac.bench;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A 10 KB message addressed to several partner domains: one signature header (one key) per partner. The signer
 * hashes the body once and makes one MAC per key; the receiver at b.example finds its header last of all
 * (the worst case) and checks the others only for their recipient binding.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class PartnerKeysBenchmark {
    @Param({"1", "2", "5"})
    public int partners;

    byte[] message;
    Path dir;
    DefaultKeyVault vault;
    Signer signer;
    Verifier verifier;
    List<SignRequest> requests;
    byte[] signed;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        message = Messages.mime(Messages.bytes("10KB"));
        dir = Fixtures.tempDir();
        vault = Fixtures.openVault(Fixtures.pkcs12Properties(), dir);
        signer = new Signer(SignerSettings.defaults());
        requests = Fixtures.requests(partners);
        List<String> headers = new ArrayList<>(signer.sign(new ByteArrayInputStream(message), requests, vault));
        // b.example's header (the first request) goes to the bottom: the verifier evaluates top-most first.
        Collections.reverse(headers);
        signed = Messages.prepend(headers, message);
        // the receiving server's path: keys for received headers through the vault's verification view
        verifier = new Verifier(VerifierSettings.defaults(), vault.forVerification(() -> { }), new InMemoryReplayCache(100_000, Duration.ZERO,
                Clock.fixed(Fixtures.SIGNED_AT.plus(Duration.ofHours(2)), ZoneOffset.UTC)));
        // Warm every partner's period key, as a receiver that hears from all of them has.
        for (int i = 1; i <= partners; i++) {
            String rcpt = "user@" + Fixtures.partnerDomain(i);
            Verdict v = verifier.verify(new ByteArrayInputStream(signed), Fixtures.ACCEPTED_AT, rcpt);
            if (!(v instanceof Verdict.Pass)) {
                throw new IllegalStateException("partner " + i + " header does not verify: " + v);
            }
        }
        if (!(verifyAmongPartners() instanceof Verdict.Pass)) {
            throw new IllegalStateException("b.example header does not verify");
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        vault.close();
        Fixtures.delete(dir);
    }

    @Benchmark
    public List<String> signForPartners() throws Exception {
        // In place, as the signing mailets do (MailBenchmark.sign).
        return signer.sign(message, 0, message.length, requests, vault);
    }

    @Benchmark
    public Verdict verifyAmongPartners() {
        return verifier.verify(signed, 0, signed.length, Fixtures.ACCEPTED_AT, BOB).get("bob@b.example");
    }

    private static final List<String> BOB = List.of("bob@b.example");
}
