package org.authhmac.cli;

import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.tpm.KeyStatus;
import org.authhmac.tpm.ManagedKeyVault;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.ParentCommand;

/** {@code auth-hmac keys ...}: the key lifecycle, in Tink's order (add, roll out to the peer, promote, retire). */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Generate, import, list, rotate and check keys.",
        subcommands = {GenerateCommand.class, ImportCommand.class, ListCommand.class, RotateCommand.class, CheckCommand.class})
final class KeysCommand implements Runnable {
    @ParentCommand
    AuthHmacCli root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "name a subcommand: generate, import, list, rotate, check");
    }

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
