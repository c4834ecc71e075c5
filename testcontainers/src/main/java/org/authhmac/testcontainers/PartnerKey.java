package org.authhmac.testcontainers;

import java.time.Instant;
import java.util.Objects;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.protocol.client.KeyFile;

/**
 * The shared secret of one partner relationship, as the CLI exported it when a container's vault got it: what a
 * test signs mail with ({@link #periodKeys()}), and what the peer container imports. Never printed.
 */
public final class PartnerKey {
    private final String keyset;
    private final String keyId;
    private final Instant created;
    private final byte[] secret;

    PartnerKey(String keyset, String keyId, Instant created, byte[] secret) {
        this.keyset = Objects.requireNonNull(keyset, "keyset");
        this.keyId = Objects.requireNonNull(keyId, "keyId");
        this.created = Objects.requireNonNull(created, "created");
        this.secret = secret.clone();
    }

    /** Reads a key export file of the CLI ({@code keys generate --export}). */
    static PartnerKey fromExport(String exportText) {
        KeyFile file = KeyFile.parse(exportText);
        try {
            Instant created = file.created().isEmpty() ? Instant.EPOCH : Instant.parse(file.created());
            return new PartnerKey(file.keyset(), file.keyId(), created, file.secret());
        } finally {
            file.wipe();
        }
    }

    /** The same key as a CLI export file, for {@code keys import}. */
    String exportText() {
        return new KeyFile(keyId, keyset, "", created.toString(), secret.clone())
                .text("# X-Auth-HMAC primary key export, written by AuthHmacJames for a test container\n");
    }

    public String keyset() {
        return keyset;
    }

    /** The key id that goes into {@code k=} of a signature made with this key. */
    public String keyId() {
        return keyId;
    }

    /** The primary secret itself (a copy): a test key, never a production one. */
    public byte[] secret() {
        return secret.clone();
    }

    /** The key as the protocol library's {@code Signer} and {@code Verifier} take it. */
    public PeriodKeys periodKeys() {
        return StaticPeriodKeys.of(keyId, secret.clone());
    }

    @Override
    public String toString() {
        return "PartnerKey[" + keyId + " of keyset " + keyset + ", secret hidden]";
    }
}
