package org.authhmac.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.ManagedKeyVault;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Key ids, keysets, statuses, creation times, backends and public fingerprints: never key bytes. Nodes holding the
 * same primary show the same fingerprint (docs/PROTOCOL.md, appendix A), which the backend computes from the key it
 * holds; a fingerprint it cannot compute now shows as {@code unavailable}, and the exit status is then 1.
 */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "List keys with their public fingerprints (never key bytes). Exit 1 if a fingerprint cannot be computed.")
final class ListCommand implements Callable<Integer> {
    static final String UNAVAILABLE = "unavailable";

    @Mixin
    CommandContext cli;

    @Override
    public Integer call() {
        PrintWriter out = cli.out();
        boolean allShown = true;
        try (ManagedKeyVault vault = cli.openVault()) {
            List<KeyInfo> all = vault.keys();
            String format = "%-20s %-20s %-8s %-21s %-7s %s%n";
            out.printf(format, "KEY ID", "KEYSET", "STATUS", "CREATED", "BACKEND", "FINGERPRINT");
            for (KeyInfo k : all) {
                String fingerprint;
                try {
                    fingerprint = vault.fingerprint(k.keyId()).grouped();
                } catch (KeyUnavailableException | UnknownKeyException e) {
                    // unknown: removed by another process since the listing was read
                    fingerprint = UNAVAILABLE;
                    allShown = false;
                    cli.err().printf("%s: no fingerprint: %s%n", k.keyId(), e.getMessage());
                }
                out.printf(format, k.keyId(), k.keyset(), k.status(), k.created(), k.backend(), fingerprint);
            }
            out.flush();
            cli.err().flush();
            return allShown ? 0 : 1;
        }
    }
}
