package org.authhmac.protocol.client;

import java.io.IOException;
import java.io.StringReader;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.Properties;

/**
 * The {@code version=1} key file, the one format in which a secret leaves a vault: a properties text with
 * {@code key-id}, {@code keyset}, {@code mailbox} (a mailbox key only), {@code created} and {@code secret}
 * (base64url), under comment lines that say what it is. Both the export for a peer ({@code keys generate}) and a
 * mailbox user's key file are written and read here. {@link #toString()} never shows the secret.
 *
 * @param mailbox the bound mailbox of a mailbox key, or empty
 * @param created as written (an ISO-8601 instant), or empty
 */
public record KeyFile(String keyId, String keyset, String mailbox, String created, byte[] secret) {
    public KeyFile {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(keyset, "keyset");
        Objects.requireNonNull(mailbox, "mailbox");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(secret, "secret");
    }

    /** The file's text: {@code header} (comment lines, each starting with #) and the entries. */
    public String text(String header) {
        return header
                + "version=1\n"
                + "key-id=" + keyId + "\n"
                + "keyset=" + keyset + "\n"
                + (mailbox.isEmpty() ? "" : "mailbox=" + mailbox + "\n")
                + "created=" + created + "\n"
                + "secret=" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret) + "\n";
    }

    /**
     * Reads a key file; {@code key-id} and {@code secret} are required, the rest may be missing (empty).
     *
     * @throws IllegalArgumentException naming what is wrong; the message never contains the secret
     */
    public static KeyFile parse(String text) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("not a key file: " + e.getMessage());
        }
        if (!"1".equals(p.getProperty("version", "").trim())) {
            throw new IllegalArgumentException("not a key file: version must be 1");
        }
        String keyId = required(p, "key-id");
        String encoded = required(p, "secret");
        byte[] secret;
        try {
            secret = Base64.getUrlDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("secret is not base64url");
        }
        return new KeyFile(keyId, optional(p, "keyset"), optional(p, "mailbox"), optional(p, "created"), secret);
    }

    private static String required(Properties p, String name) {
        String v = optional(p, name);
        if (v.isEmpty()) {
            throw new IllegalArgumentException("the key file has no " + name);
        }
        return v;
    }

    private static String optional(Properties p, String name) {
        return p.getProperty(name, "").trim();
    }

    public void wipe() {
        Arrays.fill(secret, (byte) 0);
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "KeyFile[" + keyId + ", keyset " + keyset + ", secret hidden]";
    }
}
