package org.authhmac.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where a command hands a secret out once ({@code --export FILE} or {@code --print}, exactly one): a picocli
 * argument group, {@code @ArgGroup(exclusive = true, multiplicity = "1")}. {@link SecretHandout} does the writing.
 */
final class SecretDestination {
    @Option(names = "--export", paramLabel = "FILE",
            description = "Write the secret (the export for the peer, or the user's key file) to this new file (mode 600).")
    Path file;

    @Option(names = "--print", description = "Print it on standard output instead.")
    boolean print;
}
