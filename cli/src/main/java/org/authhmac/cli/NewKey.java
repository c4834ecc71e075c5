package org.authhmac.cli;

import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.ManagedKeyVault;
import picocli.CommandLine.Option;

/** The names of a key a command adds ({@code --keyset}, {@code --key-id}), as a picocli mixin. */
final class NewKey {
    @Option(names = "--keyset", required = true, description = "Keyset (partner relationship), e.g. partner-b.")
    String keyset;

    @Option(names = "--key-id", required = true, description = "Key id, the s= tag: 1..64 of [A-Za-z0-9._-].")
    String keyId;

    /** The {@code --status} of a command that adds a key, as a picocli mixin: PRIMARY or ACTIVE. */
    static final class Status {
        @Option(names = "--status", description = "PRIMARY or ACTIVE (default: PRIMARY for the keyset's first key, else ACTIVE).")
        KeyStatus status;

        /**
         * The status asked for, null when none was.
         *
         * @param what how the message names the key, e.g. "a new key"
         */
        KeyStatus asked(String what) {
            if (status == KeyStatus.RETIRED) {
                throw new IllegalArgumentException("--status: " + what + " is PRIMARY or ACTIVE");
            }
            return status;
        }
    }

    /** {@code asked}, or else PRIMARY for a keyset's first key; later keys start ACTIVE so the peer can import them before they sign. */
    static KeyStatus status(KeyStatus asked, ManagedKeyVault vault, String keyset) {
        if (asked != null) {
            return asked;
        }
        try {
            vault.primaryKeyId(keyset);
            return KeyStatus.ACTIVE;
        } catch (UnknownKeyException noPrimaryYet) {
            return KeyStatus.PRIMARY;
        }
    }
}
