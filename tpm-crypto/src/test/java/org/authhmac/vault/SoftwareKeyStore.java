package org.authhmac.vault;

import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A key store in memory, for the vault's own behaviour without a TPM, a token or a PKCS#12 file: it computes the
 * same HMAC as the real backends and records what the vault asks of it.
 */
final class SoftwareKeyStore implements KeyBackend {
    private final Map<String, byte[]> primaries = new ConcurrentHashMap<>();
    private final AtomicLong operations = new AtomicLong();
    private final AtomicInteger keysetChanges = new AtomicInteger();
    private final AtomicReference<byte[]> lastAnswer = new AtomicReference<>();
    private volatile Runnable beforeEachHmac = () -> { };
    private volatile boolean closed;

    @Override
    public String name() {
        return "software";
    }

    @Override
    public String store(String keyId, byte[] primary) {
        primaries.put(keyId, primary.clone());
        operations.incrementAndGet();
        return "ref-" + keyId;
    }

    @Override
    public byte[] hmacSha256(String keyId, String reference, byte[] data) {
        beforeEachHmac.run();
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(primaries.get(reference.substring("ref-".length())), "HmacSHA256"));
            operations.incrementAndGet();
            byte[] answer = mac.doFinal(data);
            lastAnswer.set(answer);
            return answer;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public VaultHealth health() {
        return VaultHealth.up("software key store");
    }

    @Override
    public long operationCount() {
        return operations.get();
    }

    @Override
    public void keysetChanged() {
        keysetChanges.incrementAndGet();
    }

    @Override
    public void close() {
        closed = true;
    }

    /** Runs in the deriving thread before each HMAC (while the vault holds its derivation lock). */
    void beforeEachHmac(Runnable hook) {
        beforeEachHmac = hook;
    }

    /** The array the last HMAC returned to the vault, as the vault left it. */
    byte[] lastAnswer() {
        return lastAnswer.get();
    }

    int keysetChanges() {
        return keysetChanges.get();
    }

    boolean closed() {
        return closed;
    }
}
