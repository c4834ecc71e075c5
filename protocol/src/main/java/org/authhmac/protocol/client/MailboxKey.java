package org.authhmac.protocol.client;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.StaticPeriodKeys;

/**
 * A mailbox user's own key(s): the mailbox address the server binds (r=) and one or more (key id, primary) pairs,
 * more than one after a rotation so that older mail still verifies. Read from the key file that
 * {@code PUT /auth-hmac/users/{user}/key} or {@code auth-hmac users key} hands out once (docs/CLIENTS.md).
 * {@link #toString()} never shows a secret.
 */
public final class MailboxKey {
    /** Keyset names the server gives per-mailbox keys: this prefix and the mailbox address. */
    public static final String KEYSET_PREFIX = "user:";

    private final String mailbox;
    private final Map<String, byte[]> primaries;

    private MailboxKey(String mailbox, Map<String, byte[]> primaries) {
        this.mailbox = mailbox;
        this.primaries = primaries;
    }

    /** One key; the secret is copied (16..64 bytes). */
    public static MailboxKey of(String mailbox, String keyId, byte[] primary) {
        return new MailboxKey(normalMailbox(mailbox), checked(Map.of(keyId, primary)));
    }

    /**
     * Parses a key file ({@link KeyFile}) that names its mailbox: {@code mailbox}, or a {@code keyset} of the form
     * {@code user:<mailbox>}.
     *
     * @throws IllegalArgumentException naming what is wrong; the message never contains the secret
     */
    public static MailboxKey parse(String text) {
        KeyFile file = KeyFile.parse(text);
        try {
            String mailbox = file.mailbox();
            if (mailbox.isEmpty()) {
                if (!file.keyset().startsWith(KEYSET_PREFIX)) {
                    throw new IllegalArgumentException("the key file names no mailbox (neither mailbox= nor keyset=user:<address>)");
                }
                mailbox = file.keyset().substring(KEYSET_PREFIX.length());
            }
            return of(mailbox, file.keyId(), file.secret());
        } finally {
            file.wipe();
        }
    }

    /** This key together with another key file's keys for the same mailbox (old keys after a rotation). */
    public MailboxKey plus(MailboxKey other) {
        if (!mailbox.equals(other.mailbox)) {
            throw new IllegalArgumentException("keys for two mailboxes: " + mailbox + " and " + other.mailbox);
        }
        Map<String, byte[]> all = new LinkedHashMap<>(primaries);
        other.primaries.forEach((id, k) -> {
            byte[] mine = all.putIfAbsent(id, k);
            if (mine != null && !MessageDigest.isEqual(mine, k)) {
                throw new IllegalArgumentException("two different secrets for key id " + id);
            }
        });
        return new MailboxKey(mailbox, all);
    }

    /** The mailbox address the server binds, in the form r= carries (local part and domain lower case). */
    public String mailbox() {
        return mailbox;
    }

    public List<String> keyIds() {
        return new ArrayList<>(primaries.keySet());
    }

    /** Period keys derived in software from these primaries. */
    public PeriodKeys periodKeys() {
        return StaticPeriodKeys.of(primaries);
    }

    @Override
    public String toString() {
        return "MailboxKey[" + mailbox + ", key ids " + primaries.keySet() + ", secrets hidden]";
    }

    static String normalMailbox(String mailbox) {
        String m = Objects.requireNonNull(mailbox, "mailbox").trim();
        int at = m.lastIndexOf('@');
        if (at <= 0 || at == m.length() - 1) {
            throw new IllegalArgumentException("not a mailbox address (local@domain): " + m);
        }
        return m.toLowerCase(Locale.ROOT);
    }

    private static Map<String, byte[]> checked(Map<String, byte[]> keys) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        keys.forEach((id, k) -> {
            if (k.length < 16 || k.length > 64) {
                throw new IllegalArgumentException("a secret is 16..64 bytes, found " + k.length);
            }
            out.put(id, k.clone());
        });
        StaticPeriodKeys.of(out); // the protocol's own checks on key ids and lengths
        return out;
    }
}
