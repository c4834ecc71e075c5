package org.authhmac.james;

import java.util.Map;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.tpm.KeyInfo;
import org.authhmac.tpm.KeyStatus;
import org.authhmac.tpm.KeyVault;

/**
 * The vault seen through the partner map: a signature with d=a.example may only use a key of a.example's
 * keyset. Without this, one partner could sign mail as another partner's domain with its own key.
 */
public final class PartnerKeys implements PeriodKeys {
    private final KeyVault vault;
    private final Map<String, String> keysetByDomain;

    public PartnerKeys(KeyVault vault, Map<String, String> keysetByDomain) {
        this.vault = vault;
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
        return vault.periodKey(context);
    }

    private boolean belongsTo(String keyId, String keyset) throws KeyUnavailableException {
        try {
            for (KeyInfo k : vault.keys()) {
                if (k.keyId().equals(keyId) && k.keyset().equals(keyset) && k.status() != KeyStatus.RETIRED) {
                    return true;
                }
            }
            return false;
        } catch (RuntimeException e) {
            throw new KeyUnavailableException("key vault cannot list its keys: " + e.getMessage(), e);
        }
    }
}
