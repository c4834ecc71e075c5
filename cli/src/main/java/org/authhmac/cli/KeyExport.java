package org.authhmac.cli;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import org.authhmac.protocol.client.KeyFile;

/**
 * The one-time export of a primary for the peer: key id, the keyset name it had here, and the secret, as a
 * {@link KeyFile} that an operator can read (and learn what to do with) before carrying it over.
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
        return new KeyFile(keyId, keyset, "", created.toString(), secret).text(HEADER);
    }

    static KeyExport parse(String text, String source) {
        KeyFile file;
        try {
            file = KeyFile.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage() + " (is it an auth-hmac key export?)");
        }
        byte[] bytes = file.secret();
        if (bytes.length < 16 || bytes.length > 64) {
            file.wipe();
            throw new IllegalArgumentException(source + ": secret must be 128..512 bits (256 recommended), found " + bytes.length * 8);
        }
        Instant created;
        try {
            created = file.created().isEmpty() ? Instant.EPOCH : Instant.parse(file.created());
        } catch (DateTimeParseException e) {
            file.wipe();
            throw new IllegalArgumentException(source + ": created is not an instant such as 2026-11-22T02:00:00Z");
        }
        return new KeyExport(file.keyId(), file.keyset(), created, bytes);
    }

    void wipe() {
        Arrays.fill(secret, (byte) 0);
    }

    @Override
    public String toString() {
        return "KeyExport[" + keyId + ", keyset " + keyset + ", secret hidden]";
    }
}
