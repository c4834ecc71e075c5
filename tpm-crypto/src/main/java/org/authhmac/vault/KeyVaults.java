package org.authhmac.vault;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Properties;
import org.authhmac.vault.pkcs11.Pkcs11Backend;
import org.authhmac.vault.pkcs12.Pkcs12Backend;
import org.authhmac.vault.tpm2.CharacterDeviceTpm;
import org.authhmac.vault.tpm2.TcpTpmDevice;
import org.authhmac.vault.tpm2.TpmBackend;
import tss.TpmDeviceTbs;

/** Opens the vault that conf/auth-hmac.properties describes. See docs/KEYS.md for the properties. */
public final class KeyVaults {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KeyVaults.class);
    enum Backend { TPM, PKCS12, PKCS11 }

    enum Device { TCP, LINUX, TBS }

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
        Backend backendType = p.choice("vault.backend", Backend.class);
        Path keyset = p.path("vault.keysetFile", "auth-hmac-keyset.properties");
        CacheSettings cache = new CacheSettings(
                p.integer("cache.previousPeriods", CacheSettings.DEFAULTS.previousPeriods(), 0, 100),
                p.integer("cache.prefetchSeconds", CacheSettings.DEFAULTS.prefetchSeconds(), 0, 86_400),
                p.integer("cache.maxEntries", CacheSettings.DEFAULTS.maxEntries(), 1, 10_000_000));
        KeyBackend backend = switch (backendType) {
            case TPM -> tpm(p);
            case PKCS12 -> new Pkcs12Backend(p.path("pkcs12.file", null), p.secret("pkcs12.password", "pkcs12.passwordFile"));
            case PKCS11 -> pkcs11(p);
        };
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
            LOG.info("X-Auth-HMAC key vault ({}): {}", backendType.name().toLowerCase(java.util.Locale.ROOT), health.detail());
        } else {
            LOG.error("X-Auth-HMAC key vault ({}) cannot compute keys now: {}. Signing is deferred and verification answers "
                    + "temperror until it can.", backendType.name().toLowerCase(java.util.Locale.ROOT), health.detail());
        }
        return vault;
    }

    private static KeyBackend pkcs11(VaultProperties p) {
        Path library = p.path("pkcs11.library", null);
        if (!Files.isRegularFile(library)) {
            throw new VaultConfigException("pkcs11.library", library + " does not exist (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)");
        }
        String slot = p.optional("pkcs11.slot");
        String index = p.optional("pkcs11.slotListIndex");
        if (slot != null && index != null) {
            throw new VaultConfigException("pkcs11.slotListIndex", "set either pkcs11.slot or pkcs11.slotListIndex, not both");
        }
        String slotLine = slot != null
                ? "slot = " + p.integer("pkcs11.slot", 0, 0, Integer.MAX_VALUE)
                : "slotListIndex = " + p.integer("pkcs11.slotListIndex", 0, 0, 1_000);
        return new Pkcs11Backend(library, slotLine, p.secret("pkcs11.pin", "pkcs11.pinFile"));
    }

    /** tpm.parent: "owner" (default: a storage key made from the owner seed) or a persistent handle such as 0x81000001. */
    private static int parentHandle(VaultProperties p) {
        String v = p.string("tpm.parent", "owner");
        if (v.equalsIgnoreCase("owner")) {
            return 0;
        }
        try {
            long h = Long.decode(v);
            if ((h >>> 24) != 0x81) { // also refuses negative values and anything above 32 bits
                throw new NumberFormatException();
            }
            return (int) h;
        } catch (NumberFormatException e) {
            throw new VaultConfigException("tpm.parent", "must be 'owner' or a persistent handle 0x81xxxxxx, not '" + v + "'");
        }
    }

    private static byte[] ownerAuth(VaultProperties p, int parent) {
        if (p.optional("tpm.ownerAuth") == null && p.optional("tpm.ownerAuthFile") == null) {
            return new byte[0];
        }
        if (parent != 0) {
            throw new VaultConfigException("tpm.ownerAuth", "only applies with tpm.parent=owner");
        }
        char[] auth = p.secret("tpm.ownerAuth", "tpm.ownerAuthFile");
        byte[] bytes = new String(auth).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.util.Arrays.fill(auth, '\0');
        return bytes;
    }

    private static KeyBackend tpm(VaultProperties p) {
        Path blobDir = p.path("vault.blobDir", "auth-hmac-keys");
        Device device = p.choice("tpm.device", Device.class);
        int timeout = p.integer("tpm.timeoutMillis", 5_000, 1, 600_000);
        int parent = parentHandle(p);
        byte[] ownerAuth = ownerAuth(p, parent);
        return switch (device) {
            case TCP -> {
                String host = p.string("tpm.host", "127.0.0.1");
                int port = p.integer("tpm.port", -1, -1, 65_534);
                if (port < 1) {
                    throw new VaultConfigException("tpm.port", "is required with tpm.device=tcp (the emulator's command port, 1..65534)");
                }
                boolean noDelay = p.bool("tpm.tcpNoDelay", true);
                int idle = p.integer("tpm.idleReleaseMillis", 1_000, 0, 3_600_000);
                yield new TpmBackend(() -> new TcpTpmDevice(host, port, noDelay, timeout), "tcp:" + host + ":" + port, blobDir, true, idle, parent, ownerAuth);
            }
            case LINUX -> {
                String path = p.string("tpm.devicePath", "/dev/tpmrm0");
                yield new TpmBackend(() -> new CharacterDeviceTpm(path), path, blobDir, false, p.integer("tpm.idleReleaseMillis", 0, 0, 3_600_000), parent, ownerAuth);
            }
            case TBS -> {
                if (!System.getProperty("os.name", "").startsWith("Windows")) {
                    throw new VaultConfigException("tpm.device", "tbs (TPM Base Services) exists only on Windows");
                }
                yield new TpmBackend(TpmDeviceTbs::new, "Windows TBS", blobDir, false, p.integer("tpm.idleReleaseMillis", 0, 0, 3_600_000), parent, ownerAuth);
            }
        };
    }
}
