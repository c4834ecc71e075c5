package org.authhmac.vault;

import org.authhmac.protocol.KeyUnavailableException;

/**
 * Where primaries are held and used: computes HMAC-SHA256 keyed by a stored primary, which never leaves the backend.
 * The vault layers keysets, statuses and the period-key cache on top. A backend is opened by its
 * {@link KeyBackendFactory}, registered in {@link KeyBackends}.
 *
 * <p>Threads: a backend belongs to one vault, which calls {@link #hmacSha256} from one thread at a time (it
 * serialises derivations). Every other method may be called from any thread, at the same time as a derivation and
 * as each other: {@link #store} under the keyset lock (by the James thread or the command line that imports a key),
 * {@link #health} whenever a health check or the command line asks, {@link #keysetChanged} by whichever thread found
 * the keyset file changed, {@link #operationCount} at any moment, and {@link #close} once, possibly while the prefetch
 * thread still finishes a derivation. A backend therefore guards its own state (the three here make every method
 * that touches the key store {@code synchronized}, and count operations in an atomic counter).
 *
 * <p>After {@link #close} the vault starts no new call, so what a closed backend answers is its own affair: the
 * PKCS#12 backend refuses (its password is wiped), the PKCS#11 backend may still compute (the token login is
 * process-wide).
 */
public interface KeyBackend extends AutoCloseable {

    /** Its factory's name ("tpm", "pkcs12", "pkcs11"), as shown in {@link KeyInfo#backend()}. */
    String name();

    /**
     * Stores a primary under the key id and returns the reference the keyset file keeps for it
     * (a blob path, an alias, a token label). The caller wipes the array.
     */
    String store(String keyId, byte[] primary) throws KeyUnavailableException;

    /**
     * HMAC-SHA256(primary of the key, data): the one operation the vault asks for, to derive period keys (SP 800-108,
     * one block) and to show a key's fingerprint.
     */
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
