package org.authhmac.vault.tpm2;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Set;
import org.authhmac.vault.OwnerOnlyFiles;
import org.authhmac.vault.VaultConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wrapped key objects on disk: &lt;reference&gt;.pub and &lt;reference&gt;.priv in tpm2-tools' TPM2B format (a
 * two-byte size, then the structure), owner-only and each written whole through {@link OwnerOnlyFiles#replace}.
 */
final class TpmBlobs {
    private static final Logger LOG = LoggerFactory.getLogger(TpmBlobs.class);

    private final Path dir;

    TpmBlobs(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    /** Writes both halves of a key object; the folder is created 0700 if missing. */
    void write(String reference, byte[] pub, byte[] priv) throws IOException {
        OwnerOnlyFiles.folder(dir);
        writeSized(dir.resolve(reference + ".pub"), pub);
        writeSized(dir.resolve(reference + ".priv"), priv);
    }

    byte[] readPublic(String reference) throws IOException {
        return readSized(dir.resolve(reference + ".pub"));
    }

    byte[] readPrivate(String reference) throws IOException {
        return readSized(dir.resolve(reference + ".priv"));
    }

    /** Owner-only (0600), written whole or not at all: a half-written blob would be a key lost. */
    private static void writeSized(Path file, byte[] body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 2);
        out.writeBytes(ByteBuffer.allocate(2).putShort((short) body.length).array());
        out.writeBytes(body);
        OwnerOnlyFiles.replace(file, out.toByteArray());
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

    /**
     * Anyone who can read a blob and reach this TPM can load it and compute period keys for any period; the blobs are
     * the owner's alone. Blobs and their folder that an earlier version (or a copy) left readable by others are
     * narrowed to 0600 / 0700, with a warning; if that is not possible the vault does not start.
     */
    void narrowPermissions() {
        if (!Files.isDirectory(dir) || !FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        try {
            narrow(dir, OwnerOnlyFiles.FOLDER_MODE);
            try (DirectoryStream<Path> blobs = Files.newDirectoryStream(dir, "*.{pub,priv}")) {
                for (Path blob : blobs) {
                    if (Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
                        narrow(blob, OwnerOnlyFiles.FILE_MODE);
                    }
                }
            }
        } catch (IOException e) {
            throw new VaultConfigException("vault.blobDir", "key blobs in " + dir + " are readable by other users and "
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
}
