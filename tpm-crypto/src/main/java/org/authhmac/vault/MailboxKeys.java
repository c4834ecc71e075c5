package org.authhmac.vault;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.protocol.client.KeyFile;
import org.authhmac.protocol.client.MailboxKey;

/**
 * Per-mailbox keys: each mailbox user's key lives in the vault in a keyset of its own, {@code user:<mailbox>}, and
 * is issued once. The server signs delivered mail with it (bound to the mailbox); the user's client verifies with
 * the copy it received. Issuing a second key for a mailbox that has one is a rotation and must be asked for.
 */
public final class MailboxKeys {
    /** Keyset names of mailbox keys: this prefix and the mailbox address (the one definition is the client's). */
    public static final String KEYSET_PREFIX = MailboxKey.KEYSET_PREFIX;
    /** The mailbox addresses a keyset name (and r=) can carry: an ASCII dot-atom local part and a domain name. */
    private static final Pattern MAILBOX = Pattern.compile("[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?");

    private MailboxKeys() {
    }

    /** The mailbox in the form keysets and r= use (lower case); IllegalArgumentException when it cannot be bound. */
    public static String mailbox(String address) {
        String m = Objects.requireNonNull(address, "address").trim().toLowerCase(Locale.ROOT);
        if (!MAILBOX.matcher(m).matches() || m.startsWith(".") || m.contains("..") || m.contains(".@")) {
            throw new IllegalArgumentException("not a mailbox address that a key can be bound to (ASCII local@domain): " + address);
        }
        return m;
    }

    public static String keyset(String address) {
        return KEYSET_PREFIX + mailbox(address);
    }

    /** The key id new signatures for this mailbox use, if the mailbox has a key. */
    public static Optional<String> primaryKeyId(KeyVault vault, String address) {
        try {
            return Optional.of(vault.primaryKeyId(keyset(address)));
        } catch (UnknownKeyException e) {
            return Optional.empty();
        }
    }

    /**
     * The vault seen as one mailbox's key source: only the PRIMARY and ACTIVE keys of keyset {@code user:<mailbox>}
     * answer; any other key id (another user's, a partner's) is unknown. Verifying for a mailbox with the whole vault
     * would let every holder of any key in it sign mail that passes for that mailbox.
     */
    public static PeriodKeys keysOf(KeyVault vault, String address) {
        String keyset = keyset(address);
        // The vault's verification view: keys for signatures a client presents are cached only once a MAC verified.
        PeriodKeys verification = vault.forVerification(() -> { });
        return new PeriodKeys() {
            @Override
            public PeriodKey periodKey(KdfContext context) throws UnknownKeyException, KeyUnavailableException {
                if (!usableIn(vault, context.keyId(), keyset)) {
                    throw new UnknownKeyException("key id " + context.keyId() + " is not a key of keyset " + keyset);
                }
                return verification.periodKey(context);
            }

            @Override
            public void macChecked(PeriodKey key, boolean verified) {
                verification.macChecked(key, verified);
            }
        };
    }

    private static boolean usableIn(KeyVault vault, String keyId, String keyset) throws KeyUnavailableException {
        try {
            return vault.keyset(keyset).filter(ks -> ks.verifiesWith(keyId)).isPresent();
        } catch (RuntimeException e) {
            throw new KeyUnavailableException("key vault cannot list its keys: " + e.getMessage(), e);
        }
    }

    /**
     * Draws a 256-bit secret, stores it in the vault as the mailbox's PRIMARY key (a previous one becomes ACTIVE) and
     * returns the only copy that will ever leave the vault.
     *
     * @throws AlreadyIssuedException the mailbox has a key and {@code rotate} is false
     */
    public static Issued issue(ManagedKeyVault vault, String address, boolean rotate, SecureRandom random) {
        Issued drawn = draw(vault, address, rotate, random, java.time.Clock.systemUTC().instant());
        try {
            return store(vault, drawn, rotate);
        } finally {
            drawn.wipe();
        }
    }

    /**
     * The first half of {@link #issue}: a new key id and secret for the mailbox, not stored yet, so that the caller can
     * put the key file where it belongs first (a key the vault signs with but nobody holds would be lost) and then
     * {@link #store} it. The caller wipes it.
     *
     * @throws AlreadyIssuedException the mailbox has a key (as far as this vault knows yet) and {@code rotate} is false
     */
    public static Issued draw(KeyVault vault, String address, boolean rotate, SecureRandom random, Instant created) {
        String mailbox = mailbox(address);
        Optional<String> existing = primaryKeyId(vault, mailbox);
        if (existing.isPresent() && !rotate) {
            throw new AlreadyIssuedException(mailbox, existing.get());
        }
        byte[] idBytes = new byte[8];
        random.nextBytes(idBytes);
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        return new Issued(mailbox, "mbx-" + HexFormat.of().formatHex(idBytes), keyset(mailbox),
                created.truncatedTo(java.time.temporal.ChronoUnit.SECONDS), secret, existing);
    }

    /**
     * Stores a drawn key as the mailbox's PRIMARY, provided the mailbox's primary is still the one {@link #draw} saw:
     * checked under the keyset lock that every process takes, so a key is shown once even when the command line and
     * James issue at the same moment. Returns the issued key with the creation time the vault recorded.
     *
     * @throws AlreadyIssuedException another process gave the mailbox a key meanwhile and {@code rotate} is false
     * @throws ConcurrentKeysetChangeException another process rotated the mailbox's key meanwhile; nothing was stored
     */
    public static Issued store(ManagedKeyVault vault, Issued drawn, boolean rotate) {
        byte[] secret = drawn.secret().clone();
        try {
            KeyInfo info = vault.replacePrimary(drawn.keyId(), drawn.keyset(), secret, drawn.replaced());
            return new Issued(drawn.mailbox(), drawn.keyId(), drawn.keyset(), info.created(), drawn.secret().clone(), drawn.replaced());
        } catch (ConcurrentKeysetChangeException e) {
            if (!rotate && e.currentPrimary().isPresent()) {
                throw new AlreadyIssuedException(drawn.mailbox(), e.currentPrimary().get());
            }
            throw e;
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    /** The mailbox already has a key; its secret was handed out when it was issued and is not shown again. */
    public static final class AlreadyIssuedException extends IllegalStateException {
        private final String keyId;

        AlreadyIssuedException(String mailbox, String keyId) {
            super("mailbox " + mailbox + " already has key " + keyId + "; its secret is shown only once. "
                    + "Issue a new one with rotate (the client then needs the new key file)");
            this.keyId = keyId;
        }

        public String keyId() {
            return keyId;
        }
    }

    /**
     * An issued key and its one copy of the secret. {@link #keyFile()} is what the user's client reads
     * (org.authhmac.protocol.client.MailboxKey); {@link #toString()} never shows the secret; call {@link #wipe()}.
     */
    public record Issued(String mailbox, String keyId, String keyset, Instant created, byte[] secret, Optional<String> replaced) {
        public String secretBase64Url() {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        }

        public String keyFile() {
            return new KeyFile(keyId, keyset, mailbox, created.toString(), secret).text(
                    "# X-Auth-HMAC mailbox key for " + mailbox + ". THIS IS A SECRET, shown once.\n"
                    + "# Keep it where only the mail client of " + mailbox + " can read it; see docs/CLIENTS.md.\n");
        }

        public void wipe() {
            Arrays.fill(secret, (byte) 0);
        }

        @Override
        public String toString() {
            return "Issued[" + mailbox + ", key " + keyId + ", secret hidden]";
        }
    }
}
