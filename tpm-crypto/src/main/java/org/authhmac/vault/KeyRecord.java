package org.authhmac.vault;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/** One line of the keyset file: a key's metadata and where its backend keeps it. No key bytes. */
record KeyRecord(String keyId, String keyset, KeyStatus status, Instant created, String backend, String reference) {
    /** A partner keyset name, or {@code user:<mailbox>} for a mailbox user's own key (see {@link MailboxKeys}). */
    static final Pattern KEYSET = Pattern.compile(ConfigSyntax.PARTNER_KEYSET.pattern() + "|" + Pattern.quote(MailboxKeys.KEYSET_PREFIX)
            + "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}");

    KeyRecord {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(keyset, "keyset");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(reference, "reference");
        if (!ConfigSyntax.isKeyId(keyId)) {
            throw new IllegalArgumentException("key id must be " + ConfigSyntax.NAME_RULE + ": " + keyId);
        }
        if (!KEYSET.matcher(keyset).matches()) {
            throw new IllegalArgumentException("keyset name must be " + ConfigSyntax.NAME_RULE + ", or user:<mailbox address>: " + keyset);
        }
    }

    KeyInfo info() {
        return new KeyInfo(keyId, keyset, status, created, backend);
    }

    KeyRecord withStatus(KeyStatus newStatus) {
        return new KeyRecord(keyId, keyset, newStatus, created, backend, reference);
    }
}
