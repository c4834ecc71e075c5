package org.authhmac.james;

import com.google.common.io.BaseEncoding;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.crypto.Mac;
import org.apache.james.core.MailAddress;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.vault.ConcurrentKeysetChangeException;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.Keyset;
import org.authhmac.vault.ManagedKeyVault;

/**
 * Self-service release addresses: the address a quarantine notice gives one recipient to get back, or discard, their
 * copy of one held mail by writing to it. The token in it is a MAC, made with this server's own release key (vault
 * keyset {@value #KEYSET}, drawn on first use, never a partner key), over the action, an expiry, the recipient's
 * mailbox and the held mail's repository key (through the key's SHA-256 handle, which the token carries so that the
 * mail can be found). A token is checked without any state; that it works once is the held mail's own record of
 * whom it was released to. A web page or a JMAP method offers the same release by calling {@link #address} and
 * {@link #check}. Format and reasons: docs/OPERATIONS.md, "Release by reply".
 */
public final class ReleaseTokens {
    /** The vault keyset of the release key. */
    public static final String KEYSET = "auth-hmac-release";
    /** Release addresses are in this subdomain of the recipient's domain, which must not be a local domain. */
    public static final String SUBDOMAIN = "auth-hmac.";
    /** How long a token is taken at most, whatever it says: bounds the key periods a request can make us derive. */
    public static final Duration MAX_VALIDITY = Duration.ofDays(31);
    static final int HANDLE_BYTES = 8;
    static final int MAC_BYTES = 12;
    static final int VERSION = 1;
    /** version, handle, expiry (Unix seconds, 4 bytes), MAC */
    static final int TOKEN_BYTES = 1 + HANDLE_BYTES + 4 + MAC_BYTES;
    /** The token key's KDF context: this period length and period 0, the same for every token of a key. */
    static final int PERIOD_SECONDS = 86_400;
    /** The KDF's domain input for token keys: no signature can name it (.invalid, RFC 6761). */
    static final String KDF_DOMAIN = "release.auth-hmac.invalid";
    private static final byte[] LABEL = "X-Auth-HMAC release token".getBytes(StandardCharsets.US_ASCII);
    private static final BaseEncoding BASE32 = BaseEncoding.base32().lowerCase().omitPadding();
    private static final int ENCODED_CHARS = (TOKEN_BYTES * 8 + 4) / 5;
    /** At most this many keys of the keyset are tried for one token (rotation keeps a few ACTIVE). */
    static final int MAX_KEYS_TRIED = 4;

    /** What a release address asks for. */
    public enum Action {
        RELEASE, DISCARD;

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Why a token is refused: the words of the audit line and of the reply. */
    public enum Refusal {
        /** not a token this server could have written */
        MALFORMED,
        /** past its expiry */
        EXPIRED,
        /** the MAC does not hold: altered, or made for another mailbox */
        INVALID,
        /** the key vault cannot answer now; the token is not used up */
        UNAVAILABLE;

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The outcome of {@link #check}. */
    public sealed interface Check permits Valid, Refused {
    }

    /** A token this server made for this mailbox, not expired: {@link #handle} finds the held mail. */
    public record Valid(Action action, Handle handle, Instant expiry) implements Check {
    }

    public record Refused(Refusal refusal, String detail) implements Check {
    }

    /** The first {@value #HANDLE_BYTES} bytes of SHA-256 over a repository key: the token's reference to a held mail. */
    public static final class Handle {
        private final byte[] bytes;

        private Handle(byte[] bytes) {
            this.bytes = bytes;
        }

        public static Handle of(String mailKey) {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(mailKey.getBytes(StandardCharsets.UTF_8));
                return new Handle(Arrays.copyOf(digest, HANDLE_BYTES));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Whether this handle is the one of that repository key. */
        public boolean refersTo(String mailKey) {
            return MessageDigest.isEqual(bytes, of(mailKey).bytes);
        }

        @Override
        public String toString() {
            return HexFormat.of().formatHex(bytes);
        }
    }

    private final ManagedKeyVault vault;
    private final Clock clock;
    private final SecureRandom random;
    private final java.util.Map<String, PeriodKey> tokenKeys = new java.util.concurrent.ConcurrentHashMap<>();

    public ReleaseTokens(ManagedKeyVault vault, Clock clock, SecureRandom random) {
        this.vault = vault;
        this.clock = clock;
        this.random = random;
    }

    /** Whether the address is in a release subdomain: mail to it is a release request, never mail for a mailbox. */
    public static boolean isReleaseAddress(MailAddress address) {
        return address.getDomain().asString().toLowerCase(Locale.ROOT).startsWith(SUBDOMAIN);
    }

    /**
     * Whether the address is in the release subdomain of one of this server's domains ({@code isLocal}): mail to
     * {@code x@auth-hmac.other.example} is ordinary mail for another server.
     */
    public static boolean isReleaseAddress(MailAddress address, java.util.function.Predicate<org.apache.james.core.Domain> isLocal) {
        if (!isReleaseAddress(address)) {
            return false;
        }
        String rest = address.getDomain().asString().substring(SUBDOMAIN.length());
        try {
            return !rest.isEmpty() && isLocal.test(org.apache.james.core.Domain.of(rest));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * The address that does {@code action} on the copy of held mail {@code mailKey} for {@code mailbox}, until
     * {@code expiry}: {@code release-TOKEN@auth-hmac.<mailbox domain>}. Draws the release key on first use.
     *
     * @throws KeyUnavailableException the vault cannot answer now
     */
    public MailAddress address(Action action, String mailKey, MailAddress mailbox, Instant expiry) throws KeyUnavailableException {
        if (!expiry.isAfter(clock.instant()) || expiry.isAfter(clock.instant().plus(MAX_VALIDITY))) {
            throw new IllegalArgumentException("a token expires within " + MAX_VALIDITY.toDays() + " days: " + expiry);
        }
        long seconds = expiry.getEpochSecond();
        Handle handle = Handle.of(mailKey);
        byte[] mac;
        try {
            mac = mac(primaryKeyId(), action, seconds, handle, mailbox);
        } catch (UnknownKeyException e) {
            throw new KeyUnavailableException("the release key changed while in use: " + e.getMessage(), e);
        }
        ByteBuffer token = ByteBuffer.allocate(TOKEN_BYTES).put((byte) VERSION).put(handle.bytes)
                .putInt((int) seconds).put(mac, 0, MAC_BYTES);
        try {
            return new MailAddress(action.word() + "-" + BASE32.encode(token.array()),
                    SUBDOMAIN + mailbox.getDomain().asString());
        } catch (jakarta.mail.internet.AddressException e) {
            throw new IllegalStateException("release address of " + mailbox.asString(), e);
        }
    }

    /**
     * Checks a release address for the mailbox that asks (the authenticated sender, never a header field). Costs no
     * key work for an address that is malformed, expired or for another domain, and at most one HMAC per key tried
     * otherwise (the token keys are derived once).
     */
    public Check check(MailAddress address, MailAddress mailbox) {
        String local = address.getLocalPart().toLowerCase(Locale.ROOT);
        int dash = local.indexOf('-');
        Optional<Action> action = dash < 0 ? Optional.empty() : action(local.substring(0, dash));
        String encoded = dash < 0 ? "" : local.substring(dash + 1);
        if (action.isEmpty() || encoded.length() != ENCODED_CHARS || !BASE32.canDecode(encoded)) {
            return new Refused(Refusal.MALFORMED, "not a release address this server writes");
        }
        ByteBuffer token = ByteBuffer.wrap(BASE32.decode(encoded));
        if (token.get() != VERSION) {
            return new Refused(Refusal.MALFORMED, "unknown token version");
        }
        byte[] handleBytes = new byte[HANDLE_BYTES];
        token.get(handleBytes);
        long seconds = Integer.toUnsignedLong(token.getInt());
        byte[] mac = new byte[MAC_BYTES];
        token.get(mac);
        Instant expiry = Instant.ofEpochSecond(seconds);
        Instant now = clock.instant();
        if (!expiry.isAfter(now)) {
            return new Refused(Refusal.EXPIRED, "expired at " + expiry);
        }
        if (expiry.isAfter(now.plus(MAX_VALIDITY))) {
            return new Refused(Refusal.MALFORMED, "expiry beyond " + MAX_VALIDITY.toDays() + " days");
        }
        String expectedDomain = SUBDOMAIN + mailbox.getDomain().asString().toLowerCase(Locale.ROOT);
        if (!address.getDomain().asString().toLowerCase(Locale.ROOT).equals(expectedDomain)) {
            return new Refused(Refusal.INVALID, "not an address of " + mailbox.getDomain().asString());
        }
        Handle handle = new Handle(handleBytes);
        try {
            for (String keyId : verifyingKeyIds()) {
                byte[] expected;
                try {
                    expected = Arrays.copyOf(mac(keyId, action.get(), seconds, handle, mailbox), MAC_BYTES);
                } catch (UnknownKeyException e) {
                    continue; // retired between listing and deriving: it verifies nothing
                }
                if (MessageDigest.isEqual(expected, mac)) {
                    return new Valid(action.get(), handle, expiry);
                }
            }
        } catch (KeyUnavailableException e) {
            return new Refused(Refusal.UNAVAILABLE, e.getMessage());
        }
        return new Refused(Refusal.INVALID, "the MAC does not match this mailbox");
    }

    private static Optional<Action> action(String word) {
        for (Action a : Action.values()) {
            if (a.word().equals(word)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    private byte[] mac(String keyId, Action action, long expirySeconds, Handle handle, MailAddress mailbox)
            throws KeyUnavailableException, UnknownKeyException {
        Mac mac = tokenKey(keyId).newMac();
        mac.update(LABEL);
        mac.update((byte) 0);
        mac.update((byte) VERSION);
        mac.update(action.word().getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) 0);
        mac.update(ByteBuffer.allocate(8).putLong(expirySeconds).array());
        mac.update(handle.bytes);
        mac.update(mailbox.asString().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
        return mac.doFinal();
    }

    /**
     * The token key of a release key: one derivation per key id for the life of this object, whatever the tokens
     * say (their expiry is inside the MAC), so that neither notices nor requests make the vault work per mail.
     */
    private PeriodKey tokenKey(String keyId) throws KeyUnavailableException, UnknownKeyException {
        PeriodKey cached = tokenKeys.get(keyId);
        if (cached != null) {
            return cached;
        }
        PeriodKey key = vault.periodKey(new KdfContext(keyId, KDF_DOMAIN, PERIOD_SECONDS, 0));
        if (tokenKeys.size() >= MAX_KEYS_TRIED * 4) {
            tokenKeys.clear();
        }
        tokenKeys.put(keyId, key);
        return key;
    }

    private List<String> verifyingKeyIds() throws KeyUnavailableException {
        Optional<Keyset> keyset = keyset();
        if (keyset.isEmpty()) {
            return List.of();
        }
        // the primary first (it made every recent token), then the newest: old keys drop off the end
        Optional<String> primary = keyset.get().primaryId();
        return keyset.get().keys().stream().filter(k -> keyset.get().verifiesWith(k.keyId()))
                .sorted(java.util.Comparator.comparing((KeyInfo k) -> !primary.equals(Optional.of(k.keyId())))
                        .thenComparing(KeyInfo::created, java.util.Comparator.reverseOrder()))
                .map(KeyInfo::keyId).limit(MAX_KEYS_TRIED).toList();
    }

    private Optional<Keyset> keyset() throws KeyUnavailableException {
        try {
            return vault.keyset(KEYSET);
        } catch (RuntimeException e) {
            throw new KeyUnavailableException("key vault cannot list its keys: " + e.getMessage(), e);
        }
    }

    /** The release key's id, drawing a key when the keyset has none (once per vault; a concurrent draw wins). */
    private synchronized String primaryKeyId() throws KeyUnavailableException {
        Optional<String> primary = keyset().flatMap(Keyset::primaryId);
        if (primary.isPresent()) {
            return primary.get();
        }
        byte[] idBytes = new byte[6];
        random.nextBytes(idBytes);
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        try {
            return vault.replacePrimary("rel-" + HexFormat.of().formatHex(idBytes), KEYSET, secret, Optional.empty()).keyId();
        } catch (ConcurrentKeysetChangeException e) {
            return e.currentPrimary().orElseThrow(() -> new KeyUnavailableException("release key changed while drawn", e));
        } catch (RuntimeException e) {
            throw new KeyUnavailableException("cannot store a release key in the vault: " + e.getMessage(), e);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }
}
