package org.authhmac.bench;

import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.testing.pkcs11.SoftHsm;
import org.authhmac.testing.tpm.Swtpm;
import org.authhmac.vault.CacheSettings;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.tpm2.TpmBackend;
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
import tss.TpmDeviceTcp;

/**
 * A period key from the vault with its cache out of play: each call asks for a period before the vault's cache
 * window, which the vault derives (one backend operation: TPM2_HMAC for the TPM) and never caches. The TPM is
 * swtpm over TCP; tpm.tcpNoDelay (the vault's own switch) turns Nagle's algorithm off (default) or on.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class KeyDerivationBenchmark {
    /**
     * tpm-nodelay and tpm-nagle: the vault as configured (tpm.tcpNoDelay=true/false) with its own TCP device, which
     * sends each command in one write. tss-tcp-nagle: the same vault over TSS.Java's stock TpmDeviceTcp, which sends
     * a command in four small writes without TCP_NODELAY: the 40 ms Nagle/delayed-ACK stall the vault avoids.
     * pkcs11: SoftHSM2 through SunPKCS11; needs SOFTHSM2_CONF set before the JVM starts (bench/run does it).
     */
    @Param({"tpm-nodelay", "tpm-nagle", "tss-tcp-nagle", "pkcs12", "pkcs11"})
    public String vault;

    Swtpm swtpm;
    Path dir;
    DefaultKeyVault keys;
    /** The vault's current period; its cache window is one period back and one ahead. */
    final long current = Fixtures.SIGNED_AT.getEpochSecond() / 900;
    long calls;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = Fixtures.tempDir();
        Properties p;
        if (vault.equals("pkcs11")) {
            p = SoftHsm.freshToken();
        } else if (!vault.equals("pkcs12")) {
            swtpm = Swtpm.start();
            p = new Properties();
            p.setProperty("vault.backend", "tpm");
            p.setProperty("tpm.device", "tcp");
            p.setProperty("tpm.host", swtpm.host());
            p.setProperty("tpm.port", Integer.toString(swtpm.port()));
            p.setProperty("tpm.tcpNoDelay", Boolean.toString(vault.equals("tpm-nodelay")));
        } else {
            p = Fixtures.pkcs12Properties();
        }
        if (vault.equals("tss-tcp-nagle")) {
            String host = swtpm.host();
            int port = swtpm.port();
            TpmBackend backend = new TpmBackend(() -> new TpmDeviceTcp(host, port), "tss:" + host + ":" + port,
                    dir.resolve("auth-hmac-keys"), true);
            keys = Fixtures.openVault(new DefaultKeyVault(backend, dir.resolve("auth-hmac-keyset.properties"),
                    CacheSettings.DEFAULTS, Clock.fixed(Fixtures.SIGNED_AT, ZoneOffset.UTC), false));
        } else {
            keys = Fixtures.openVault(p, dir);
        }
        derive();
    }

    @TearDown(Level.Trial)
    public void close() {
        int cached = keys.cachedKeyCount();
        keys.close();
        if (swtpm != null) {
            swtpm.close();
        }
        Fixtures.delete(dir);
        if (cached != 0) {
            throw new IllegalStateException(cached + " period keys were cached: the benchmark did not measure derivation");
        }
    }

    @Benchmark
    public PeriodKey derive() throws Exception {
        // Periods from two before the current one downwards: always outside the window, so never cached.
        long period = current - 2 - (calls++ % (current - 2));
        return keys.periodKey(new KdfContext(Fixtures.keyId(1), "a.example", 900, period));
    }
}
