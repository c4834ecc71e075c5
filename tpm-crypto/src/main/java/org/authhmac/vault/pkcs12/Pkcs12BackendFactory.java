package org.authhmac.vault.pkcs12;

import java.util.Set;
import org.authhmac.vault.KeyBackend;
import org.authhmac.vault.KeyBackendFactory;
import org.authhmac.vault.VaultProperties;

/** {@code vault.backend=pkcs12}: a password-protected PKCS#12 file, for hosts without a TPM or a token (weaker). */
public final class Pkcs12BackendFactory implements KeyBackendFactory {
    @Override
    public String name() {
        return "pkcs12";
    }

    @Override
    public Set<String> properties() {
        return Set.of("pkcs12.file", "pkcs12.password", "pkcs12.passwordFile");
    }

    @Override
    public KeyBackend open(VaultProperties p) {
        return new Pkcs12Backend(p.path("pkcs12.file", null), p.secret("pkcs12.password", "pkcs12.passwordFile"));
    }
}
