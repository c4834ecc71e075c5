package org.authhmac.vault.pkcs11;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.authhmac.vault.KeyBackend;
import org.authhmac.vault.KeyBackendFactory;
import org.authhmac.vault.VaultConfigException;
import org.authhmac.vault.VaultProperties;

/** {@code vault.backend=pkcs11}: a PKCS#11 token (an HSM; SoftHSM2 in tests) through the JDK's SunPKCS11. */
public final class Pkcs11BackendFactory implements KeyBackendFactory {
    @Override
    public String name() {
        return "pkcs11";
    }

    @Override
    public Set<String> properties() {
        return Set.of("pkcs11.library", "pkcs11.slot", "pkcs11.slotListIndex", "pkcs11.pin", "pkcs11.pinFile");
    }

    @Override
    public KeyBackend open(VaultProperties p) {
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
}
