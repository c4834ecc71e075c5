package org.authhmac.cli;

import java.io.PrintWriter;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.ManagedKeyVault;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * A shared secret cannot be born inside one TPM (the peer needs it too): it is drawn from SecureRandom here,
 * exported once for the peer, imported into the vault, and wiped from memory.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate a new 256-bit primary, import it into the vault, and export it once for the peer.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    CommandContext cli;

    @Mixin
    NewKey key;

    @Mixin
    NewKey.Status status;

    @ArgGroup(exclusive = true, multiplicity = "1")
    SecretDestination destination;

    @Override
    public Integer call() throws Exception {
        return generate(cli, key.keyset, key.keyId, status.asked("a new key"), destination);
    }

    /** @param status PRIMARY or ACTIVE; null for the default ({@link NewKey#status}) */
    static int generate(CommandContext cli, String keyset, String keyId, KeyStatus status, SecretDestination destination)
            throws Exception {
        byte[] primary = new byte[32];
        new SecureRandom().nextBytes(primary);
        KeyExport export = new KeyExport(keyId, keyset, Instant.now().truncatedTo(ChronoUnit.SECONDS), primary);
        SecretHandout handout = new SecretHandout(destination.file, "export file");
        try (ManagedKeyVault vault = cli.openVault()) {
            KeyStatus effective = NewKey.status(status, vault, keyset);
            // The export is written first and removed if the import fails: a key the peer cannot get is useless,
            // and a vault without the exported key would verify nothing.
            handout.writeFirst(export.text());
            KeyInfo info;
            try {
                info = vault.importKey(keyId, keyset, primary.clone(), effective);
            } catch (RuntimeException e) {
                handout.withdraw();
                throw e;
            }
            // with --print, the export alone goes to standard output, so that it can be piped to the peer's
            // 'keys import --from -'
            PrintWriter report = handout.handOut(cli, keyId, export.text(), "exported the secret of " + keyId + " to " + destination.file
                    + ": carry it to the peer over a secure channel, import it there, then destroy the file");
            report.printf("%s %s in keyset %s (%s backend)%n", info.status(), info.keyId(), info.keyset(), info.backend());
            if (info.status() == KeyStatus.ACTIVE) {
                report.printf("once the peer has imported it: auth-hmac keys rotate promote --key-id %s%n", keyId);
            }
            report.flush();
            return 0;
        } finally {
            export.wipe();
        }
    }
}
