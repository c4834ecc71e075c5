package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one way key files are written: owner-only, never through a link, whole or not at all. */
class OwnerOnlyFilesTest {
    static final byte[] TEXT = "secret=abc\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void createNewWritesAnOwnerOnlyFileAndRefusesAnythingAlreadyThereOrAMissingFolder() throws Exception {
        Path fresh = dir.resolve("fresh.key");
        Path existing = Files.writeString(dir.resolve("existing.key"), "old");
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.key"), dir.resolve("target.key"));

        OwnerOnlyFiles.createNew(fresh, TEXT);

        assertThat(Files.readAllBytes(fresh)).isEqualTo(TEXT);
        assertThat(mode(fresh)).isEqualTo("rw-------");
        assertThatThrownBy(() -> OwnerOnlyFiles.createNew(existing, TEXT)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(existing)).isEqualTo("old");
        assertThatThrownBy(() -> OwnerOnlyFiles.createNew(dangling, TEXT)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(dir.resolve("target.key")).doesNotExist();
        assertThatThrownBy(() -> OwnerOnlyFiles.createNew(dir.resolve("missing/x.key"), TEXT)).isInstanceOf(NoSuchFileException.class);
        assertThat(dir.resolve("missing")).doesNotExist();
    }

    @Test
    void createNewPutsTheWholeFileInPlaceAndLeavesNoTemporaryFileBehind() throws Exception {
        Path fresh = dir.resolve("fresh.key");

        OwnerOnlyFiles.createNew(fresh, TEXT);
        assertThatThrownBy(() -> OwnerOnlyFiles.createNew(fresh, "other".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                .isInstanceOf(FileAlreadyExistsException.class);

        assertThat(Files.readAllBytes(fresh)).isEqualTo(TEXT);
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(fresh);
        }
    }

    @Test
    void replaceSwapsTheWholeFileOwnerOnlyAndReplacesALinkInsteadOfWritingThroughIt() throws Exception {
        Path wide = Files.writeString(dir.resolve("keyset"), "old");
        Files.setPosixFilePermissions(wide, PosixFilePermissions.fromString("rw-r--r--"));
        Path elsewhere = Files.writeString(dir.resolve("elsewhere"), "untouched");
        Path link = Files.createSymbolicLink(dir.resolve("linked"), elsewhere);

        OwnerOnlyFiles.replace(wide, TEXT);
        OwnerOnlyFiles.replace(link, TEXT);

        assertThat(Files.readAllBytes(wide)).isEqualTo(TEXT);
        assertThat(mode(wide)).isEqualTo("rw-------");
        assertThat(Files.isSymbolicLink(link)).isFalse();
        assertThat(Files.readString(elsewhere)).isEqualTo("untouched");
        try (var listing = Files.list(dir)) {
            assertThat(listing.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void folderIsCreatedForItsOwnerOnly() throws Exception {
        Path blobs = OwnerOnlyFiles.folder(dir.resolve("conf/auth-hmac-keys"));

        assertThat(mode(blobs)).isEqualTo("rwx------");
    }

    @Test
    void aLockHoldsTheLockFileUntilClosedAndTheHoldingThreadMayTakeItAgainInside() throws Exception {
        Path keyset = dir.resolve("keyset");
        Path lockFile = dir.resolve("keyset.lock");

        try (OwnerOnlyFiles.Lock outer = OwnerOnlyFiles.lock(keyset)) {
            assertThat(lockedInThisJvm(lockFile)).isTrue();
            try (OwnerOnlyFiles.Lock inner = OwnerOnlyFiles.lock(keyset)) {
                assertThat(lockedInThisJvm(lockFile)).isTrue();
            }
            assertThat(lockedInThisJvm(lockFile)).as("closing the inner lock keeps the outer one").isTrue();
        }
        assertThat(lockedInThisJvm(lockFile)).isFalse();
        assertThat(openDescriptorsOf(lockFile)).as("the lock file is closed with the lock").isZero();
        try (OwnerOnlyFiles.Lock again = OwnerOnlyFiles.lock(keyset)) {
            assertThat(lockedInThisJvm(lockFile)).isTrue();
        }
        assertThat(lockedInThisJvm(lockFile)).isFalse();
        assertThat(mode(lockFile)).isEqualTo("rw-------");
    }

    @Test
    void aLockThatCannotBeTakenLeavesNothingOpenOrHeld() throws Exception {
        Path keyset = dir.resolve("keyset");
        Path lockFile = dir.resolve("keyset.lock");

        // a link where the lock file belongs is not followed
        Path target = dir.resolve("elsewhere.lock");
        Path link = Files.createSymbolicLink(lockFile, target);
        assertThatThrownBy(() -> OwnerOnlyFiles.lock(keyset)).isInstanceOf(IOException.class);
        assertThat(target).doesNotExist();
        Files.delete(link);

        // the file lock itself refused (here: another channel of this JVM holds it)
        try (FileChannel other = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock held = other.lock()) {
            assertThatThrownBy(() -> OwnerOnlyFiles.lock(keyset)).isInstanceOf(OverlappingFileLockException.class);
            assertThat(openDescriptorsOf(lockFile)).as("only the other channel is open").isOne();
        }

        // neither failure left the lock taken for this thread
        try (OwnerOnlyFiles.Lock lock = OwnerOnlyFiles.lock(keyset)) {
            assertThat(lockedInThisJvm(lockFile)).isTrue();
        }
    }

    /** Whether this JVM holds a file lock on {@code lockFile}: the JVM refuses an overlapping lock from another channel. */
    static boolean lockedInThisJvm(Path lockFile) throws IOException {
        try (FileChannel probe = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock lock = probe.tryLock();
            lock.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        }
    }

    /** How many descriptors of this process are open on {@code file} (Linux /proc). */
    static long openDescriptorsOf(Path file) throws IOException {
        Path fds = Path.of("/proc/self/fd");
        assumeTrue(Files.isDirectory(fds), "needs /proc/self/fd");
        Path real = file.toRealPath();
        try (var listing = Files.list(fds)) {
            return listing.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void createNewTakesEveryNameTheFileSystemTakesAndLeavesNoOtherFile() throws Exception {
        Path longName = dir.resolve("k".repeat(240) + ".key");

        OwnerOnlyFiles.createNew(longName, "secret=abc\n".getBytes(StandardCharsets.US_ASCII));

        assertThat(Files.readString(longName)).isEqualTo("secret=abc\n");
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(longName);
        }
    }
}
