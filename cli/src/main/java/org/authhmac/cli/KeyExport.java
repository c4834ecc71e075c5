package org.authhmac.cli;

import java.io.IOException;
import java.io.StringReader;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Properties;

/**
 * The one-time export of a primary for the peer: key id, the keyset name it had here, and the secret in base64url.
 * A properties text so that an operator can read what it is (and what to do with it) before carrying it over.
 * {@link #toString()} never shows the secret.
 */
record KeyExport(String keyId, String keyset, Instant created, byte[] secret) {
    static final String HEADER = """
            # X-Auth-HMAC primary key export. THIS IS A SECRET.
            # Carry it to the peer server (or mail client) over a secure channel, import it there with
            #   auth-hmac keys import --keyset <name> --from <this file>
            # then destroy every copy of this file. See docs/KEYS.md.
            """;

    String text() {
        return HEADER
                + "version=1\n"
                + "key-id=" + keyId + "\n"
                + "keyset=" + keyset + "\n"
                + "created=" + created + "\n"
                + "secret=" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret) + "\n";
    }

    static KeyExport parse(String text, String source) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " is not a key export: " + e.getMessage());
        }
        if (!"1".equals(p.getProperty("version"))) {
            throw new IllegalArgumentException(source + ": version must be 1 (is it an auth-hmac key export?)");
        }
        String keyId = require(p, "key-id", source);
        String secret = require(p, "secret", source);
        byte[] bytes;
        try {
            bytes = Base64.getUrlDecoder().decode(secret);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": secret is not base64url");
        }
        if (bytes.length < 16 || bytes.length > 64) {
            Arrays.fill(bytes, (byte) 0);
            throw new IllegalArgumentException(source + ": secret must be 128..512 bits (256 recommended), found " + bytes.length * 8);
        }
        String created = p.getProperty("created");
        return new KeyExport(keyId, p.getProperty("keyset", ""), created == null ? Instant.EPOCH : Instant.parse(created), bytes);
    }

    private static String require(Properties p, String name, String source) {
        String v = p.getProperty(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(source + ": " + name + " is missing");
        }
        return v.trim();
    }

    void wipe() {
        Arrays.fill(secret, (byte) 0);
    }

    @Override
    public String toString() {
        return "KeyExport[" + keyId + ", keyset " + keyset + ", secret hidden]";
    }
}
