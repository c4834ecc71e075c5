package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review: today's Kelvin-sign fix made Recipients.binding lower-case A-Z only, but ReplayIds.of still uses
 * String.toLowerCase(Locale.ROOT), which turns U+212A KELVIN SIGN into an ASCII 'k'. Two different envelope mailboxes
 * (SMTPUTF8 "\u212Aob" and "kob") then share one replay id, so for a domain-bound signature the second is counted as a
 * retry of the first, not as a new recipient under rc=.
 */
class KelvinSignReplayIdAttackTest {
    @Test
    void aKelvinSignMailboxDoesNotShareTheReplayIdOfTheAsciiMailbox() {
        assertThat(ReplayIds.of("\u212Aob@b.example", "")).isNotEqualTo(ReplayIds.of("kob@b.example", ""));
    }
}
