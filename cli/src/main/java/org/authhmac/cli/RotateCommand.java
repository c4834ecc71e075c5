package org.authhmac.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.ManagedKeyVault;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Rotation in Tink's order so that no in-flight mail fails: add the new key as ACTIVE (it verifies, it does not sign)
 * and import it on the peer; promote it to PRIMARY (the old primary becomes ACTIVE and keeps verifying mail signed
 * before the switch); retire the old key once that mail has drained (after the verification window, 2 periods).
 */
@Command(name = "rotate", mixinStandardHelpOptions = true, description = "Rotate keys: add, then promote, then retire.",
        subcommands = {RotateCommand.Add.class, RotateCommand.Promote.class, RotateCommand.Retire.class})
final class RotateCommand extends GroupCommand {
    RotateCommand() {
        super("step");
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Step 1: generate a new ACTIVE key in the keyset and export it for the peer.")
    static final class Add implements Callable<Integer> {
        @Mixin
        CommandContext cli;

        @Mixin
        NewKey key;

        @ArgGroup(exclusive = true, multiplicity = "1")
        SecretDestination destination;

        @Override
        public Integer call() throws Exception {
            return GenerateCommand.generate(cli, key.keyset, key.keyId, KeyStatus.ACTIVE, destination);
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = "Step 2: make the key PRIMARY (new signatures use it); the previous primary stays ACTIVE.")
    static final class Promote extends StatusStep {
        Promote() {
            super(KeyStatus.PRIMARY);
        }
    }

    @Command(name = "retire", mixinStandardHelpOptions = true,
            description = "Step 3: retire a non-primary key; mail under it then fails as unknown-key.")
    static final class Retire extends StatusStep {
        Retire() {
            super(KeyStatus.RETIRED);
        }
    }

    /** A step that gives one key a new status, then shows the other keys of its keyset. */
    abstract static class StatusStep implements Callable<Integer> {
        private final KeyStatus status;

        @Mixin
        CommandContext cli;

        @Option(names = "--key-id", required = true)
        String keyId;

        StatusStep(KeyStatus status) {
            this.status = status;
        }

        @Override
        public Integer call() throws Exception {
            PrintWriter out = cli.out();
            try (ManagedKeyVault vault = cli.openVault()) {
                KeyInfo info = vault.setStatus(keyId, status);
                out.printf("%s %s in keyset %s%n", info.status(), info.keyId(), info.keyset());
                for (KeyInfo k : vault.keys()) {
                    if (k.keyset().equals(info.keyset()) && !k.keyId().equals(keyId)) {
                        out.printf("  %s %s%n", k.status(), k.keyId());
                    }
                }
                out.flush();
                return 0;
            }
        }
    }
}
