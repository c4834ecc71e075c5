package org.authhmac.tpm;

import java.nio.file.Path;
import java.util.Properties;

/** Opens the vault that conf/auth-hmac.properties describes. See docs/KEYS.md for the properties. */
public final class KeyVaults {
    private KeyVaults() {
    }

    /**
     * Opens the configured vault; relative paths in the properties resolve against {@code baseDir}
     * (the directory of the properties file).
     *
     * @throws VaultConfigException naming the property at fault
     */
    public static KeyVault open(Properties properties, Path baseDir) {
        return openManaged(properties, baseDir);
    }

    /** Same as {@link #open}, with the key-lifecycle operations the command line needs. */
    public static ManagedKeyVault openManaged(Properties properties, Path baseDir) {
        throw new VaultConfigException("vault.backend", "no backend implemented yet");
    }
}
