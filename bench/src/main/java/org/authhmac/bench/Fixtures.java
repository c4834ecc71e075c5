package org.authhmac.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Stream;
import org.authhmac.protocol.SignRequest;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;

/** What the benchmarks share: the signing time, the partner keys, and vaults in throw-away directories. */
final class Fixtures {
    /** Signing time; the receiving server accepts the mail 5 s later. */
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    static final Instant ACCEPTED_AT = SIGNED_AT.plusSeconds(5);
    static final int MAX_PARTNERS = 5;

    private Fixtures() {
    }

    /** Key id of partner i (1-based): one key per partner relationship, as a real deployment has. */
    static String keyId(int partner) {
        return "partner" + partner + "-k1";
    }

    static String partnerDomain(int partner) {
        return partner == 1 ? "b.example" : "p" + partner + ".example";
    }

    /** One signature per partner domain, partner 1 (b.example, bob's domain) first. */
    static List<SignRequest> requests(int partners) {
        List<SignRequest> out = new ArrayList<>();
        for (int i = 1; i <= partners; i++) {
            out.add(new SignRequest(keyId(i), "a.example", partnerDomain(i), SIGNED_AT));
        }
        return out;
    }

    static Properties pkcs12Properties() {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "bench-password");
        return p;
    }

    /**
     * A vault whose clock stands at the signing time, holding one key per partner (deterministic primaries), without
     * the prefetch thread; the caller warms its period-key cache by using it.
     */
    static DefaultKeyVault openVault(Properties properties, Path dir) {
        return openVault(KeyVaults.open(properties, dir, Clock.fixed(SIGNED_AT, ZoneOffset.UTC), false));
    }

    /** Imports the partner keys into a vault opened by the caller. */
    static DefaultKeyVault openVault(DefaultKeyVault vault) {
        Random r = new Random(42);
        for (int i = 1; i <= MAX_PARTNERS; i++) {
            byte[] primary = new byte[32];
            r.nextBytes(primary);
            vault.importKey(keyId(i), "partner-" + i, primary, KeyStatus.PRIMARY);
        }
        return vault;
    }

    static Path tempDir() {
        try {
            return Files.createTempDirectory("auth-hmac-bench-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
