package org.authhmac.vault;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed access to auth-hmac.properties that names the property in every error. {@link #rejectUnknown} refuses
 * unknown properties under the vault's prefixes, so that a typo fails at start-up instead of being ignored.
 * Backends read their properties through it ({@link KeyBackendFactory#open}).
 */
public final class VaultProperties {
    private final Properties properties;
    private final Path baseDir;

    /** @param baseDir what relative paths resolve against: the directory of the properties file */
    public VaultProperties(Properties properties, Path baseDir) {
        this.properties = properties;
        this.baseDir = baseDir;
    }

    /** Refuses a property that starts with one of {@code prefixes} and is not in {@code known}, naming the first. */
    void rejectUnknown(List<String> prefixes, Set<String> known) {
        Set<String> unknown = new TreeSet<>();
        for (String name : properties.stringPropertyNames()) {
            if (prefixes.stream().anyMatch(name::startsWith) && !known.contains(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new VaultConfigException(unknown.iterator().next(), "unknown property (known: " + known.stream().sorted().toList() + ")");
        }
    }

    public String optional(String name) {
        String v = properties.getProperty(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    public String string(String name, String defaultValue) {
        String v = optional(name);
        return v == null ? defaultValue : v;
    }

    /** A required choice among the constants of {@code type}, in any case. */
    public <E extends Enum<E>> E choice(String name, Class<E> type) {
        return Enum.valueOf(type, choice(name, names(type)).toUpperCase(Locale.ROOT));
    }

    /** A required choice among {@code choices} (lower case), in any case; the choice in lower case. */
    public String choice(String name, List<String> choices) {
        String v = optional(name);
        if (v == null) {
            throw new VaultConfigException(name, "is required; one of " + choices);
        }
        String lower = v.toLowerCase(Locale.ROOT);
        if (!choices.contains(lower)) {
            throw new VaultConfigException(name, "must be one of " + choices + ", not '" + v + "'");
        }
        return lower;
    }

    public int integer(String name, int defaultValue, int min, int max) {
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

    public boolean bool(String name, boolean defaultValue) {
        String v = optional(name);
        if (v == null) {
            return defaultValue;
        }
        return ConfigSyntax.bool(v).orElseThrow(() -> new VaultConfigException(name, "must be true or false, not '" + v + "'"));
    }

    /** A path, relative ones resolved against the directory of the properties file. */
    public Path path(String name, String defaultValue) {
        String v = string(name, defaultValue);
        if (v == null) {
            throw new VaultConfigException(name, "is required");
        }
        return baseDir.resolve(v).normalize();
    }

    /** A secret given inline (name) or in a file (fileName); the file form keeps it out of the main configuration. */
    public char[] secret(String name, String fileName) {
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
