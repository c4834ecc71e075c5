package org.authhmac.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.authhmac.protocol.client.MailboxKey;

/** Reads the user's key files (the newest first, older ones after a rotation) into one {@link MailboxKey}. */
final class ClientKeys {
    private ClientKeys() {
    }

    static MailboxKey load(List<Path> files, String mailboxOverride) throws IOException {
        MailboxKey all = null;
        for (Path f : files) {
            MailboxKey k;
            try {
                k = MailboxKey.parse(Files.readString(f, StandardCharsets.US_ASCII));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(f + ": " + e.getMessage());
            }
            all = all == null ? k : all.plus(k);
        }
        if (all == null) {
            throw new IllegalArgumentException("give the user's key file with --key");
        }
        if (mailboxOverride != null && !mailboxOverride.trim().equalsIgnoreCase(all.mailbox())) {
            throw new IllegalArgumentException("--mailbox " + mailboxOverride + " is not the mailbox of the key file (" + all.mailbox() + ")");
        }
        return all;
    }
}
