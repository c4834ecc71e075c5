package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.MalformedMessageException;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Test;

/**
 * A field hidden behind a bare CR. jakarta.mail and Python's email parser end a header line at a lone CR, so
 * {@code X-Note: x<CR>From: Mallory <ceo@a.example>} shows the reader a From field of Mallory's, while a verifier
 * that reads lines only at LF sees one unsigned X-Note field, added in transit, which the MAC does not cover. Clients
 * that verify raw bytes (MailboxVerifier, {@code auth-hmac verify}, imap-guard) and then hand them to such a parser
 * would show a verified message from Mallory.
 */
class BareCrSmugglingAttackTest {
    static final String MESSAGE = String.join("\r\n",
            "From: Alice <alice@a.example>",
            "To: Bob <bob@b.example>",
            "Subject: Pay invoice 17",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <inv17@a.example>",
            "",
            "Please pay 100 EUR to account 1234.",
            "");

    static String signed() throws Exception {
        return new String(FuzzFixtures.signed(FuzzFixtures.signer(Canonicalization.RELAXED, Canonicalization.RELAXED),
                MESSAGE.getBytes(StandardCharsets.ISO_8859_1)), StandardCharsets.ISO_8859_1);
    }

    @Test
    void aFromFieldHiddenBehindABareCrInAnAddedFieldMakesTheMessageMalformed() throws Exception {
        // given: a signed message, and a field added in transit that carries a second From behind a bare CR
        String forged = signed().replace("Subject: Pay", "X-Note: x\rFrom: Mallory <ceo@a.example>\r\nSubject: Pay");

        // when
        Verdict v = FuzzFixtures.verify(forged.getBytes(StandardCharsets.ISO_8859_1));

        // then
        assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
        assertThat(v.reason()).isEqualTo(Reason.MALFORMED);
        assertThat(v.detail()).contains("bare CR");
    }

    @Test
    void theSignerRefusesAMessageWithABareCrInItsHeaderBlock() {
        String message = MESSAGE.replace("Subject: Pay invoice 17", "Subject: Pay invoice 17\rFrom: Mallory <ceo@a.example>");

        assertThatThrownBy(() -> FuzzFixtures.signer(Canonicalization.RELAXED, Canonicalization.RELAXED)
                .sign(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)), List.of(FuzzFixtures.request()),
                        FuzzFixtures.keys()))
                .isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("bare CR");
    }
}
