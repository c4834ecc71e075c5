package org.authhmac.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Properties;

/**
 * The guard's state file: which folder it guards and how far it has checked it ({@link ImapGuard.Checkpoint}). Its
 * existence is what makes a run act: without it the guard has never acted on this folder, and a run that is not
 * given {@code --apply} is a dry run.
 */
final class ImapGuardState {
    private ImapGuardState() {
    }

    /**
     * {@code ~/.local/state/auth-hmac/imap-guard/<login>@<host>-<port>-<folder>.state}: one file per account and
     * folder, so two guards of one user (two servers, two folders) never share one.
     */
    static Path defaultPath(String login, String host, int port, String folder) {
        String name = safe(login) + "@" + safe(host) + "-" + port + "-" + safe(folder) + ".state";
        return Path.of(System.getProperty("user.home"), ".local", "state", "auth-hmac", "imap-guard", name);
    }

    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9._@+-]", "_");
    }

    /** The checkpoint in the file, or empty when there is no file. */
    static Optional<ImapGuard.Checkpoint> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader r = new StringReader(Files.readString(file, StandardCharsets.UTF_8))) {
            p.load(r);
        }
        try {
            return Optional.of(new ImapGuard.Checkpoint(Long.parseLong(p.getProperty("uidvalidity", "").trim()),
                    Long.parseLong(p.getProperty("last-uid", "").trim())));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("state file " + file + " is not the guard's (no numeric uidvalidity and last-uid);"
                    + " move it away to start over (the next run is then a dry run)");
        }
    }

    /** Replaces the file in one step, so a guard stopped while writing leaves the old checkpoint or the new one. */
    static void write(Path file, ImapGuard.Checkpoint c, String what) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, "# auth-hmac imap-guard: how far it has checked " + what + ".\n"
                    + "# Delete this file to start over: the next run without --apply is then a dry run.\n"
                    + "uidvalidity=" + c.uidValidity() + "\nlast-uid=" + c.lastUid() + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
