package org.authhmac.vault;

import java.util.List;
import java.util.Optional;
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

    /**
     * The key with this id, retired ones included; never key bytes. Verification asks this for each signature, so
     * a vault with many keys (a mailbox key per user) should answer without listing them all.
     */
    default Optional<KeyInfo> key(String keyId) {
        for (KeyInfo k : keys()) {
            if (k.keyId().equals(keyId)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    /**
     * The keyset of this name, with its primary; empty when the vault holds no key in it. A vault that keeps its
     * keysets (the default vault) answers without listing every key.
     */
    default Optional<Keyset> keyset(String name) {
        return Keyset.listed(name, keys());
    }

    /** Whether the key source can answer now (TPM reachable, token present). Never throws. */
    VaultHealth health();

    /**
     * This vault as a verifier must use it. Received headers choose the context (key id, d=, p=, period), so a key
     * derived through this view is neither cached nor prefetched until the verifier reports a MAC that verified
     * under it ({@link PeriodKeys#macChecked}); until then it is held apart, at most once per context. Keys asked
     * for through {@link #periodKey} directly (signing: our own contexts) are trusted and cached at once.
     * A vault without a cache of its own may return itself (the default).
     *
     * @param onWastedDerivation run once for each derivation made through this view that verified no MAC (the
     *        first MAC checked under the key failed, or the key left memory unchecked), for a metric; it must not
     *        block or throw
     */
    default PeriodKeys forVerification(Runnable onWastedDerivation) {
        return this;
    }

    @Override
    void close();
}
