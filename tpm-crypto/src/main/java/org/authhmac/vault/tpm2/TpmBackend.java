package org.authhmac.vault.tpm2;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.vault.KeyBackend;
import org.authhmac.vault.VaultHealth;
import tss.Tpm;
import tss.TpmDevice;
import tss.TpmException;
import tss.tpm.CreateResponse;
import tss.tpm.TPM2B_PRIVATE;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RC;

/**
 * Primaries as keyed-hash (HMAC) objects under an ECC P-256 storage key in the owner hierarchy (or a persistent
 * parent). The storage key is re-created from the owner seed on every connection (same template, same key), so only
 * the wrapped HMAC objects are kept on disk ({@link TpmBlobs}). The connection and the loaded objects are
 * {@link TpmSession}'s; a TPM that stays away gives {@link KeyUnavailableException}, and a result is only ever the
 * TPM's own HMAC output.
 */
public final class TpmBackend implements KeyBackend {
    private static final byte[] EMPTY = new byte[0];

    private final TpmSession session;
    private final TpmBlobs blobs;

    /**
     * @param devices     makes a fresh, unconnected device for every (re)connection
     * @param sendStartup send TPM2_Startup(CLEAR) after connecting (a bare simulator; never for an OS-managed TPM)
     */
    public TpmBackend(Supplier<TpmDevice> devices, String description, Path blobDir, boolean sendStartup) {
        this(devices, description, blobDir, sendStartup, 0);
    }

    /**
     * @param idleReleaseMillis when above 0, flush our objects and close the connection after this long without use.
     *                          swtpm serves one connection at a time, so a server that held it for ever would lock out
     *                          the command line and a second server; with the period-key cache the TPM is used a few
     *                          times per period, so reconnecting costs next to nothing.
     */
    public TpmBackend(Supplier<TpmDevice> devices, String description, Path blobDir, boolean sendStartup, long idleReleaseMillis) {
        this(devices, description, blobDir, sendStartup, idleReleaseMillis, 0, EMPTY);
    }

    /**
     * @param persistentParent 0 to create the storage key in the owner hierarchy at every connection; else the handle
     *                         of a persistent storage key to wrap the keys under (0x81000001, the SRK Windows creates)
     * @param ownerAuth        the owner hierarchy's authorization (empty on most machines), for creating the storage key
     */
    public TpmBackend(Supplier<TpmDevice> devices, String description, Path blobDir, boolean sendStartup, long idleReleaseMillis,
                      int persistentParent, byte[] ownerAuth) {
        this.blobs = new TpmBlobs(blobDir);
        blobs.narrowPermissions();
        this.session = new TpmSession(devices, description, sendStartup, idleReleaseMillis, persistentParent, ownerAuth);
    }

    /** Whether a connection to the TPM is open now; for tests. */
    public boolean connected() {
        return session.connected();
    }

    @Override
    public String name() {
        return "tpm";
    }

    @Override
    public synchronized String store(String keyId, byte[] primary) throws KeyUnavailableException {
        CreateResponse created = session.run("importing key " + keyId, (tpm, storageKey) -> {
            TPMS_SENSITIVE_CREATE sensitive = new TPMS_SENSITIVE_CREATE(EMPTY, primary.clone());
            try {
                return tpm.Create(storageKey, sensitive, TpmTemplates.hmacKey(), EMPTY, new TPMS_PCR_SELECTION[0]);
            } finally {
                Arrays.fill(sensitive.data, (byte) 0);
            }
        });
        try {
            blobs.write(keyId, created.outPublic.toBytes(), created.outPrivate.buffer);
        } catch (IOException e) {
            throw new KeyUnavailableException("cannot write the key blob for " + keyId + " to " + blobs.dir() + ": " + e.getMessage(), e);
        }
        return keyId;
    }

    @Override
    public synchronized byte[] hmacSha256(String keyId, String reference, byte[] data) throws KeyUnavailableException {
        return session.run("deriving with key " + keyId, (tpm, storageKey) -> {
            TPM_HANDLE key = session.keyHandle(keyId, (t, parent) -> load(t, parent, keyId, reference));
            byte[] mac = tpm._allowErrors().HMAC(key, data, TPM_ALG_ID.SHA256);
            TpmSession.checkResponse(tpm);
            if (mac == null || mac.length != 32) {
                throw new TpmException("TPM2_HMAC returned " + (mac == null ? "nothing" : mac.length + " bytes"));
            }
            return mac;
        });
    }

    private TPM_HANDLE load(Tpm tpm, TPM_HANDLE storageKey, String keyId, String reference) throws KeyUnavailableException {
        byte[] pub;
        byte[] priv;
        try {
            pub = blobs.readPublic(reference);
            priv = blobs.readPrivate(reference);
        } catch (NoSuchFileException e) {
            throw new KeyUnavailableException("key blob for " + keyId + " is missing: " + e.getFile());
        } catch (IOException e) {
            throw new KeyUnavailableException("cannot read the key blob for " + keyId + ": " + e.getMessage(), e);
        }
        TPM_HANDLE h = tpm._allowErrors().Load(storageKey, new TPM2B_PRIVATE(priv), TPMT_PUBLIC.fromBytes(pub));
        TPM_RC rc = tpm._getLastResponseCode();
        if (rc != TPM_RC.SUCCESS) {
            if (TpmSession.is(rc, TPM_RC.HANDLE) || TpmSession.is(rc, TPM_RC.OBJECT_MEMORY) || TpmSession.is(rc, TPM_RC.INITIALIZE)) {
                throw new TpmException(rc);
            }
            throw new KeyUnavailableException("key blob for " + keyId + " does not load on " + session.description() + " (" + rc
                    + "): it was made by another TPM, or this TPM's owner hierarchy was cleared");
        }
        return h;
    }

    @Override
    public synchronized VaultHealth health() {
        return VaultHealth.probe("TPM reachable at " + session.description(),
                () -> session.run("health check", (tpm, storageKey) -> tpm.GetRandom(8)));
    }

    @Override
    public long operationCount() {
        return session.commandCount();
    }

    @Override
    public synchronized void keysetChanged() {
        // a key id may now name another blob; the next use loads it again
        session.flushLoadedKeys();
    }

    @Override
    public synchronized void close() {
        session.close();
    }

    /** Whether the TPM has no transient objects of ours beyond the storage key and loaded keys; for tests. */
    public synchronized int transientObjectCount() throws KeyUnavailableException {
        return session.transientObjectCount();
    }

    @Override
    public String toString() {
        return "TpmBackend[" + session.description() + ", blobs in " + blobs.dir() + "]";
    }
}
