package org.authhmac.vault.tpm2;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.authhmac.protocol.KeyUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tss.Tpm;
import tss.TpmDevice;
import tss.TpmException;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RC;

/**
 * How the backend talks to the TPM: one call at a time over a {@link TpmConnection}; when the connection broke or
 * the TPM lost our objects (restarted, another client flushed them) it reconnects or reloads and retries once, and a
 * TPM that stays away is logged once and answered with {@link KeyUnavailableException}. An idle connection can be
 * released, as swtpm serves one client at a time.
 */
final class TpmSession {
    private static final Logger LOG = LoggerFactory.getLogger(TpmSession.class);

    /** A command sequence run with a connected TPM and its storage key. */
    interface Call<T> {
        T run(Tpm tpm, TPM_HANDLE storageKey) throws KeyUnavailableException;
    }

    /** Loads a key object under the storage key; TpmException for a lost state that a retry may cure. */
    interface Loader {
        TPM_HANDLE load(Tpm tpm, TPM_HANDLE storageKey) throws KeyUnavailableException;
    }

    private final TpmConnection connection;
    private final long idleReleaseNanos;
    private final ScheduledExecutorService releaser;
    private long lastUseNanos;
    private boolean down;

    TpmSession(Supplier<TpmDevice> devices, String description, boolean sendStartup, long idleReleaseMillis,
               int persistentParent, byte[] ownerAuth) {
        this.connection = new TpmConnection(devices, description, sendStartup, persistentParent, ownerAuth);
        this.idleReleaseNanos = TimeUnit.MILLISECONDS.toNanos(idleReleaseMillis);
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

    String description() {
        return connection.description();
    }

    long commandCount() {
        return connection.commandCount();
    }

    synchronized boolean connected() {
        return connection.isOpen();
    }

    private synchronized void releaseIfIdle() {
        if (connection.isOpen() && System.nanoTime() - lastUseNanos >= idleReleaseNanos) {
            connection.release();
            LOG.debug("released idle TPM connection {}", description());
        }
    }

    /**
     * Runs a call with a connected TPM and a loaded storage key; on a broken connection or vanished handles it
     * reconnects and tries once more. Everything else is a {@link KeyUnavailableException} naming the cause.
     */
    synchronized <T> T run(String what, Call<T> call) throws KeyUnavailableException {
        try {
            return runOnce(what, call);
        } finally {
            lastUseNanos = System.nanoTime();
        }
    }

    /** The handle of a key object, loaded by {@code loader} while it is not loaded yet; call inside {@link #run}. */
    synchronized TPM_HANDLE keyHandle(String keyId, Loader loader) throws KeyUnavailableException {
        return connection.keyHandle(keyId, loader);
    }

    /** How many transient objects the TPM holds now; for tests. */
    synchronized int transientObjectCount() throws KeyUnavailableException {
        return run("listing handles", (tpm, storageKey) -> connection.transientHandles().length);
    }

    private <T> T runOnce(String what, Call<T> call) throws KeyUnavailableException {
        RuntimeException failure = null;
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                connection.ensureConnected();
                T result = call.run(connection.tpm(), connection.storageKey());
                if (down) {
                    down = false;
                    LOG.info("TPM {} is reachable again", description());
                }
                return result;
            } catch (TpmException e) {
                failure = e;
                if (!isLostState(e)) {
                    break;
                }
                if (is(e.ResponseCode, TPM_RC.INITIALIZE)) {
                    // the TPM was reset under the open connection: only a new connection (with Startup) brings it back
                    LOG.info("TPM {} was reset while {}; connecting again", description(), what);
                    connection.disconnect();
                } else {
                    LOG.info("TPM lost our objects ({}) while {}; reloading", e.ResponseCode, what);
                    connection.resetObjects();
                }
            } catch (RuntimeException e) {
                // TpmTransportException, or anything else the device or TSS.Java throws: start afresh
                failure = e;
                connection.disconnect();
            }
        }
        // one warning when the TPM goes away, not one per mail while it stays away
        if (!down) {
            down = true;
            LOG.warn("TPM {} unavailable while {}: {} (mail is deferred, not sent unsigned; retrying on demand)",
                    description(), what, failure.getMessage());
        } else {
            LOG.debug("TPM {} still unavailable while {}: {}", description(), what, failure.getMessage());
        }
        throw new KeyUnavailableException("TPM " + description() + " unavailable while " + what + ": " + failure.getMessage(), failure);
    }

    private boolean isLostState(TpmException e) {
        TPM_RC rc = e.ResponseCode;
        if (is(rc, TPM_RC.HANDLE) && connection.persistentParentMissing()) {
            return false; // the configured persistent parent is missing: retrying will not bring it back
        }
        return is(rc, TPM_RC.HANDLE) || is(rc, TPM_RC.REFERENCE_H0) || is(rc, TPM_RC.INITIALIZE)
                || is(rc, TPM_RC.OBJECT_MEMORY) || is(rc, TPM_RC.SESSION_MEMORY);
    }

    /**
     * Response codes compared by value: TSS.Java maps a code to the first constant of that value, so TPM_RC_INITIALIZE
     * (0x100) comes back as TPM_RC._1, never as the INITIALIZE constant.
     */
    static boolean is(TPM_RC rc, TPM_RC expected) {
        return rc != null && rc.toInt() == expected.toInt();
    }

    /**
     * TSS.Java prints "TPM ERROR" on standard output for every failed command it was not told to expect; we allow
     * errors on the commands that can fail in normal operation and turn the code into an exception here instead.
     */
    static void checkResponse(Tpm tpm) {
        TPM_RC rc = tpm._getLastResponseCode();
        if (rc != TPM_RC.SUCCESS) {
            throw new TpmException(rc);
        }
    }

    /** Flushes the loaded key objects; the next use loads them again. */
    synchronized void flushLoadedKeys() {
        connection.flushLoadedKeys();
    }

    synchronized void close() {
        if (releaser != null) {
            releaser.shutdownNow();
        }
        if (connection.isOpen()) {
            connection.release();
        }
    }
}
