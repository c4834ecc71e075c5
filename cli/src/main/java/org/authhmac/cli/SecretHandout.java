package org.authhmac.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.authhmac.vault.OwnerOnlyFiles;

/**
 * How a command hands a secret out once: in a new owner-only file ({@code --export}) or on standard output
 * ({@code --print}). The file is written before the vault stores the key and removed if storing fails, so that the
 * vault never holds a key that nobody was given. With {@code --print}, standard output carries the secret alone (so
 * that it can be piped on) and the report goes to standard error.
 */
final class SecretHandout {
    private final Path file;
    private final String what;

    /**
     * @param file the {@code --export} file, or null for {@code --print}
     * @param what what the file is called in messages, e.g. "key file"
     */
    SecretHandout(Path file, String what) {
        this.file = file;
        this.what = what;
    }

    /**
     * With {@code --export}, writes the new file, readable by its owner only: never through a symbolic link and never
     * over an existing file (an older secret is not lost by mistake), or an IOException saying why not.
     */
    void writeFirst(String text) throws IOException {
        if (file == null) {
            return;
        }
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        try {
            OwnerOnlyFiles.createNew(file, bytes);
        } catch (FileAlreadyExistsException e) {
            throw new IOException(what + " " + file + " already exists (or is a symbolic link); not overwriting it", e);
        } catch (NoSuchFileException e) {
            throw new IOException("cannot write the " + what + " " + file + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** Removes what {@link #writeFirst} wrote: the vault did not store the key in it. */
    void withdraw() throws IOException {
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    /**
     * With {@code --print}, prints the secret; with {@code --export}, the line {@code written} that says where it went.
     *
     * @param keyId the key the vault has stored, named if the secret cannot be printed
     * @return where the rest of the report goes
     * @throws IOException with {@code --print}, standard output could not take the secret (a closed pipe, a full
     *     disk): the key is stored, but nobody holds it
     */
    PrintWriter handOut(CommandContext io, String keyId, String text, String written) throws IOException {
        if (file == null) {
            io.out().print(text);
            io.out().flush();
            // PrintWriter and PrintStream swallow write errors: ask both, or a lost secret passes for handed out
            if (io.out().checkError() || System.out.checkError()) {
                throw new IOException("the secret of " + keyId + " did not reach standard output, but the key is stored: "
                        + "nobody holds it, so replace it (a new key, then retire " + keyId + ")");
            }
            return io.err();
        }
        io.out().println(written);
        return io.out();
    }
}
