package org.authhmac.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.concurrent.Callable;
import org.authhmac.tpm.ManagedKeyVault;
import org.authhmac.tpm.MailboxKeys;
import org.authhmac.tpm.OwnerOnlyFiles;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code auth-hmac users key}: the CLI twin of {@code PUT /auth-hmac/users/{user}/key}. */
@Command(name = "users", mixinStandardHelpOptions = true, description = "Per-mailbox keys for mail clients.",
        subcommands = {UsersCommand.Key.class})
final class UsersCommand implements Runnable {
    @ParentCommand
    AuthHmacCli root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "name a subcommand: key");
    }

    @Command(name = "key", mixinStandardHelpOptions = true,
            description = "Issue a mailbox user's own key (keyset user:<address>) and hand its secret out once.")
    static final class Key implements Callable<Integer> {
        @ParentCommand
        UsersCommand users;

        @Spec
        CommandSpec spec;

        @Option(names = "--user", required = true, paramLabel = "ADDRESS", description = "The mailbox, e.g. alice@b.example.")
        String user;

        @Option(names = "--rotate", description = "Issue a new key although the mailbox has one (the old key stays ACTIVE).")
        boolean rotate;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Destination destination;

        static final class Destination {
            @Option(names = "--export", paramLabel = "FILE", description = "Write the key file for the user's client to this new file (mode 600).")
            Path file;

            @Option(names = "--print", description = "Print the key file on standard output instead.")
            boolean print;
        }

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try (ManagedKeyVault vault = users.root.openVault()) {
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
                    if (destination.file != null) {
                        writeNew(destination.file, drawn.keyFile());
                    }
                    MailboxKeys.Issued issued;
                    try {
                        issued = MailboxKeys.store(vault, drawn, rotate);
                    } catch (MailboxKeys.AlreadyIssuedException e) {
                        deleteExport();
                        err.println("auth-hmac: " + e.getMessage() + " (--rotate)");
                        return 3;
                    } catch (RuntimeException e) {
                        deleteExport();
                        throw e;
                    }
                    try {
                        report(out, err, issued);
                        return 0;
                    } finally {
                        issued.wipe();
                    }
                } finally {
                    drawn.wipe();
                }
            }
        }

        private void report(PrintWriter out, PrintWriter err, MailboxKeys.Issued issued) {
            PrintWriter report = destination.print ? err : out;
            if (destination.print) {
                out.print(issued.keyFile());
                out.flush();
            } else {
                out.printf("wrote the key of %s to %s: give it to the user's mail client over a secure channel, then destroy it%n",
                        issued.mailbox(), destination.file);
            }
            report.printf("PRIMARY %s in keyset %s%s%n", issued.keyId(), issued.keyset(),
                    issued.replaced().map(old -> " (" + old + " stays ACTIVE; keep its key file to verify older mail)").orElse(""));
            report.flush();
        }

        private void deleteExport() throws IOException {
            if (destination.file != null) {
                Files.deleteIfExists(destination.file);
            }
        }

        /** A new owner-only file (never through a symbolic link, never over an existing file), or an IOException saying why not. */
        static void writeNew(Path file, String text) throws IOException {
            try {
                OwnerOnlyFiles.createNew(file, text.getBytes(StandardCharsets.US_ASCII));
            } catch (FileAlreadyExistsException e) {
                throw new IOException("key file " + file + " already exists (or is a symbolic link); not overwriting it", e);
            } catch (NoSuchFileException e) {
                throw new IOException("cannot write the key file " + file + ": " + e.getMessage(), e);
            }
        }
    }
}
