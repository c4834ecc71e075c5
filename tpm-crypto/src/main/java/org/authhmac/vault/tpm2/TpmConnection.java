package org.authhmac.vault.tpm2;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.authhmac.protocol.KeyUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tss.Tpm;
import tss.TpmDevice;
import tss.TpmException;
import tss.tpm.CreatePrimaryResponse;
import tss.tpm.GetCapabilityResponse;
import tss.tpm.TPML_HANDLE;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPM_CAP;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_HT;
import tss.tpm.TPM_RH;
import tss.tpm.TPM_SU;

/**
 * One open connection to the TPM and the transient objects we hold in it: the storage key and the key objects in
 * use. Without a resource manager (swtpm over TCP) transient handles stay in the TPM until flushed, so leftovers are
 * flushed when connecting. Not thread-safe: {@link TpmSession} guards it.
 */
final class TpmConnection {
    private static final Logger LOG = LoggerFactory.getLogger(TpmConnection.class);
    private static final byte[] EMPTY = new byte[0];

    private final Supplier<TpmDevice> devices;
    private final String description;
    private final boolean sendStartup;
    private final int persistentParent;
    private final byte[] ownerAuth;
    private final AtomicLong commands = new AtomicLong();
    private final Map<String, TPM_HANDLE> loaded = new HashMap<>();
    private Tpm tpm;
    private TPM_HANDLE storageKey;

    TpmConnection(Supplier<TpmDevice> devices, String description, boolean sendStartup, int persistentParent, byte[] ownerAuth) {
        this.devices = devices;
        this.description = description;
        this.sendStartup = sendStartup;
        this.persistentParent = persistentParent;
        this.ownerAuth = ownerAuth.clone();
    }

    String description() {
        return description;
    }

    long commandCount() {
        return commands.get();
    }

    boolean isOpen() {
        return tpm != null;
    }

    Tpm tpm() {
        return tpm;
    }

    TPM_HANDLE storageKey() {
        return storageKey;
    }

    /** Whether a configured persistent parent could not be read: retrying will not bring it back. */
    boolean persistentParentMissing() {
        return persistentParent != 0 && storageKey == null;
    }

    /** Connects (with Startup for a bare simulator) and loads the storage key, as far as either is missing. */
    void ensureConnected() {
        if (tpm == null) {
            TpmDevice device = devices.get();
            if (!device.connect()) {
                String why = device instanceof TcpTpmDevice tcp && tcp.lastConnectError() != null
                        ? tcp.lastConnectError().getMessage()
                        : device instanceof CharacterDeviceTpm cd && cd.lastConnectError() != null
                        ? cd.lastConnectError().getMessage() : "connect failed";
                device.close();
                throw new TpmTransportException("cannot connect to " + description + ": " + why, null);
            }
            Tpm t = new Tpm();
            t._setDevice(device);
            t._setCallback((cc, rc, in, out) -> commands.incrementAndGet());
            tpm = t;
            if (sendStartup) {
                tpm._allowErrors().Startup(TPM_SU.CLEAR); // TPM_RC_INITIALIZE when already started: fine
            }
            flushLeftovers();
            loaded.clear();
            storageKey = null;
        }
        if (storageKey == null) {
            if (persistentParent != 0) {
                TPM_HANDLE parent = TPM_HANDLE.from(persistentParent);
                tpm._allowErrors().ReadPublic(parent);
                TpmSession.checkResponse(tpm); // TPM_RC_HANDLE here means the persistent key is not there
                storageKey = parent;
            } else {
                TPM_HANDLE owner = TPM_HANDLE.from(TPM_RH.OWNER);
                owner.AuthValue = ownerAuth;
                CreatePrimaryResponse primary = tpm._allowErrors().CreatePrimary(owner,
                        new TPMS_SENSITIVE_CREATE(EMPTY, EMPTY), TpmTemplates.storageKey(), EMPTY, new TPMS_PCR_SELECTION[0]);
                TpmSession.checkResponse(tpm);
                storageKey = primary.handle;
            }
        }
    }

    /** The handle of a key object, loaded by {@code loader} while it is not loaded yet. */
    TPM_HANDLE keyHandle(String keyId, TpmSession.Loader loader) throws KeyUnavailableException {
        TPM_HANDLE key = loaded.get(keyId);
        if (key == null) {
            key = loader.load(tpm, storageKey);
            loaded.put(keyId, key);
        }
        return key;
    }

    /** Transient objects left by an earlier run that crashed, or by another client: the TPM has only a few slots. */
    private void flushLeftovers() {
        TPM_HANDLE[] handles = transientHandles();
        for (TPM_HANDLE h : handles) {
            flushQuietly(h);
        }
        if (handles.length > 0) {
            LOG.info("flushed {} leftover transient objects from {}", handles.length, description);
        }
    }

    TPM_HANDLE[] transientHandles() {
        GetCapabilityResponse caps = tpm.GetCapability(TPM_CAP.HANDLES, TPM_HT.TRANSIENT.toInt() << 24, 64);
        return ((TPML_HANDLE) caps.capabilityData).handle;
    }

    /** The TPM lost our objects: forget them, flush what is left, and let the next attempt load them again. */
    void resetObjects() {
        loaded.clear();
        storageKey = null;
        if (tpm != null) {
            try {
                flushLeftovers();
            } catch (TpmTransportException e) {
                disconnect();
            } catch (TpmException ignored) {
                // the next attempt reports whatever is wrong
            }
        }
    }

    void flushLoadedKeys() {
        for (TPM_HANDLE h : loaded.values()) {
            flushQuietly(h);
        }
        loaded.clear();
    }

    private void flushQuietly(TPM_HANDLE h) {
        if (tpm == null || h == null || h.handle >>> 24 != TPM_HT.TRANSIENT.toInt()) {
            return; // persistent keys are the operator's, not ours to flush
        }
        try {
            tpm._allowErrors().FlushContext(h);
        } catch (RuntimeException ignored) {
            // best effort: a handle that is gone needs no flushing
        }
    }

    /** Flushes our objects and closes the connection; the next use connects again. */
    void release() {
        try {
            flushLoadedKeys();
            flushQuietly(storageKey);
        } finally {
            disconnect();
        }
    }

    void disconnect() {
        loaded.clear();
        storageKey = null;
        if (tpm != null) {
            try {
                tpm._getDevice().close();
            } catch (RuntimeException ignored) {
                // already broken
            }
            tpm = null;
        }
    }
}
