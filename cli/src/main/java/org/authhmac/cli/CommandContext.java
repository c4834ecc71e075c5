package org.authhmac.cli;

import java.io.PrintWriter;
import org.authhmac.vault.ManagedKeyVault;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What a command gets from the command line it runs in, as a picocli mixin (it adds no options): the vault that the
 * root's {@code --config} names, and the command's output streams (those a caller of
 * {@link AuthHmacCli#commandLine()} set).
 */
@Command
final class CommandContext {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** Opens the vault; the caller closes it. */
    ManagedKeyVault openVault() {
        return ((AuthHmacCli) command.root().userObject()).openVault();
    }

    PrintWriter out() {
        return command.commandLine().getOut();
    }

    PrintWriter err() {
        return command.commandLine().getErr();
    }
}
