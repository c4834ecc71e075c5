package org.authhmac.testing.james;

import org.authhmac.testing.FreePorts;

/**
 * The loopback ports one James server listens on. {@code smtp} is the server-to-server port (25 in production),
 * {@code submission} the authenticated port users send through (587).
 */
public record JamesPorts(int smtp, int submission, int imap, int webAdmin) {
    public static JamesPorts allocate() {
        return new JamesPorts(FreePorts.next(), FreePorts.next(), FreePorts.next(), FreePorts.next());
    }
}
