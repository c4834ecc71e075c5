package org.authhmac.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyVault;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Key ids, keysets, statuses, creation times, backends: never key bytes. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "List keys (never key bytes).")
final class ListCommand implements Callable<Integer> {
    @Mixin
    CommandContext cli;

    @Override
    public Integer call() {
        PrintWriter out = cli.out();
        try (KeyVault vault = cli.openVault()) {
            List<KeyInfo> all = vault.keys();
            String format = "%-20s %-20s %-8s %-21s %s%n";
            out.printf(format, "KEY ID", "KEYSET", "STATUS", "CREATED", "BACKEND");
            for (KeyInfo k : all) {
                out.printf(format, k.keyId(), k.keyset(), k.status(), k.created(), k.backend());
            }
            out.flush();
            return 0;
        }
    }
}
