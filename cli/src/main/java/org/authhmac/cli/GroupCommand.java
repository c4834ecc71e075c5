package org.authhmac.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** A command that only groups others: run alone, it fails with usage (exit 2) and names them in their order. */
abstract class GroupCommand implements Runnable {
    private final String noun;

    @Spec
    CommandSpec spec;

    GroupCommand() {
        this("subcommand");
    }

    /** @param noun what its commands are called in the error, e.g. "step" */
    GroupCommand(String noun) {
        this.noun = noun;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "name a " + noun + ": " + String.join(", ", spec.subcommands().keySet()));
    }
}
