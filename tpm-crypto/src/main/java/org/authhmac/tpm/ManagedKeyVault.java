package org.authhmac.tpm;

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
     * Changes a key's status. Making a key PRIMARY demotes the keyset's previous primary to ACTIVE, so that mail
     * signed under it still verifies; retiring a PRIMARY key is refused (promote another key first).
     */
    KeyInfo setStatus(String keyId, KeyStatus status) throws UnknownKeyException;
}
