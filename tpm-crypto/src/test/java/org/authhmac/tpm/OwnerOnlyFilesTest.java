package org.authhmac.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
}
