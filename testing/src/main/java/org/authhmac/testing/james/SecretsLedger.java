package org.authhmac.testing.james;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;

/**
 * Every key secret the e2e suite has seen outside a vault, kept in this JVM only (never written anywhere), so that
 * a last test can search everything the James servers wrote for them (docs/RELIABILITY.md, "Secrets"). A secret enters the
 * ledger where the harness meets it: a key file the CLI exported ({@link KeyCli}) and a mailbox key file the
 * WebAdmin route issued. Keys generated in a TPM and never exported cannot be searched for, and need not be: they
 * never left the TPM.
 *
 * <p>The searching test adds the period keys each primary derives (a leaked period key is as bad as a leaked
 * primary for its period); the ledger records when the suite first met each primary for that.
 */
public final class SecretsLedger {
    private static final List<Primary> PRIMARIES = new ArrayList<>();

    /** A primary secret and where the suite met it; {@link #toString()} never shows the bytes. */
    public record Primary(String label, String keyId, byte[] secret, Instant firstSeen) {
        @Override
        public String toString() {
            return "Primary[" + label + ", key id " + keyId + ", secret hidden]";
        }
    }

    private SecretsLedger() {
    }

    public static synchronized void record(String label, String keyId, byte[] secret) {
        PRIMARIES.add(new Primary(label, keyId, secret.clone(), Instant.now()));
    }

    /**
     * Records the secret of a key file in the format the CLI exports and the WebAdmin route issues (a properties
     * text with {@code key-id} and a base64url {@code secret}).
     */
    public static void recordKeyFile(String label, Path keyFile) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(keyFile)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String secret = p.getProperty("secret");
        if (secret == null) {
            throw new IllegalStateException(keyFile + " has no secret= line: the key file format changed");
        }
        record(label, p.getProperty("key-id", "?"), Base64.getUrlDecoder().decode(secret.trim()));
    }

    public static synchronized List<Primary> primaries() {
        return List.copyOf(PRIMARIES);
    }
}
