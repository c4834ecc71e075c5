package org.authhmac.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.ManagedKeyVault;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The peer's side of provisioning: import the export file that {@code keys generate} wrote. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Import a primary exported by the peer's 'keys generate' (same key id on both sides).")
final class ImportCommand implements Callable<Integer> {
    @Mixin
    CommandContext cli;

    @Option(names = "--from", required = true, paramLabel = "FILE", description = "The export file ('-' for standard input).")
    String from;

    @Option(names = "--keyset", description = "Keyset name here (default: the name in the export).")
    String keyset;

    @Mixin
    NewKey.Status status;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = cli.out();
        String text = "-".equals(from)
                ? new String(System.in.readAllBytes(), StandardCharsets.US_ASCII)
                : Files.readString(Path.of(from), StandardCharsets.US_ASCII);
        KeyExport export = KeyExport.parse(text, from);
        try (ManagedKeyVault vault = cli.openVault()) {
            String target = keyset != null ? keyset : export.keyset();
            if (target.isEmpty()) {
                throw new IllegalArgumentException("--keyset is required: the export names no keyset");
            }
            KeyStatus effective = NewKey.status(status.asked("an imported key"), vault, target);
            KeyInfo info = vault.importKey(export.keyId(), target, export.secret().clone(), effective);
            out.printf("%s %s in keyset %s (%s backend)%n", info.status(), info.keyId(), info.keyset(), info.backend());
            if (!"-".equals(from)) {
                out.printf("now destroy %s (and any other copy): the vault holds the key%n", from);
            }
            out.flush();
            return 0;
        } finally {
            export.wipe();
        }
    }
}
