package org.authhmac.vault.tpm2;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.authhmac.vault.KeyBackend;
import org.authhmac.vault.KeyBackendFactory;
import org.authhmac.vault.VaultConfigException;
import org.authhmac.vault.VaultProperties;
import tss.TpmDeviceTbs;

/** {@code vault.backend=tpm}: a TPM 2.0 over TCP (swtpm, a simulator), a Linux character device, or Windows TBS. */
public final class TpmBackendFactory implements KeyBackendFactory {
    enum Device { TCP, LINUX, TBS }

    @Override
    public String name() {
        return "tpm";
    }

    @Override
    public Set<String> properties() {
        return Set.of("vault.blobDir", "tpm.device", "tpm.host", "tpm.port", "tpm.tcpNoDelay", "tpm.timeoutMillis",
                "tpm.devicePath", "tpm.idleReleaseMillis", "tpm.parent", "tpm.ownerAuth", "tpm.ownerAuthFile");
    }

    @Override
    public KeyBackend open(VaultProperties p) {
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
        byte[] bytes = new String(auth).getBytes(StandardCharsets.UTF_8);
        Arrays.fill(auth, '\0');
        return bytes;
    }
}
