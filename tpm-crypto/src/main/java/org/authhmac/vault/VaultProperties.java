package org.authhmac.vault;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

/**
 * Typed access to auth-hmac.properties that names the property in every error, and refuses unknown
 * vault.*, cache.*, tpm.*, pkcs12.*, pkcs11.* properties so that a typo fails at start-up instead of being ignored.
 */
final class VaultProperties {
    static final List<String> OWN_PREFIXES = List.of("vault.", "cache.", "tpm.", "pkcs12.", "pkcs11.");
    static final Set<String> KNOWN = Set.of(
            "vault.backend", "vault.keysetFile", "vault.blobDir",
            "cache.previousPeriods", "cache.prefetchSeconds", "cache.maxEntries",
            "tpm.device", "tpm.host", "tpm.port", "tpm.tcpNoDelay", "tpm.timeoutMillis", "tpm.devicePath", "tpm.idleReleaseMillis", "tpm.parent", "tpm.ownerAuth", "tpm.ownerAuthFile",
            "pkcs12.file", "pkcs12.password", "pkcs12.passwordFile",
            "pkcs11.library", "pkcs11.slot", "pkcs11.slotListIndex", "pkcs11.pin", "pkcs11.pinFile");

    private final Properties properties;
    private final Path baseDir;

    VaultProperties(Properties properties, Path baseDir) {
        this.properties = properties;
        this.baseDir = baseDir;
        Set<String> unknown = new HashSet<>();
        for (String name : properties.stringPropertyNames()) {
            if (OWN_PREFIXES.stream().anyMatch(name::startsWith) && !KNOWN.contains(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            String name = unknown.stream().sorted().findFirst().orElseThrow();
            throw new VaultConfigException(name, "unknown property (known: " + KNOWN.stream().sorted().toList() + ")");
        }
    }

    String optional(String name) {
        String v = properties.getProperty(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    String string(String name, String defaultValue) {
        String v = optional(name);
        return v == null ? defaultValue : v;
    }

    /** A required choice among the constants of {@code type}, in any case. */
    <E extends Enum<E>> E choice(String name, Class<E> type) {
        String v = optional(name);
        if (v == null) {
            throw new VaultConfigException(name, "is required; one of " + names(type));
        }
        try {
            return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new VaultConfigException(name, "must be one of " + names(type) + ", not '" + v + "'");
        }
    }

    int integer(String name, int defaultValue, int min, int max) {
        String v = optional(name);
        if (v == null) {
            return defaultValue;
        }
        int value;
        try {
            value = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new VaultConfigException(name, "must be an integer, not '" + v + "'");
        }
        if (value < min || value > max) {
            throw new VaultConfigException(name, "must be between " + min + " and " + max + ", not " + value);
        }
        return value;
    }

    boolean bool(String name, boolean defaultValue) {
        String v = optional(name);
        if (v == null) {
            return defaultValue;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new VaultConfigException(name, "must be true or false, not '" + v + "'");
        };
    }

    /** A path, relative ones resolved against the directory of the properties file. */
    Path path(String name, String defaultValue) {
        String v = string(name, defaultValue);
        if (v == null) {
            throw new VaultConfigException(name, "is required");
        }
        return baseDir.resolve(v).normalize();
    }

    /** A secret given inline (name) or in a file (fileName); the file form keeps it out of the main configuration. */
    char[] secret(String name, String fileName) {
        String inline = optional(name);
        String file = optional(fileName);
        if (inline != null && file != null) {
            throw new VaultConfigException(fileName, "set either " + name + " or " + fileName + ", not both");
        }
        if (inline != null) {
            return inline.toCharArray();
        }
        if (file == null) {
            throw new VaultConfigException(fileName, "is required (or " + name + ")");
        }
        Path p = baseDir.resolve(file);
        try {
            String s = Files.readString(p, StandardCharsets.UTF_8);
            return s.strip().toCharArray();
        } catch (IOException e) {
            throw new VaultConfigException(fileName, "cannot read " + p + ": " + e.getMessage(), e);
        }
    }

    private static <E extends Enum<E>> List<String> names(Class<E> type) {
        return java.util.Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList();
    }
}
