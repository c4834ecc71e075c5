package org.authhmac.cli;

import java.io.PrintWriter;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.concurrent.Callable;
import org.authhmac.vault.MailboxKeys;
import org.authhmac.vault.ManagedKeyVault;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code auth-hmac users key}: the CLI twin of {@code PUT /auth-hmac/users/{user}/key}. */
@Command(name = "users", mixinStandardHelpOptions = true, description = "Per-mailbox keys for mail clients.",
        subcommands = {UsersCommand.Key.class})
final class UsersCommand extends GroupCommand {
    @Command(name = "key", mixinStandardHelpOptions = true,
            description = "Issue a mailbox user's own key (keyset user:<address>) and hand its secret out once.")
    static final class Key implements Callable<Integer> {
        @Mixin
        CommandContext cli;

        @Option(names = "--user", required = true, paramLabel = "ADDRESS", description = "The mailbox, e.g. alice@b.example.")
        String user;

        @Option(names = "--rotate", description = "Issue a new key although the mailbox has one (the old key stays ACTIVE).")
        boolean rotate;

        @ArgGroup(exclusive = true, multiplicity = "1")
        SecretDestination destination;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = cli.err();
            SecretHandout handout = new SecretHandout(destination.file, "key file");
            try (ManagedKeyVault vault = cli.openVault()) {
                MailboxKeys.Issued drawn;
                try {
                    drawn = MailboxKeys.draw(vault, user, rotate, new SecureRandom(), Instant.now());
                } catch (MailboxKeys.AlreadyIssuedException e) {
                    err.println("auth-hmac: " + e.getMessage() + " (--rotate)");
                    return 3;
                }
                try {
                    // the key file first: if it cannot be written, nothing is issued, and the next attempt is not
                    // refused as "already has a key" for a key nobody holds
                    handout.writeFirst(drawn.keyFile());
                    MailboxKeys.Issued issued;
                    try {
                        issued = MailboxKeys.store(vault, drawn, rotate);
                    } catch (MailboxKeys.AlreadyIssuedException e) {
                        handout.withdraw();
                        err.println("auth-hmac: " + e.getMessage() + " (--rotate)");
                        return 3;
                    } catch (RuntimeException e) {
                        handout.withdraw();
                        throw e;
                    }
                    try {
                        PrintWriter report = handout.handOut(cli, issued.keyId(), issued.keyFile(), "wrote the key of " + issued.mailbox() + " to "
                                + destination.file + ": give it to the user's mail client over a secure channel, then destroy it");
                        report.printf("PRIMARY %s in keyset %s%s%n", issued.keyId(), issued.keyset(), issued.replaced()
                                .map(old -> " (" + old + " stays ACTIVE; keep its key file to verify older mail)").orElse(""));
                        report.flush();
                        return 0;
                    } finally {
                        issued.wipe();
                    }
                } finally {
                    drawn.wipe();
                }
            }
        }
    }
}
