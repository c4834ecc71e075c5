package org.authhmac.vault;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;

/**
 * The keyset description on disk: which keys exist, in which keyset, with which status and where their
 * backend keeps them. A properties file (key.&lt;id&gt;.keyset, .status, .created, .backend, .ref) that writers rewrite
 * atomically under {@link #lock()} and the running server re-reads when it changes. It holds no key bytes.
 */
final class KeysetFile {
    private static final List<String> ATTRIBUTES = List.of("keyset", "status", "created", "backend", "ref");
    private final Path file;

    KeysetFile(Path file) {
        this.file = file;
    }

    Path path() {
        return file;
    }

    /** The file's modification time, or null when it does not exist yet (an empty vault). */
    FileTime lastModified() {
        try {
            return Files.getLastModifiedTime(file);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new VaultConfigException("vault.keysetFile", "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** The keysets the file describes, validated; an empty vault when the file does not exist yet. */
    Keysets read() {
        Properties p = new Properties();
        if (!Files.exists(file)) {
            return Keysets.EMPTY;
        }
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new VaultConfigException("vault.keysetFile", "cannot read " + file + ": " + e.getMessage(), e);
        }
        TreeSet<String> ids = new TreeSet<>();
        for (String name : p.stringPropertyNames()) {
            if (!name.startsWith("key.") || name.lastIndexOf('.') <= 4) {
                throw new VaultConfigException(name, "unexpected entry in keyset file " + file);
            }
            // the attribute is the last dot-separated part: a key id may itself hold dots (k1 and k1.b are two keys)
            if (!ATTRIBUTES.contains(name.substring(name.lastIndexOf('.') + 1))) {
                throw new VaultConfigException(name, "unknown key attribute in " + file);
            }
            ids.add(name.substring(4, name.lastIndexOf('.')));
        }
        List<KeyRecord> records = new ArrayList<>();
        for (String id : ids) {
            String prefix = "key." + id + ".";
            try {
                records.add(new KeyRecord(id,
                        required(p, prefix + "keyset"),
                        status(p, prefix + "status"),
                        instant(p, prefix + "created"),
                        required(p, prefix + "backend"),
                        required(p, prefix + "ref")));
            } catch (IllegalArgumentException e) {
                throw new VaultConfigException(prefix + "*", e.getMessage() + " (in " + file + ")", e);
            }
        }
        try {
            return Keysets.of(records);
        } catch (Keyset.TwoPrimariesException e) {
            throw new VaultConfigException("key." + e.keyId() + ".status", e.getMessage() + " in " + file);
        }
    }

    void write(Keysets keysets) {
        StringBuilder out = new StringBuilder();
        out.append("# X-Auth-HMAC keyset, written by 'auth-hmac keys'. No key bytes here: they stay in the backend.\n");
        for (KeyRecord k : keysets.records()) {
            String prefix = "key." + k.keyId() + ".";
            out.append(prefix).append("keyset=").append(k.keyset()).append('\n');
            out.append(prefix).append("status=").append(k.status()).append('\n');
            out.append(prefix).append("created=").append(k.created()).append('\n');
            out.append(prefix).append("backend=").append(k.backend()).append('\n');
            out.append(prefix).append("ref=").append(escape(k.reference())).append('\n');
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            OwnerOnlyFiles.replace(file, out.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        } catch (IOException e) {
            throw new VaultConfigException("vault.keysetFile", "cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The lock every writer of this keyset file holds (in any process: James, the command line) while it re-reads the
     * file, changes it and writes it back, so that no writer replaces the file with a copy that misses another's keys.
     */
    OwnerOnlyFiles.Lock lock() {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            return OwnerOnlyFiles.lock(file);
        } catch (IOException e) {
            throw new VaultConfigException("vault.keysetFile", "cannot lock " + file + ": " + e.getMessage(), e);
        }
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\");
    }

    private static String required(Properties p, String name) {
        String v = p.getProperty(name);
        if (v == null || v.isBlank()) {
            throw new VaultConfigException(name, "missing");
        }
        return v.trim();
    }

    private static KeyStatus status(Properties p, String name) {
        String v = required(p, name);
        try {
            return KeyStatus.valueOf(v.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new VaultConfigException(name, "must be PRIMARY, ACTIVE or RETIRED, not " + v);
        }
    }

    private static Instant instant(Properties p, String name) {
        String v = required(p, name);
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw new VaultConfigException(name, "not an ISO-8601 instant: " + v);
        }
    }
}
