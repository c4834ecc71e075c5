package org.authhmac.tpm;

import java.util.List;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;

/**
 * Holds keysets of primary secrets and answers with period keys; raw primary bytes never leave it.
 * A keyset is one partner relationship; new signatures use its PRIMARY key, verification accepts PRIMARY and ACTIVE keys.
 */
public interface KeyVault extends PeriodKeys, AutoCloseable {

    /** The key id new signatures for this keyset use. */
    String primaryKeyId(String keyset) throws UnknownKeyException;

    /** Every key the vault knows about, retired ones included; never key bytes. */
    List<KeyInfo> keys();

    /** Whether the key source can answer now (TPM reachable, token present). Never throws. */
    VaultHealth health();

    @Override
    void close();
}
