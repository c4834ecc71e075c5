package org.authhmac.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.Callable;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVault;
import org.authhmac.vault.VaultHealth;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Is the key store reachable, and does each usable key derive the same period key twice? The probe uses period 1
 * (1970) of the reserved domain check.invalid: outside the cache window, so both derivations reach the TPM.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Check the vault: key store reachable, and two derivations per usable key match. Exit 1 if not.")
final class CheckCommand implements Callable<Integer> {
    @Mixin
    CommandContext cli;

    @Option(names = "--key-id", description = "Check only this key (default: every PRIMARY and ACTIVE key).")
    String keyId;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = cli.out();
        try (KeyVault vault = cli.openVault()) {
            VaultHealth health = vault.health();
            out.printf("%s: %s%n", health.healthy() ? "reachable" : "UNREACHABLE", health.detail());
            boolean ok = health.healthy();
            List<KeyInfo> toCheck = vault.keys().stream()
                    .filter(k -> keyId == null ? k.status() != KeyStatus.RETIRED : k.keyId().equals(keyId))
                    .toList();
            if (keyId != null && toCheck.isEmpty()) {
                out.printf("no key %s%n", keyId);
                ok = false;
            }
            byte[] probe = "auth-hmac keys check".getBytes(StandardCharsets.US_ASCII);
            for (KeyInfo k : toCheck) {
                KdfContext ctx = new KdfContext(k.keyId(), "check.invalid", 900, 1);
                try {
                    PeriodKey first = vault.periodKey(ctx); // may include connecting and loading the key
                    long start = System.nanoTime();
                    PeriodKey second = vault.periodKey(ctx);
                    double ms = (System.nanoTime() - start) / 1e6;
                    boolean same = MessageDigest.isEqual(first.newMac().doFinal(probe), second.newMac().doFinal(probe));
                    out.printf("%s %s: %s (second derivation %.2f ms)%n", k.keyId(), k.status(),
                            same ? "two derivations match" : "DERIVATIONS DIFFER", ms);
                    ok &= same;
                } catch (Exception e) {
                    out.printf("%s %s: FAILED: %s%n", k.keyId(), k.status(), e.getMessage());
                    ok = false;
                }
            }
            out.println(ok ? "OK" : "FAILED");
            out.flush();
            return ok ? 0 : 1;
        }
    }
}
