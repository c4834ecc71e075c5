package org.authhmac.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.authhmac.tpm.KeyInfo;
import org.authhmac.tpm.KeyVault;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** Key ids, keysets, statuses, creation times, backends: never key bytes. */
@Command(name = "list", mixinStandardHelpOptions = true, description = "List keys (never key bytes).")
final class ListCommand implements Callable<Integer> {
    @ParentCommand
    KeysCommand keys;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (KeyVault vault = keys.root.openVault()) {
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
