package org.authhmac.vault.pkcs12;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.vault.KeyBackend;
import org.authhmac.vault.OwnerOnlyFiles;
import org.authhmac.vault.VaultHealth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WEAKER BACKEND, for hosts without a TPM: primaries are secret-key entries of a password-protected PKCS#12 file.
 * Whoever reads the file and the password (both on the same host, the password in the configuration) has the
 * primaries, and they sit in this process's memory while in use. Start-up logs a warning saying so.
 */
public final class Pkcs12Backend implements KeyBackend {
    private static final Logger LOG = LoggerFactory.getLogger(Pkcs12Backend.class);

    private final Path file;
    private final char[] password;
    private final AtomicLong operations = new AtomicLong();
    private final Map<String, SecretKey> keys = new HashMap<>();
    private KeyStore store;

    public Pkcs12Backend(Path file, char[] password) {
        this.file = file;
        this.password = password.clone();
        LOG.warn("X-Auth-HMAC keys are in the PKCS#12 file {}: this is WEAKER than a TPM. Anyone who can read the file and "
                + "the configured password has the primary secrets, and they are held in this JVM's memory. Use "
                + "vault.backend=tpm (or pkcs11) where a TPM or token exists.", file);
    }

    @Override
    public String name() {
        return "pkcs12";
    }

    /**
     * Adds the key to the keystore file as it is on disk now (under a lock every writer takes, in any process), never
     * to a copy loaded earlier: a stale copy written back would drop the keys another process added meanwhile.
     */
    @Override
    public synchronized String store(String keyId, byte[] primary) throws KeyUnavailableException {
        SecretKeySpec key = new SecretKeySpec(primary, "HmacSHA256");
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            try (OwnerOnlyFiles.Lock locked = OwnerOnlyFiles.lock(file)) {
                store = null;
                keys.clear();
                KeyStore ks = keyStore();
                if (ks.containsAlias(keyId)) {
                    throw new KeyUnavailableException("alias " + keyId + " already exists in " + file);
                }
                ks.setEntry(keyId, new KeyStore.SecretKeyEntry(key), new KeyStore.PasswordProtection(password));
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ks.store(out, password);
                byte[] bytes = out.toByteArray();
                try {
                    OwnerOnlyFiles.replace(file, bytes);
                } finally {
                    Arrays.fill(bytes, (byte) 0);
                }
            }
            operations.incrementAndGet();
            return keyId;
        } catch (IOException | GeneralSecurityException e) {
            store = null;
            throw new KeyUnavailableException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized byte[] hmacSha256(String keyId, String reference, byte[] data) throws KeyUnavailableException {
        SecretKey key = keys.get(reference);
        if (key == null) {
            try {
                Key k = keyStore().getKey(reference, password);
                if (!(k instanceof SecretKey sk)) {
                    throw new KeyUnavailableException("no secret key " + reference + " in " + file);
                }
                byte[] raw = sk.getEncoded();
                key = new SecretKeySpec(raw, "HmacSHA256");
                Arrays.fill(raw, (byte) 0);
                keys.put(reference, key);
            } catch (GeneralSecurityException e) {
                throw new KeyUnavailableException("cannot read key " + reference + " from " + file + ": " + e.getMessage(), e);
            }
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            operations.incrementAndGet();
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new KeyUnavailableException("HMAC failed: " + e.getMessage(), e);
        }
    }

    private KeyStore keyStore() throws KeyUnavailableException {
        if (store == null) {
            try {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                if (Files.exists(file)) {
                    try (InputStream in = Files.newInputStream(file)) {
                        ks.load(in, password);
                    }
                } else {
                    ks.load(null, password);
                }
                store = ks;
            } catch (IOException | GeneralSecurityException e) {
                throw new KeyUnavailableException("cannot open " + file + " (wrong pkcs12.password?): " + e.getMessage(), e);
            }
        }
        return store;
    }

    @Override
    public synchronized VaultHealth health() {
        return VaultHealth.probe("PKCS#12 file " + file + " (weaker than a TPM)", this::keyStore);
    }

    @Override
    public long operationCount() {
        return operations.get();
    }

    @Override
    public synchronized void keysetChanged() {
        keys.clear();
        store = null;
    }

    @Override
    public synchronized void close() {
        keys.clear();
        store = null;
        Arrays.fill(password, '\0');
    }
}
