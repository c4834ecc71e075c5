package org.authhmac.protocol;

/**
 * Where period keys come from. The protocol never sees a primary secret: a key vault (TPM, PKCS#12,
 * PKCS#11, or a mail client's own store) answers with K_p for a key id, signing domain and period.
 */
public interface PeriodKeys {
    /**
     * @throws UnknownKeyException the key id is not held, is retired, or may not sign for this domain (a permanent answer)
     * @throws KeyUnavailableException the key source cannot answer right now (TPM down); the caller must retry later
     */
    PeriodKey periodKey(KdfContext context) throws UnknownKeyException, KeyUnavailableException;

    /**
     * Told by the verifier once it has compared a MAC under {@code key}. A key source caches and prefetches only
     * contexts that a real MAC verified under ({@code verified}), so that forged headers cannot fill its cache or
     * steer its prefetching; a key derived for a MAC that then failed is work spent on a forgery.
     */
    default void macChecked(PeriodKey key, boolean verified) {
    }
}
