package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.protocol.fuzz.FuzzFixtures.ACCEPTED_AT;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.UncheckedSigning;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A user of the signing server a.example writes a From field of their choice; the server signs with d=a.example.
 * The receiver must not report pass for an author the signing domain does not answer for. The signatures here come
 * from {@link UncheckedSigning} (a signer that does not check the author, as a careless or older partner would), so
 * the verifier alone has to refuse them; the real Signer refuses to make them (SignerTest).
 */
class FromAlignmentAttackTest {
    static final String MESSAGE = String.join("\r\n",
            "From: %s",
            "To: Bob <bob@b.example>",
            "Subject: Pay invoice 17",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <inv17@a.example>",
            "",
            "Please pay 100 EUR to account 1234.",
            "");

    /** The message with this From value (written as UTF-8), signed for d=domain, r=b.example. */
    static String signedFrom(String fromValue, String domain) throws Exception {
        String utf8AsLatin1 = new String(MESSAGE.formatted(fromValue).getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        SignRequest request = new SignRequest(FuzzFixtures.KEY_ID, domain, "b.example", FuzzFixtures.SIGNED_AT)
                .withFixedNonce(FuzzFixtures.NONCE);
        return UncheckedSigning.signed(utf8AsLatin1, request, FuzzFixtures.keys());
    }

    static Verdict verify(String message) {
        return FuzzFixtures.verifier().verify(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)),
                ACCEPTED_AT, FuzzFixtures.RECIPIENT);
    }

    @ParameterizedTest(name = "From: {0}")
    @ValueSource(strings = {
            "\"CEO\" <ceo@b.example>",
            "CEO <ceo@b.example>",
            "\"ceo@a.example\" <x@evil.example>",
            "ceo@a.example <x@evil.example>",
            "Board:ceo@a.example;",
            "Board: ceo@a.example, cfo@a.example;",
            "ceo@a.example, ceo@b.example",
            "ceo@b.example, ceo@a.example",
            "ceo@a.example,",
            "<ceo@b.example (a.example)>",
            "ceo@b.example(@a.example)",
            "ceo@a(comment).example",
            "ceo@a.(comment)example",
            "<@a.example:ceo@b.example>",
            "=?utf-8?q?ceo=40a.example?= <x@evil.example>",
            "=?utf-8?b?Y2VvQGEuZXhhbXBsZQ==?= <x@evil.example>",
            "=?utf-8?b?Y2VvQGEuZXhhbXBsZQ==?=",
            "ceo@a\u3002example",
            "ceo@a\uff0eexample",
            "ceo@a\uff61example",
            "CEO <CEO@B.EXAMPLE>",
            "ceo@[192.0.2.1]",
            "ceo@mail.a.example",
            "ceo@a.example.",
            "\"Alice <alice@a.example>",
            "Alice (work <alice@a.example>",
            "Alice (work)) <alice@a.example>",
            "Alice\u0000 <alice@a.example>",
            "Alice\u007f <alice@a.example>",
            "Alice\u0085 <alice@a.example>",
            "alice@a.example\u000b",
            "Undisclosed",
            "",
            "<>",
            "alice@",
            "@a.example"})
    void aFromFieldThatDoesNotNameExactlyOneMailboxInTheSigningDomainFails(String from) throws Exception {
        Verdict v = verify(signedFrom(from, "a.example"));

        assertThat(v.result()).as("From: %s -> %s", from, v).isEqualTo(AuthResult.FAIL);
        assertThat(v.reason()).isEqualTo(Reason.FROM_MISMATCH);
    }

    /** IDNA2003 maps "ß" to "ss", IDNA2008 keeps it: two readers would name two different domains. */
    @Test
    void aUnicodeDomainThatIdnaWouldRewriteFails() throws Exception {
        Verdict v = verify(signedFrom("ceo@stra\u00dfe.example", "strasse.example"));

        assertThat(v.reason()).as("%s", v).isEqualTo(Reason.FROM_MISMATCH);
    }

    @ParameterizedTest(name = "From: {0}")
    @ValueSource(strings = {
            "Alice <alice@a.example>",
            "alice@a.example",
            "ALICE <ALICE@A.EXAMPLE>",
            "\"Example, Alice\" <alice@a.example>",
            "\"Alice \\\"the boss\\\"\" <alice@a.example>",
            "Alice (work (desk)) <alice@a.example> (sent by A)",
            "Alice\r\n\t<alice@a.example>",
            " <alice@a.example>",
            "<alice@a.example>",
            "J. Smith <j@a.example>",
            "=?utf-8?q?J=C3=BCrgen?= <j@a.example>",
            "J\u00fcrgen M\u00fcller <j@a.example>",
            "\"al ice\"@a.example",
            "alice (Alice) @ (the) a.example (company)"})
    void aSingleMailboxInTheSigningDomainPasses(String from) throws Exception {
        Verdict v = verify(signedFrom(from, "a.example"));

        assertThat(v.result()).as("From: %s -> %s", from, v).isEqualTo(AuthResult.PASS);
    }

    @ParameterizedTest(name = "From: {0}")
    @ValueSource(strings = {"ceo@b\u00fccher.example", "ceo@xn--bcher-kva.example", "ceo@B\u00dcCHER.example"})
    void anInternationalizedAuthorDomainIsComparedAsALabels(String from) throws Exception {
        Verdict v = verify(signedFrom(from, "b\u00fccher.example"));

        assertThat(v.result()).as("From: %s -> %s", from, v).isEqualTo(AuthResult.PASS);
    }

    /** The receiving server signs for its own user's mailbox: the author is anyone who wrote to that user. */
    @Test
    void aMailboxBoundSignatureIsExemptFromAlignment() throws Exception {
        String utf8 = MESSAGE.formatted("Carol <carol@c.example>");
        String signed = UncheckedSigning.signed(utf8, new SignRequest(FuzzFixtures.KEY_ID, "b.example", "bob@b.example",
                FuzzFixtures.SIGNED_AT).withFixedNonce(FuzzFixtures.NONCE), FuzzFixtures.keys());

        assertThat(verify(signed).result()).isEqualTo(AuthResult.PASS);
    }
}
