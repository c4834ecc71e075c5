package org.authhmac.vault.pkcs11;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.Provider;
import java.security.ProviderException;
import java.security.Security;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.vault.KeyBackend;
import org.authhmac.vault.VaultHealth;

/**
 * Primaries as PKCS#11 generic-secret token objects (sensitive, not extractable), used through the JDK's SunPKCS11
 * provider: the HMAC is computed by the token (an HSM; SoftHSM2 in tests). Import is the only moment the secret
 * passes through this process, as it must for a secret shared with the peer.
 */
public final class Pkcs11Backend implements KeyBackend {
    private final Path library;
    private final String slotLine;
    private final char[] pin;
    private final AtomicLong operations = new AtomicLong();
    private final Map<String, SecretKey> handles = new HashMap<>();
    private Provider provider;
    private KeyStore store;

    /**
     * @param slotLine "slot = N" or "slotListIndex = N" in SunPKCS11's configuration syntax
     */
    public Pkcs11Backend(Path library, String slotLine, char[] pin) {
        this.library = library;
        this.slotLine = slotLine;
        this.pin = pin.clone();
    }

    @Override
    public String name() {
        return "pkcs11";
    }

    private synchronized KeyStore token() throws KeyUnavailableException {
        if (store == null) {
            try {
                if (provider == null) {
                    String config = "--name=authhmac\n"
                            + "library=" + library + "\n"
                            + slotLine + "\n"
                            // imported secrets become sensitive, non-extractable token objects that may only sign (HMAC)
                            + "attributes(*,CKO_SECRET_KEY,*) = {\n"
                            + "  CKA_TOKEN = true\n  CKA_SENSITIVE = true\n  CKA_EXTRACTABLE = false\n"
                            + "  CKA_SIGN = true\n  CKA_VERIFY = true\n  CKA_ENCRYPT = false\n  CKA_DECRYPT = false\n"
                            + "  CKA_WRAP = false\n  CKA_UNWRAP = false\n  CKA_DERIVE = false\n}\n";
                    Provider base = Security.getProvider("SunPKCS11");
                    if (base == null) {
                        throw new KeyUnavailableException("this JVM has no SunPKCS11 provider");
                    }
                    provider = base.configure(config);
                }
                KeyStore ks = KeyStore.getInstance("PKCS11", provider);
                ks.load(null, pin);
                store = ks;
            } catch (IOException | GeneralSecurityException | ProviderException e) {
                throw new KeyUnavailableException("PKCS#11 token (" + library + ", " + slotLine + ") unavailable: " + e.getMessage(), e);
            }
        }
        return store;
    }

    @Override
    public synchronized String store(String keyId, byte[] primary) throws KeyUnavailableException {
        KeyStore ks = token();
        byte[] copy = primary.clone();
        try {
            if (ks.containsAlias(keyId)) {
                throw new KeyUnavailableException("the token already holds an object labelled " + keyId);
            }
            ks.setEntry(keyId, new KeyStore.SecretKeyEntry(new SecretKeySpec(copy, "HmacSHA256")), null);
            operations.incrementAndGet();
            return keyId;
        } catch (GeneralSecurityException | ProviderException e) {
            reset();
            throw new KeyUnavailableException("cannot store " + keyId + " on the PKCS#11 token: " + e.getMessage(), e);
        } finally {
            Arrays.fill(copy, (byte) 0);
        }
    }

    @Override
    public synchronized byte[] hmacSha256(String keyId, String reference, byte[] data) throws KeyUnavailableException {
        for (int attempt = 0; ; attempt++) {
            try {
                SecretKey key = handles.get(reference);
                if (key == null) {
                    Key k = token().getKey(reference, null);
                    if (!(k instanceof SecretKey sk)) {
                        throw new KeyUnavailableException("no secret key labelled " + reference + " on the PKCS#11 token");
                    }
                    key = sk;
                    handles.put(reference, key);
                }
                Mac mac = Mac.getInstance("HmacSHA256", provider);
                mac.init(key);
                byte[] out = mac.doFinal(data);
                operations.incrementAndGet();
                return out;
            } catch (GeneralSecurityException | ProviderException e) {
                reset(); // token removed or session lost: log in again once
                if (attempt >= 1) {
                    throw new KeyUnavailableException("PKCS#11 HMAC with " + keyId + " failed: " + e.getMessage(), e);
                }
            }
        }
    }

    private void reset() {
        handles.clear();
        store = null;
    }

    @Override
    public synchronized VaultHealth health() {
        VaultHealth health = VaultHealth.probe("PKCS#11 token via " + library, () -> token().size());
        if (!health.healthy()) {
            reset();
        }
        return health;
    }

    @Override
    public long operationCount() {
        return operations.get();
    }

    @Override
    public synchronized void keysetChanged() {
        handles.clear();
    }

    @Override
    public synchronized void close() {
        reset();
        Arrays.fill(pin, '\0');
    }
}
