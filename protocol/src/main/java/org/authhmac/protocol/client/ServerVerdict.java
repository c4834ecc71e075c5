package org.authhmac.protocol.client;

import org.authhmac.protocol.WireToken;

/**
 * The delivering server's verdict on a message, as its mailbox signature carries it in sv= (docs/PROTOCOL.md 10.1):
 * what the user's own server decided about the message for this mailbox before it stored it there. Covered by the
 * MAC like every tag, so nothing added to the message on the way (an Authentication-Results field, a status header)
 * can change it.
 */
public enum ServerVerdict implements WireToken {
    /** The server verified a partner's signature for this mailbox; pd= names the partner domain. */
    PASS,
    /** The server verified no sender: the mail claimed no partner domain, or it did and its result was none. */
    NONE,
    /** The partner check failed for this mailbox and the server delivered the mail anyway, marked. */
    FAIL,
    /** The partner check ended in permerror (unreadable signature, unknown key) and the server delivered it, marked. */
    PERMERROR,
    /** The server held the mail (quarantine or hold) and an administrator sent it on. Not verified. */
    RELEASED,
    /** The server wrote this message itself: a notice about mail it held. */
    NOTICE;

    /** The verdict for an sv= value; the tokens are lower case and compared exactly. */
    public static ServerVerdict fromToken(String token) {
        return WireToken.of(values(), token, false, () -> "not a server verdict (sv=): " + token);
    }
}
