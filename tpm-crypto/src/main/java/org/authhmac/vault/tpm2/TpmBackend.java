package org.authhmac.vault.tpm2;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.vault.KeyBackend;
import org.authhmac.vault.OwnerOnlyFiles;
import org.authhmac.vault.VaultConfigException;
import org.authhmac.vault.VaultHealth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tss.Tpm;
import tss.TpmDevice;
import tss.TpmException;
import tss.tpm.CreatePrimaryResponse;
import tss.tpm.CreateResponse;
import tss.tpm.GetCapabilityResponse;
import tss.tpm.TPM2B_DIGEST_KEYEDHASH;
import tss.tpm.TPM2B_PRIVATE;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPML_HANDLE;
import tss.tpm.TPMS_ECC_PARMS;
import tss.tpm.TPMS_ECC_POINT;
import tss.tpm.TPMS_KEYEDHASH_PARMS;
import tss.tpm.TPMS_NULL_ASYM_SCHEME;
import tss.tpm.TPMS_NULL_KDF_SCHEME;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SCHEME_HMAC;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_SYM_DEF_OBJECT;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_CAP;
import tss.tpm.TPM_ECC_CURVE;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_HT;
import tss.tpm.TPM_RC;
import tss.tpm.TPM_RH;
import tss.tpm.TPM_SU;

/**
 * Primaries as keyed-hash (HMAC) objects under an ECC P-256 storage key in the owner hierarchy. The storage key is
 * re-created from the owner seed on every connection (same template, same key), so only the wrapped HMAC objects
 * are kept on disk, as &lt;key id&gt;.pub / &lt;key id&gt;.priv in tpm2-tools' TPM2B format. Both objects are fixedTPM and
 * fixedParent: a blob copied to another machine does not load there.
 *
 * <p>Without a resource manager (swtpm over TCP) transient handles stay in the TPM until flushed, so leftovers are
 * flushed at connection time and the few handles we need are kept loaded; when they vanish (TPM restarted, another
 * client flushed them) they are reloaded and the command is retried once. A TPM that stays away gives
 * {@link KeyUnavailableException}; a result is only ever the TPM's own HMAC output.
 */
public final class TpmBackend implements KeyBackend {
    private static final Logger LOG = LoggerFactory.getLogger(TpmBackend.class);
    private static final byte[] EMPTY = new byte[0];

    private final Supplier<TpmDevice> devices;
    private final String description;
    private final Path blobDir;
    private final boolean sendStartup;
    private final AtomicLong commands = new AtomicLong();
    private final Map<String, TPM_HANDLE> loaded = new HashMap<>();
    private Tpm tpm;
    private TPM_HANDLE storageKey;
    private final long idleReleaseNanos;
    private final int persistentParent;
    private final byte[] ownerAuth;
    private final ScheduledExecutorService releaser;
    private long lastUseNanos;
    private boolean down;

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
        this.persistentParent = persistentParent;
        this.ownerAuth = ownerAuth.clone();
        this.devices = devices;
        this.description = description;
        this.blobDir = blobDir;
        this.sendStartup = sendStartup;
        this.idleReleaseNanos = TimeUnit.MILLISECONDS.toNanos(idleReleaseMillis);
        narrowBlobPermissions(blobDir);
        if (idleReleaseMillis > 0) {
            releaser = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "auth-hmac-tpm-release");
                t.setDaemon(true);
                return t;
            });
            long tick = Math.max(20, idleReleaseMillis / 2);
            releaser.scheduleWithFixedDelay(this::releaseIfIdle, tick, tick, TimeUnit.MILLISECONDS);
        } else {
            releaser = null;
        }
    }

    private synchronized void releaseIfIdle() {
        if (tpm != null && System.nanoTime() - lastUseNanos >= idleReleaseNanos) {
            try {
                flushLoadedKeys();
                flushQuietly(storageKey);
            } finally {
                disconnect();
            }
            LOG.debug("released idle TPM connection {}", description);
        }
    }

    /** Whether a connection to the TPM is open now; for tests. */
    public synchronized boolean connected() {
        return tpm != null;
    }

    @Override
    public String name() {
        return "tpm";
    }

    @Override
    public synchronized String store(String keyId, byte[] primary) throws KeyUnavailableException {
        CreateResponse created = withTpm("importing key " + keyId, () -> {
            TPMS_SENSITIVE_CREATE sensitive = new TPMS_SENSITIVE_CREATE(EMPTY, primary.clone());
            try {
                return tpm.Create(storageKey, sensitive, hmacKeyTemplate(), EMPTY, new TPMS_PCR_SELECTION[0]);
            } finally {
                Arrays.fill(sensitive.data, (byte) 0);
            }
        });
        try {
            OwnerOnlyFiles.folder(blobDir);
            writeSized(blobDir.resolve(keyId + ".pub"), created.outPublic.toBytes());
            writeSized(blobDir.resolve(keyId + ".priv"), created.outPrivate.buffer);
        } catch (IOException e) {
            throw new KeyUnavailableException("cannot write the key blob for " + keyId + " to " + blobDir + ": " + e.getMessage(), e);
        }
        return keyId;
    }

    @Override
    public synchronized byte[] hmacSha256(String keyId, String reference, byte[] data) throws KeyUnavailableException {
        return withTpm("deriving with key " + keyId, () -> {
            TPM_HANDLE key = loaded.get(keyId);
            if (key == null) {
                key = load(keyId, reference);
                loaded.put(keyId, key);
            }
            byte[] mac = tpm._allowErrors().HMAC(key, data, TPM_ALG_ID.SHA256);
            checkResponse();
            if (mac == null || mac.length != 32) {
                throw new TpmException("TPM2_HMAC returned " + (mac == null ? "nothing" : mac.length + " bytes"));
            }
            return mac;
        });
    }

    @Override
    public synchronized VaultHealth health() {
        return VaultHealth.probe("TPM reachable at " + description, () -> withTpm("health check", () -> tpm.GetRandom(8)));
    }

    @Override
    public long operationCount() {
        return commands.get();
    }

    @Override
    public synchronized void keysetChanged() {
        // a key id may now name another blob; the next use loads it again
        flushLoadedKeys();
    }

    @Override
    public synchronized void close() {
        if (releaser != null) {
            releaser.shutdownNow();
        }
        if (tpm != null) {
            flushLoadedKeys();
            flushQuietly(storageKey);
            disconnect();
        }
    }

    /** Whether the TPM has no transient objects of ours beyond the storage key and loaded keys; for tests. */
    public synchronized int transientObjectCount() throws KeyUnavailableException {
        return withTpm("listing handles", () -> transientHandles().length);
    }

    private interface TpmCall<T> {
        T run() throws KeyUnavailableException;
    }

    /**
     * Runs a call with a connected TPM and a loaded storage key; on a broken connection or vanished handles it
     * reconnects and tries once more. Everything else is a {@link KeyUnavailableException} naming the cause.
     */
    private <T> T withTpm(String what, TpmCall<T> call) throws KeyUnavailableException {
        try {
            return withTpmOnce(what, call);
        } finally {
            lastUseNanos = System.nanoTime();
        }
    }

    private <T> T withTpmOnce(String what, TpmCall<T> call) throws KeyUnavailableException {
        RuntimeException failure = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                ensureConnected();
                T result = call.run();
                if (down) {
                    down = false;
                    LOG.info("TPM {} is reachable again", description);
                }
                return result;
            } catch (TpmException e) {
                failure = e;
                if (!isLostState(e)) {
                    break;
                }
                if (is(e.ResponseCode, TPM_RC.INITIALIZE)) {
                    // the TPM was reset under the open connection: only a new connection (with Startup) brings it back
                    LOG.info("TPM {} was reset while {}; connecting again", description, what);
                    disconnect();
                } else {
                    LOG.info("TPM lost our objects ({}) while {}; reloading", e.ResponseCode, what);
                    resetObjects();
                }
            } catch (RuntimeException e) {
                // TpmTransportException, or anything else the device or TSS.Java throws: start afresh
                failure = e;
                disconnect();
            }
        }
        // one warning when the TPM goes away, not one per mail while it stays away
        if (!down) {
            down = true;
            LOG.warn("TPM {} unavailable while {}: {} (mail is deferred, not sent unsigned; retrying on demand)",
                    description, what, failure.getMessage());
        } else {
            LOG.debug("TPM {} still unavailable while {}: {}", description, what, failure.getMessage());
        }
        throw new KeyUnavailableException("TPM " + description + " unavailable while " + what + ": " + failure.getMessage(), failure);
    }

    private boolean isLostState(TpmException e) {
        TPM_RC rc = e.ResponseCode;
        if (is(rc, TPM_RC.HANDLE) && persistentParent != 0 && storageKey == null) {
            return false; // the configured persistent parent is missing: retrying will not bring it back
        }
        return is(rc, TPM_RC.HANDLE) || is(rc, TPM_RC.REFERENCE_H0) || is(rc, TPM_RC.INITIALIZE)
                || is(rc, TPM_RC.OBJECT_MEMORY) || is(rc, TPM_RC.SESSION_MEMORY);
    }

    /**
     * Response codes compared by value: TSS.Java maps a code to the first constant of that value, so TPM_RC_INITIALIZE
     * (0x100) comes back as TPM_RC._1, never as the INITIALIZE constant.
     */
    private static boolean is(TPM_RC rc, TPM_RC expected) {
        return rc != null && rc.toInt() == expected.toInt();
    }

    private void ensureConnected() {
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
                checkResponse(); // TPM_RC_HANDLE here means the persistent key is not there
                storageKey = parent;
            } else {
                TPM_HANDLE owner = TPM_HANDLE.from(TPM_RH.OWNER);
                owner.AuthValue = ownerAuth;
                CreatePrimaryResponse primary = tpm._allowErrors().CreatePrimary(owner,
                        new TPMS_SENSITIVE_CREATE(EMPTY, EMPTY), storageKeyTemplate(), EMPTY, new TPMS_PCR_SELECTION[0]);
                checkResponse();
                storageKey = primary.handle;
            }
        }
    }

    /**
     * TSS.Java prints "TPM ERROR" on standard output for every failed command it was not told to expect; we allow
     * errors on the commands that can fail in normal operation and turn the code into an exception here instead.
     */
    private void checkResponse() {
        TPM_RC rc = tpm._getLastResponseCode();
        if (rc != TPM_RC.SUCCESS) {
            throw new TpmException(rc);
        }
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

    private TPM_HANDLE[] transientHandles() {
        GetCapabilityResponse caps = tpm.GetCapability(TPM_CAP.HANDLES, TPM_HT.TRANSIENT.toInt() << 24, 64);
        return ((TPML_HANDLE) caps.capabilityData).handle;
    }

    private TPM_HANDLE load(String keyId, String reference) throws KeyUnavailableException {
        byte[] pub;
        byte[] priv;
        try {
            pub = readSized(blobDir.resolve(reference + ".pub"));
            priv = readSized(blobDir.resolve(reference + ".priv"));
        } catch (NoSuchFileException e) {
            throw new KeyUnavailableException("key blob for " + keyId + " is missing: " + e.getFile());
        } catch (IOException e) {
            throw new KeyUnavailableException("cannot read the key blob for " + keyId + ": " + e.getMessage(), e);
        }
        TPM_HANDLE h = tpm._allowErrors().Load(storageKey, new TPM2B_PRIVATE(priv), TPMT_PUBLIC.fromBytes(pub));
        TPM_RC rc = tpm._getLastResponseCode();
        if (rc != TPM_RC.SUCCESS) {
            if (is(rc, TPM_RC.HANDLE) || is(rc, TPM_RC.OBJECT_MEMORY) || is(rc, TPM_RC.INITIALIZE)) {
                throw new TpmException(rc);
            }
            throw new KeyUnavailableException("key blob for " + keyId + " does not load on " + description + " (" + rc
                    + "): it was made by another TPM, or this TPM's owner hierarchy was cleared");
        }
        return h;
    }

    private void resetObjects() {
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

    private void flushLoadedKeys() {
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

    private void disconnect() {
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

    /** The owner-hierarchy storage key: ECC P-256, AES-128-CFB, restricted decrypt, fixedTPM/fixedParent. */
    public static TPMT_PUBLIC storageKeyTemplate() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256,
                new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent, TPMA_OBJECT.sensitiveDataOrigin,
                        TPMA_OBJECT.userWithAuth, TPMA_OBJECT.noDA, TPMA_OBJECT.restricted, TPMA_OBJECT.decrypt),
                EMPTY,
                new TPMS_ECC_PARMS(new TPMT_SYM_DEF_OBJECT(TPM_ALG_ID.AES, 128, TPM_ALG_ID.CFB),
                        new TPMS_NULL_ASYM_SCHEME(), TPM_ECC_CURVE.NIST_P256, new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(EMPTY, EMPTY));
    }

    /** An imported HMAC-SHA256 key (sensitiveDataOrigin clear: the secret comes from outside, the peer has it too). */
    static TPMT_PUBLIC hmacKeyTemplate() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256,
                new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent, TPMA_OBJECT.userWithAuth,
                        TPMA_OBJECT.noDA, TPMA_OBJECT.sign),
                EMPTY,
                new TPMS_KEYEDHASH_PARMS(new TPMS_SCHEME_HMAC(TPM_ALG_ID.SHA256)),
                new TPM2B_DIGEST_KEYEDHASH(EMPTY));
    }

    /** Owner-only (0600), written whole or not at all: a half-written blob would be a key lost. */
    private static void writeSized(Path file, byte[] body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 2);
        out.writeBytes(ByteBuffer.allocate(2).putShort((short) body.length).array());
        out.writeBytes(body);
        OwnerOnlyFiles.replace(file, out.toByteArray());
    }

    /**
     * Anyone who can read a blob and reach this TPM can load it and compute period keys for any period; the blobs are
     * the owner's alone. Blobs and their folder that an earlier version (or a copy) left readable by others are
     * narrowed to 0600 / 0700, with a warning; if that is not possible the vault does not start.
     */
    static void narrowBlobPermissions(Path blobDir) {
        if (!Files.isDirectory(blobDir) || !FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        try {
            narrow(blobDir, OwnerOnlyFiles.FOLDER_MODE);
            try (DirectoryStream<Path> blobs = Files.newDirectoryStream(blobDir, "*.{pub,priv}")) {
                for (Path blob : blobs) {
                    if (Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
                        narrow(blob, OwnerOnlyFiles.FILE_MODE);
                    }
                }
            }
        } catch (IOException e) {
            throw new VaultConfigException("vault.blobDir", "key blobs in " + blobDir + " are readable by other users and "
                    + "cannot be narrowed (" + e + "); make the folder 700 and the blobs 600, owned by the user James runs as", e);
        }
    }

    private static void narrow(Path path, Set<PosixFilePermission> mode) throws IOException {
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(path);
        if (!mode.containsAll(now)) {
            Files.setPosixFilePermissions(path, mode);
            LOG.warn("{} was readable by other users ({}): narrowed to {}. Anyone who could read it and reach the TPM "
                    + "could compute period keys with it; consider rotating the key (docs/KEYS.md).", path,
                    PosixFilePermissions.toString(now), PosixFilePermissions.toString(mode));
        }
    }

    private static byte[] readSized(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 2) {
            throw new IOException(file + " is truncated");
        }
        int size = ByteBuffer.wrap(all, 0, 2).getShort() & 0xffff;
        if (size != all.length - 2) {
            throw new IOException(file + " is not a TPM2B structure (size " + size + ", file " + all.length + " bytes)");
        }
        return Arrays.copyOfRange(all, 2, all.length);
    }

    @Override
    public String toString() {
        return "TpmBackend[" + description + ", blobs in " + blobDir + "]";
    }
}
