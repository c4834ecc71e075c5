package org.authhmac.james.testing;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVault;
import org.authhmac.vault.VaultHealth;

/**
 * A KeyVault over the protocol's software key source, for fast tests of the James side and for outages at a
 * chosen instant. The swtpm-backed tests use the real vault; this one exists because an outage in the middle
 * of one mail is easier to place here than with a TPM process.
 */
public class InMemoryKeyVault implements KeyVault {
    private final Map<String, KeyInfo> infos = new LinkedHashMap<>();
    private final Map<String, byte[]> primaries = new LinkedHashMap<>();
    private final AtomicBoolean down = new AtomicBoolean();
    private final AtomicInteger derivations = new AtomicInteger();
    private final AtomicInteger downAfter = new AtomicInteger(Integer.MAX_VALUE);

    public InMemoryKeyVault add(String keyId, String keyset, KeyStatus status, byte[] primary) {
        infos.put(keyId, new KeyInfo(keyId, keyset, status, Instant.parse("2026-01-01T00:00:00Z"), "memory"));
        primaries.put(keyId, primary.clone());
        return this;
    }

    /** A 32-byte primary made from a label, so that two vaults built alike share keys as partners do. */
    public static byte[] primary(String label) {
        byte[] b = new byte[32];
        byte[] l = label.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (l[i % l.length] + i);
        }
        return b;
    }

    public void goDown() {
        down.set(true);
    }

    public void comeBack() {
        down.set(false);
        downAfter.set(Integer.MAX_VALUE);
    }

    /** Derives {@code n} more keys, then is down (an outage in the middle of one mail's work). */
    public void goDownAfter(int n) {
        downAfter.set(derivations.get() + n);
    }

    public int derivations() {
        return derivations.get();
    }

    @Override
    public synchronized PeriodKey periodKey(KdfContext context) throws UnknownKeyException, KeyUnavailableException {
        if (down.get() || derivations.get() >= downAfter.get()) {
            throw new KeyUnavailableException("test vault is down");
        }
        KeyInfo info = infos.get(context.keyId());
        if (info == null || info.status() == KeyStatus.RETIRED) {
            throw new UnknownKeyException("unknown or retired key id " + context.keyId());
        }
        derivations.incrementAndGet();
        return StaticPeriodKeys.of(context.keyId(), primaries.get(context.keyId())).periodKey(context);
    }

    @Override
    public synchronized String primaryKeyId(String keyset) throws UnknownKeyException {
        return infos.values().stream().filter(k -> k.keyset().equals(keyset) && k.status() == KeyStatus.PRIMARY)
                .map(KeyInfo::keyId).findFirst()
                .orElseThrow(() -> new UnknownKeyException("keyset " + keyset + " has no primary key"));
    }

    @Override
    public synchronized List<KeyInfo> keys() {
        return new ArrayList<>(infos.values());
    }

    @Override
    public synchronized Optional<KeyInfo> key(String keyId) {
        return Optional.ofNullable(infos.get(keyId));
    }

    @Override
    public VaultHealth health() {
        return down.get() ? VaultHealth.down("test vault is down") : VaultHealth.up("test vault is up");
    }

    @Override
    public void close() {
    }
}
