package org.authhmac.vault;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes files that hold keys or describe them, the one way: readable and writable by the owner only (0600; a
 * created folder 0700), never through a symbolic link, into a folder that must exist, and forced to disk before it
 * counts, and whole: {@link #createNew} and {@link #replace} write a temporary file and then put it in place in one
 * step, so a reader (or a crash) sees the old content or the new, never a part. {@link #createNew} never overwrites.
 * {@link #lock} serialises read-modify-write cycles across processes.
 * On a file system without POSIX permissions (Windows) the files inherit the folder's ACL.
 */
public final class OwnerOnlyFiles {
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    public static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    public static final Set<PosixFilePermission> FOLDER_MODE = PosixFilePermissions.fromString("rwx------");
    /** FileLock is per process: threads of one JVM queue on this first, keyed by the lock file. */
    private static final ConcurrentHashMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    private OwnerOnlyFiles() {
    }

    /**
     * Creates {@code file} with {@code content}, whole or not at all: a new owner-only file in the same folder, forced
     * to disk, then linked in under its name. Fails, writing nothing there, when anything exists at that path (a
     * file, or a symbolic link even if it points nowhere) or when its folder does not exist.
     */
    public static void createNew(Path file, byte[] content) throws IOException {
        Path folder = requireFolder(file);
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(file.toString());
        }
        Path tmp = writeTemporary(folder, content);
        try {
            Files.createLink(file, tmp); // refuses anything at the path, a dangling link too
            forceFolder(folder);
        } catch (UnsupportedOperationException | FileSystemException e) {
            if (e instanceof FileAlreadyExistsException) {
                throw e;
            }
            writeInPlace(file, content); // a file system without hard links: created in place, never over anything
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeInPlace(Path file, byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS), fileAttributes())) {
            writeAll(ch, content);
        }
    }

    /**
     * Replaces {@code file} (or creates it) with {@code content} in one step: a new owner-only file in the same
     * folder, forced to disk, then renamed over it. A symbolic link at {@code file} is replaced, not followed.
     */
    public static void replace(Path file, byte[] content) throws IOException {
        Path folder = requireFolder(file);
        Path tmp = writeTemporary(folder, content);
        try {
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            forceFolder(folder);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * A new owner-only file in {@code folder} holding {@code content}, forced to disk; the caller removes it. Its name
     * is short and fixed in shape ({@code .auth-hmac-<random>.tmp}), so any name the file system takes for the file
     * itself can be created.
     */
    private static Path writeTemporary(Path folder, byte[] content) throws IOException {
        Path tmp = Files.createTempFile(folder, ".auth-hmac-", ".tmp", fileAttributes());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
                LinkOption.NOFOLLOW_LINKS)) {
            writeAll(ch, content);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return tmp;
    }

    /** Creates the folder (mode 0700) and missing parents when it does not exist; an existing folder is left as it is. */
    public static Path folder(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (POSIX) {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(FOLDER_MODE));
            } else {
                Files.createDirectory(dir);
            }
        }
        return dir;
    }

    /**
     * Takes an exclusive lock on {@code <file>.lock} (created 0600 next to it, and left there): held by one thread of
     * one process at a time. Whoever holds it re-reads the file, changes it and {@link #replace}s it before closing.
     */
    public static Lock lock(Path file) throws IOException {
        Path lockFile = file.toAbsolutePath().normalize().resolveSibling(file.getFileName() + ".lock");
        requireFolder(lockFile);
        ReentrantLock inJvm = JVM_LOCKS.computeIfAbsent(lockFile, k -> new ReentrantLock());
        inJvm.lock();
        if (inJvm.getHoldCount() > 1) {
            return new Lock(inJvm, null); // this thread holds the file lock already
        }
        FileChannel ch = null;
        try {
            Set<OpenOption> options = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            ch = FileChannel.open(lockFile, options, fileAttributes());
            ch.lock(); // held until the channel is closed
            return new Lock(inJvm, ch);
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            inJvm.unlock();
            throw e;
        }
    }

    /** An exclusive lock from {@link #lock}; closing releases it. */
    public static final class Lock implements AutoCloseable {
        private final ReentrantLock inJvm;
        /** The lock file's channel, whose file lock closing it releases; null for a lock taken again by its holder. */
        private final FileChannel channel;

        private Lock(ReentrantLock inJvm, FileChannel channel) {
            this.inJvm = inJvm;
            this.channel = channel;
        }

        @Override
        public void close() throws IOException {
            try {
                if (channel != null) {
                    channel.close();
                }
            } finally {
                inJvm.unlock();
            }
        }
    }

    private static Path requireFolder(Path file) throws IOException {
        Path folder = file.toAbsolutePath().getParent();
        if (folder == null || !Files.exists(folder)) {
            throw new NoSuchFileException(String.valueOf(folder), null, "folder does not exist");
        }
        if (!Files.isDirectory(folder)) {
            throw new NotDirectoryException(folder.toString());
        }
        return folder;
    }

    private static FileAttribute<?>[] fileAttributes() {
        return POSIX ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE_MODE)} : new FileAttribute<?>[0];
    }

    private static void writeAll(FileChannel ch, byte[] content) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
            ch.write(buffer);
        }
        ch.force(true);
    }

    /** The rename itself is durable only once the folder is forced; best effort where folders cannot be opened. */
    private static void forceFolder(Path folder) {
        if (!POSIX) {
            return;
        }
        try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | RuntimeException ignored) {
            // not every file system lets a folder be opened; the content is on disk either way
        }
    }
}
