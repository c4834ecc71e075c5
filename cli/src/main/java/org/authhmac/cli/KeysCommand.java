package org.authhmac.cli;

import picocli.CommandLine.Command;

/** {@code auth-hmac keys ...}: the key lifecycle, in Tink's order (add, roll out to the peer, promote, retire). */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Generate, import, list, rotate and check keys.",
        subcommands = {GenerateCommand.class, ImportCommand.class, ListCommand.class, RotateCommand.class, CheckCommand.class})
final class KeysCommand extends GroupCommand {
}
