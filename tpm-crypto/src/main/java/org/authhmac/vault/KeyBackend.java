package org.authhmac.vault;

import org.authhmac.protocol.KeyUnavailableException;

/**
 * Where primaries are held and used: computes HMAC-SHA256 keyed by a stored primary, which never leaves the backend.
 * The vault layers keysets, statuses and the period-key cache on top.
 */
public interface KeyBackend extends AutoCloseable {

    /** "tpm", "pkcs12" or "pkcs11", as shown in {@link KeyInfo#backend()}. */
    String name();

    /**
     * Stores a primary under the key id and returns the reference the keyset file keeps for it
     * (a blob path, an alias, a token label). The caller wipes the array.
     */
    String store(String keyId, byte[] primary) throws KeyUnavailableException;

    /** HMAC-SHA256(primary of the key, data); the one operation the protocol needs (SP 800-108, one block). */
    byte[] hmacSha256(String keyId, String reference, byte[] data) throws KeyUnavailableException;

    /** Whether the backend can compute now. Never throws. */
    VaultHealth health();

    /** How many operations reached the key store (TPM commands for the TPM backend); for measurements and tests. */
    long operationCount();

    /** The keyset file changed on disk (another process imported a key): forget any loaded key material. */
    default void keysetChanged() {
    }

    @Override
    void close();
}
