package org.authhmac.vault;

import java.time.Instant;
import java.util.Objects;

/** What an operator may know about a key: never its bytes. {@code backend} is "tpm", "pkcs12" or "pkcs11". */
public record KeyInfo(String keyId, String keyset, KeyStatus status, Instant created, String backend) {
    public KeyInfo {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(keyset, "keyset");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(backend, "backend");
    }
}
