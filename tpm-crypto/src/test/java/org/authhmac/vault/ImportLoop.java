package org.authhmac.vault;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.authhmac.protocol.KdfContext;

/**
 * One process of {@link ConcurrentKeysetWritesTest}: opens the vault once, as James does, waits for the go file, then
 * imports keys in a loop and reports each one with the SHA-256 of a period key it derives from it (never the key).
 * Arguments: config file, key id prefix, count, go file.
 */
public final class ImportLoop {
    private ImportLoop() {
    }

    public static void main(String[] args) throws Exception {
        Path config = Path.of(args[0]);
        String prefix = args[1];
        int count = Integer.parseInt(args[2]);
        Path go = Path.of(args[3]);
        SecureRandom random = new SecureRandom();
        try (ManagedKeyVault vault = KeyVaults.openManaged(config)) {
            vault.keys();
            System.out.println("ready");
            System.out.flush();
            while (!Files.exists(go)) {
                Thread.sleep(10);
            }
            for (int i = 0; i < count; i++) {
                String keyId = prefix + "-" + i;
                byte[] secret = new byte[32];
                random.nextBytes(secret);
                try {
                    vault.importKey(keyId, "race", secret, KeyStatus.ACTIVE);
                    System.out.println("imported " + keyId + " " + digest(vault, keyId));
                } catch (RuntimeException e) {
                    System.out.println("failed " + keyId + " " + e);
                }
                System.out.flush();
            }
        }
        System.out.println("done");
    }

    /** SHA-256 of the period key for (key id, check.invalid, 900, 1): shows which secret a key id loads. */
    static String digest(KeyVault vault, String keyId) throws Exception {
        byte[] key = vault.periodKey(new KdfContext(keyId, "check.invalid", 900, 1)).exportBytesForTestVectors();
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key));
    }
}
