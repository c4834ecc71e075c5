package org.authhmac.cli;

import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.ManagedKeyVault;
import picocli.CommandLine.Command;

/** {@code auth-hmac keys ...}: the key lifecycle, in Tink's order (add, roll out to the peer, promote, retire). */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Generate, import, list, rotate and check keys.",
        subcommands = {GenerateCommand.class, ImportCommand.class, ListCommand.class, RotateCommand.class, CheckCommand.class})
final class KeysCommand extends GroupCommand {
    /** PRIMARY for a keyset's first key; later keys start ACTIVE so the peer can import them before they sign. */
    static KeyStatus defaultStatus(ManagedKeyVault vault, String keyset) {
        try {
            vault.primaryKeyId(keyset);
            return KeyStatus.ACTIVE;
        } catch (UnknownKeyException noPrimaryYet) {
            return KeyStatus.PRIMARY;
        }
    }
}
