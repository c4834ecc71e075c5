package org.authhmac.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.authhmac.vault.KeyVaults;
import org.authhmac.vault.ManagedKeyVault;
import org.authhmac.vault.VaultConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code auth-hmac}: the operator's command line: keys ({@code keys generate|import|list|rotate|check}) and mailbox
 * keys ({@code users key}) act on the vault James uses (same auth-hmac.properties); {@code verify} and
 * {@code imap-guard} are the mail-client side, with the user's key file (docs/CLIENTS.md).
 */
@Command(name = "auth-hmac", mixinStandardHelpOptions = true, version = "auth-hmac 0.1.0",
        description = "X-Auth-HMAC key lifecycle, per-mailbox keys, and the mail-client side (verify, imap-guard).",
        subcommands = {KeysCommand.class, UsersCommand.class, VerifyCommand.class, ImapGuardCommand.class, CommandLine.HelpCommand.class})
public final class AuthHmacCli implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "auth-hmac.properties (default: -Dauthhmac.config, else <working.directory>/conf/, else ./conf/auth-hmac.properties)")
    Path config;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** Opens the vault described by the configuration; the caller closes it. */
    ManagedKeyVault openVault() {
        if (config != null && !Files.isRegularFile(config)) {
            throw new VaultConfigException("--config", config.toAbsolutePath() + " does not exist");
        }
        return KeyVaults.openManaged(config != null ? config : KeyVaults.defaultConfigFile());
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new AuthHmacCli());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            err.println("auth-hmac: " + e.getMessage());
            return e instanceof VaultConfigException ? 2 : 1;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
