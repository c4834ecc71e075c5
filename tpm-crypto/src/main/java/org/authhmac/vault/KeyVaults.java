package org.authhmac.vault;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Properties;

/** Opens the vault that conf/auth-hmac.properties describes. See docs/KEYS.md for the properties. */
public final class KeyVaults {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KeyVaults.class);
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
        return open(properties, baseDir, Clock.systemUTC(), true);
    }

    /** System property naming the configuration file; see {@link #defaultConfigFile()}. */
    public static final String CONFIG_PROPERTY = "authhmac.config";
    public static final String CONFIG_FILE_NAME = "auth-hmac.properties";

    /**
     * Where the vault configuration lives: system property {@value #CONFIG_PROPERTY}; else
     * {@code <working.directory>/conf/auth-hmac.properties} (James's server root, as James's own
     * working.directory property says); else {@code conf/auth-hmac.properties} under the current directory, which is
     * the server root when James is started from there.
     */
    public static Path defaultConfigFile() {
        String explicit = System.getProperty(CONFIG_PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String root = System.getProperty("working.directory");
        if (root != null && !root.isBlank()) {
            return Path.of(root, "conf", CONFIG_FILE_NAME);
        }
        return Path.of("conf", CONFIG_FILE_NAME);
    }

    /** Reads a configuration file; relative paths in it resolve against its directory. */
    public static ManagedKeyVault openManaged(Path configFile) {
        if (!Files.isRegularFile(configFile)) {
            throw new VaultConfigException(CONFIG_PROPERTY, "vault configuration " + configFile.toAbsolutePath()
                    + " does not exist (set -D" + CONFIG_PROPERTY + "=<file> or create conf/" + CONFIG_FILE_NAME + ")");
        }
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(configFile)) {
            properties.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new VaultConfigException(CONFIG_PROPERTY, "cannot read " + configFile.toAbsolutePath() + ": " + e.getMessage(), e);
        }
        return openManaged(properties, configFile.toAbsolutePath().getParent());
    }

    /** For tests and tools: a given clock, and the background prefetch thread on or off. */
    public static DefaultKeyVault open(Properties properties, Path baseDir, Clock clock, boolean prefetch) {
        VaultProperties p = new VaultProperties(properties, baseDir);
        p.rejectUnknown(KeyBackends.ownPrefixes(), KeyBackends.knownProperties());
        KeyBackendFactory factory = KeyBackends.named(p.choice("vault.backend", KeyBackends.names()));
        Path keyset = p.path("vault.keysetFile", "auth-hmac-keyset.properties");
        CacheSettings cache = new CacheSettings(
                p.integer("cache.previousPeriods", CacheSettings.DEFAULTS.previousPeriods(), 0, 100),
                p.integer("cache.prefetchSeconds", CacheSettings.DEFAULTS.prefetchSeconds(), 0, 86_400),
                p.integer("cache.maxEntries", CacheSettings.DEFAULTS.maxEntries(), 1, 10_000_000));
        KeyBackend backend = factory.open(p);
        DefaultKeyVault vault;
        try {
            vault = new DefaultKeyVault(backend, keyset, cache, clock, prefetch);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
        // An unreachable TPM at start-up is not a configuration error (it may come back); say so loudly, and let
        // mail be deferred until it does.
        VaultHealth health = vault.health();
        if (health.healthy()) {
            LOG.info("X-Auth-HMAC key vault ({}): {}", factory.name(), health.detail());
        } else {
            LOG.error("X-Auth-HMAC key vault ({}) cannot compute keys now: {}. Signing is deferred and verification answers "
                    + "temperror until it can.", factory.name(), health.detail());
        }
        return vault;
    }
}
