package org.authhmac.vault;

import org.authhmac.protocol.KeyFingerprint;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.UnknownKeyException;

/**
 * The key-lifecycle side of a vault, used by the command line: import a primary, change statuses.
 * The mail path only needs {@link KeyVault}.
 */
public interface ManagedKeyVault extends KeyVault {

    /**
     * Imports a primary (16..64 bytes; 256 bits from 'keys generate') generated elsewhere (both peers need the same secret, so it cannot be born in the TPM).
     * The vault keeps no copy of the array; the caller wipes it.
     */
    KeyInfo importKey(String keyId, String keyset, byte[] primary, KeyStatus status);

    /**
     * Imports a key as its keyset's PRIMARY only if that keyset's primary is still {@code expectedPrimary} (empty: the
     * keyset has none), judged on the keyset as every process sees it, under the same lock as the write. What the
     * caller showed somebody as "the" key (a mailbox key, handed out once) then cannot be silently replaced by a
     * concurrent issue in another process.
     *
     * @throws ConcurrentKeysetChangeException the primary changed since the caller looked; nothing was stored
     */
    KeyInfo replacePrimary(String keyId, String keyset, byte[] primary, java.util.Optional<String> expectedPrimary);

    /**
     * The key's public fingerprint (docs/PROTOCOL.md, appendix A), retired keys included: equal on every vault that
     * holds the same primary, computed by the backend (the TPM, the token) as one more HMAC with the primary.
     */
    KeyFingerprint fingerprint(String keyId) throws UnknownKeyException, KeyUnavailableException;

    /**
     * Changes a key's status. Making a key PRIMARY demotes the keyset's previous primary to ACTIVE, so that mail
     * signed under it still verifies; retiring a PRIMARY key is refused (promote another key first).
     */
    KeyInfo setStatus(String keyId, KeyStatus status) throws UnknownKeyException;
}
