package org.authhmac.protocol;

/** What counts as "the same signature again" for the replay check (docs/PROTOCOL.md, "Replay cache"). */
public enum ReplayScope {
    /**
     * (d, s, n, envelope recipient): a second delivery of a signature to the same recipient is a replay, while
     * a retry that delivers the rest of a partly delivered message is not. The default.
     */
    RECIPIENT,
    /** (d, s, n): any second sighting is a replay, even for another recipient of the same domain. */
    SIGNATURE
}
