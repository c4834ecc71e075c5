package org.authhmac.vault.tpm2;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import tss.TpmDevice;

/**
 * A Linux TPM character device, /dev/tpmrm0 (kernel resource manager) by default. TSS.Java's TpmDeviceLinux
 * hard-codes its paths and turns I/O errors into generic RuntimeExceptions; this one takes the path from
 * configuration and reports transport errors so that the vault can reopen the device.
 */
public final class CharacterDeviceTpm extends TpmDevice {
    private final String path;
    private RandomAccessFile file;
    private byte[] response;
    private IOException lastConnectError;

    public CharacterDeviceTpm(String path) {
        this.path = path;
        this.TpmInfo = TpmTbsConn | TpmUsesTrm;
    }

    @Override
    public boolean connect() {
        close();
        try {
            // "rw" would create a missing path as a regular file (a mistyped tpm.devicePath, or /dev before udev made
            // the node) and send the TPM commands into it; a device that is not there is a failed connect
            if (!Files.exists(Path.of(path))) {
                throw new NoSuchFileException(path, null, "no TPM device there");
            }
            file = new RandomAccessFile(path, "rw");
            return true;
        } catch (IOException e) {
            lastConnectError = e;
            return false;
        }
    }

    public IOException lastConnectError() {
        return lastConnectError;
    }

    @Override
    public void dispatchCommand(byte[] command) {
        if (file == null) {
            throw new TpmTransportException(path + " is not open", null);
        }
        try {
            file.write(command);
            byte[] buf = new byte[4096];
            int n = file.read(buf);
            if (n < 10) {
                throw new IOException("short response (" + n + " bytes)");
            }
            response = Arrays.copyOf(buf, n);
        } catch (IOException e) {
            close();
            throw new TpmTransportException(path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] getResponse() {
        byte[] r = response;
        response = null;
        if (r == null) {
            throw new TpmTransportException(path + ": no response pending", null);
        }
        return r;
    }

    @Override
    public boolean responseReady() {
        return response != null;
    }

    @Override
    public void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
            file = null;
        }
    }

    @Override
    public String toString() {
        return path;
    }
}
