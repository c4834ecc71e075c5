package org.authhmac.james;

import java.util.Map;
import java.util.Optional;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVault;

/**
 * The vault as the verifier sees it, through the partner map: a signature with d=a.example may only use a key of
 * a.example's keyset. Without this, one partner could sign mail as another partner's domain with its own key.
 * Keys come from the vault's verification view ({@link KeyVault#forVerification}): a key derived for a received
 * header is cached, and its stream prefetched, only after a MAC verified under it, so that forged headers can
 * neither fill the vault's cache nor steer its prefetching.
 */
public final class PartnerKeys implements PeriodKeys {
    private final KeyVault vault;
    private final PeriodKeys verifying;
    private final Map<String, String> keysetByDomain;

    /** Without the metric; see {@link #PartnerKeys(KeyVault, Map, Metrics)}. */
    public PartnerKeys(KeyVault vault, Map<String, String> keysetByDomain) {
        this(vault, keysetByDomain, () -> { });
    }

    /** Counts each derivation that verified no MAC as {@value Metrics#VERIFY_WASTED_DERIVATIONS}. */
    public PartnerKeys(KeyVault vault, Map<String, String> keysetByDomain, Metrics metrics) {
        this(vault, keysetByDomain, () -> metrics.count(Metrics.VERIFY_WASTED_DERIVATIONS));
    }

    private PartnerKeys(KeyVault vault, Map<String, String> keysetByDomain, Runnable onWastedDerivation) {
        this.vault = vault;
        this.verifying = vault.forVerification(onWastedDerivation);
        this.keysetByDomain = Map.copyOf(keysetByDomain);
    }

    @Override
    public PeriodKey periodKey(KdfContext context) throws UnknownKeyException, KeyUnavailableException {
        String keyset = keysetByDomain.get(context.domain());
        if (keyset == null) {
            throw new UnknownKeyException("signing domain " + context.domain() + " is not a configured partner");
        }
        if (!belongsTo(context.keyId(), keyset)) {
            throw new UnknownKeyException("key id " + context.keyId() + " is not an active key of keyset " + keyset
                    + " (partner " + context.domain() + ")");
        }
        return verifying.periodKey(context);
    }

    @Override
    public void macChecked(PeriodKey key, boolean verified) {
        verifying.macChecked(key, verified);
    }

    private boolean belongsTo(String keyId, String keyset) throws KeyUnavailableException {
        try {
            Optional<KeyInfo> k = vault.key(keyId);
            return k.isPresent() && k.get().keyset().equals(keyset) && k.get().status() != KeyStatus.RETIRED;
        } catch (RuntimeException e) {
            throw new KeyUnavailableException("key vault cannot list its keys: " + e.getMessage(), e);
        }
    }
}
