package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.authhmac.protocol.Fixtures.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class SignerTest {
    private final Signer signer = new Signer(SignerSettings.defaults());

    @Test
    void producesOneCompleteHeaderLinePerRequestWithTagsInSigningOrder() throws Exception {
        List<String> lines = signer.sign(stream(MESSAGE), List.of(request()), keys());

        assertThat(lines).singleElement().satisfies(line -> {
            assertThat(line).startsWith("X-Auth-HMAC: v=1; a=hmac-sha256; d=a.example; s=k1; t=1763776800; p=900;"
                    + " c=relaxed/relaxed; r=b.example; rc=1; n=Vb3kq9x0TtyZ2mQ8pL1aUw; h=");
            assertThat(line).doesNotContain("\r", "\n");
            assertThat(line).matches(".*; bh=[A-Za-z0-9+/]{43}=; b=[A-Za-z0-9+/]{43}=$");
        });
    }

    @Test
    void oversignsTheReaderVisibleAndMimeHeadersEvenWhenAbsent() throws Exception {
        String line = signer.sign(stream(MESSAGE), List.of(request()), keys()).get(0);

        SignatureHeader h = SignatureHeader.parse(line.substring(line.indexOf(':') + 1));

        // Each name once more than it occurs: an instance added later, even of an absent field, breaks the MAC.
        assertThat(h.signedHeaders()).containsExactly(
                "from", "from", "to", "to", "cc", "subject", "subject", "date", "date",
                "message-id", "message-id", "reply-to", "sender", "in-reply-to", "references",
                "mime-version", "mime-version", "content-type", "content-type", "content-transfer-encoding");
    }

    @Test
    void writesTheRecipientCountOfTheRequest() throws Exception {
        String line = signer.sign(stream(MESSAGE), List.of(request().withRecipientCount(3)), keys()).get(0);

        assertThat(line).contains("; r=b.example; rc=3; n=");
        assertThat(SignatureHeader.parse(line.substring(line.indexOf(':') + 1)).recipientCount()).isEqualTo(3);
    }

    @Test
    void writesTheServersVerdictIntoAMailboxBoundSignatureAfterTheRecipientCount() throws Exception {
        SignRequest forBob = new SignRequest(KEY_ID, SIGNING_DOMAIN, "Bob@B.example", SIGNED_AT).withFixedNonce(NONCE);

        String pass = signer.sign(stream(MESSAGE), List.of(forBob.withServerVerdict("pass", "A.Example")), keys()).get(0);
        String released = signer.sign(stream(MESSAGE), List.of(forBob.withServerVerdict("released", null)), keys()).get(0);

        assertThat(pass).contains("; r=bob@b.example; rc=1; sv=pass; pd=a.example; n=");
        assertThat(released).contains("; r=bob@b.example; rc=1; sv=released; n=").doesNotContain("pd=");
        assertThat(SignatureHeader.parse(pass.substring(pass.indexOf(':') + 1)).partnerDomain()).isEqualTo("a.example");
    }

    @Test
    void refusesAServerVerdictForADomainBindingOrWithoutItsPartnerDomainRule() {
        assertThatThrownBy(() -> signer.sign(stream(MESSAGE), List.of(request().withServerVerdict("none", null)), keys()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mailbox-bound");
        assertThatThrownBy(() -> request().withServerVerdict("pass", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> request().withServerVerdict("none", "a.example")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> request().withServerVerdict("quarantined", null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesARecipientCountOutsideOneToTenThousand() {
        assertThatThrownBy(() -> request().withRecipientCount(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> request().withRecipientCount(10_001)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void listsEveryPresentFieldOutsideTheIgnoreListAsOftenAsItOccurs() throws Exception {
        String message = "Received: from x by y\r\nX-Mailer: m1\r\nDKIM-Signature: v=1\r\n" + MESSAGE
                .replace("MIME-Version", "X-Priority: 3\r\nx-mailer: m2\r\nList-Unsubscribe: <mailto:u@a.example>\r\nMIME-Version");

        String line = signer.sign(stream(message), List.of(request()), keys()).get(0);

        SignatureHeader h = SignatureHeader.parse(line.substring(line.indexOf(':') + 1));
        assertThat(h.signedHeaders()).containsSubsequence("content-transfer-encoding", "x-mailer", "x-mailer", "x-priority",
                "list-unsubscribe");
        assertThat(h.signedHeaders()).filteredOn("x-mailer"::equals).hasSize(2);
        assertThat(h.signedHeaders()).doesNotContain("received", "dkim-signature", "x-auth-hmac");
    }

    @Test
    void refusesToSignForADomainTheFromFieldDoesNotName() {
        String foreign = MESSAGE.replace("From: Alice <alice@a.example>", "From: \"CEO\" <ceo@b.example>");

        assertThatThrownBy(() -> signer.sign(stream(foreign), List.of(request()), keys()))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining("b.example").hasMessageContaining("d=a.example");
    }

    @Test
    void refusesAFromFieldTheStrictReadingDoesNotAccept() {
        String group = MESSAGE.replace("From: Alice <alice@a.example>", "From: Board: ceo@a.example;");

        assertThatThrownBy(() -> signer.sign(stream(group), List.of(request()), keys()))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining("From");
    }

    @Test
    void signsAMailboxBindingWhateverTheAuthorDomain() throws Exception {
        String foreign = MESSAGE.replace("From: Alice <alice@a.example>", "From: Carol <carol@c.example>");
        SignRequest forMailbox = new SignRequest(KEY_ID, "b.example", "bob@b.example", SIGNED_AT).withFixedNonce(NONCE);

        assertThat(signer.sign(stream(foreign), List.of(forMailbox), keys())).hasSize(1);
    }

    @Test
    void refusesAMessageThatWouldNeedMoreSignedNamesThanTheBound() {
        String many = "X-Tag: t\r\n".repeat(SignatureHeader.MAX_SIGNED_HEADERS) + MESSAGE;

        assertThatThrownBy(() -> signer.sign(stream(many), List.of(request()), keys()))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining(String.valueOf(SignatureHeader.MAX_SIGNED_HEADERS));
    }

    @Test
    void refusesAMessageWhoseHeaderBlockTheSignatureWouldPushOverTheVerifiersBound() throws Exception {
        // given a header block 100 octets under the bound: room for the message, not for our field too
        int bound = SignerSettings.DEFAULT_MAX_HEADER_BYTES;
        int room = bound - 100 - (MESSAGE.indexOf("\r\n\r\n") + 4);
        StringBuilder top = new StringBuilder();
        while (room - top.length() > 2000) {
            top.append("Received: ").append("x".repeat(990)).append("\r\n");
        }
        int last = room - top.length() - "Received: \r\n".length();
        top.append("Received: ").append("x".repeat(last)).append("\r\n");
        String message = top + MESSAGE;
        assertThat(message.indexOf("\r\n\r\n") + 4).isEqualTo(bound - 100);

        // when / then: refused, where signing it would make a mail every verifier calls malformed
        assertThatThrownBy(() -> signer.sign(stream(message), List.of(request()), keys()))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining(String.valueOf(bound));
    }

    @Test
    void refusesToMakeASignatureFieldLargerThanTheBound() {
        StringBuilder fields = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            fields.append("X-Long-Field-Name-Number-").append(i).append("-abcdefghijklmnopqrstuvwxyz: v\r\n");
        }

        assertThatThrownBy(() -> signer.sign(stream(fields + MESSAGE), List.of(request()), keys()))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining(String.valueOf(SignatureHeader.MAX_FIELD_OCTETS));
    }

    @Test
    void refusesAFieldWhoseNameCannotBeWrittenInH() {
        String semicolon = "X-A;B: v\r\n" + MESSAGE;

        assertThatThrownBy(() -> signer.sign(stream(semicolon), List.of(request()), keys()))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining("x-a;b");
    }

    @Test
    void isDeterministicForAFixedNonceAndTime() throws Exception {
        String first = signer.sign(stream(MESSAGE), List.of(request()), keys()).get(0);
        String second = signer.sign(stream(MESSAGE), List.of(request()), keys()).get(0);

        assertThat(second).isEqualTo(first);
    }

    @Test
    void drawsA128BitNonceWhenNoneIsFixed() throws Exception {
        SignRequest random = new SignRequest(KEY_ID, SIGNING_DOMAIN, "b.example", SIGNED_AT);

        List<String> lines = signer.sign(stream(MESSAGE), List.of(random, random), keys());

        List<String> nonces = lines.stream().map(l -> l.replaceAll(".*; n=([^;]*);.*", "$1")).toList();
        assertThat(nonces).allMatch(n -> n.matches("[A-Za-z0-9_-]{22}")).doesNotHaveDuplicates();
    }

    @Test
    void writesDomainsAndRecipientsInLowerCaseWithIdnAsALabels() throws Exception {
        SignRequest r = new SignRequest(KEY_ID, "A.Example", "Bob@B\u00fccher.Example", SIGNED_AT).withFixedNonce(NONCE);

        String line = signer.sign(stream(MESSAGE), List.of(r), keys()).get(0);

        assertThat(line).contains("; d=a.example;", "; r=bob@xn--bcher-kva.example;");
    }

    @Test
    void bindsAMailboxWithItsAsciiLettersLowerCasedButRefusesANonAsciiLocalPart() throws Exception {
        SignRequest ascii = new SignRequest(KEY_ID, SIGNING_DOMAIN, "AZaz09@b.example", SIGNED_AT).withFixedNonce(NONCE);
        // KELVIN SIGN (U+212A): String.toLowerCase makes it an ASCII 'k', which would bind kob@b.example
        SignRequest kelvin = new SignRequest(KEY_ID, SIGNING_DOMAIN, "\u212Aob@b.example", SIGNED_AT).withFixedNonce(NONCE);

        assertThat(signer.sign(stream(MESSAGE), List.of(ascii), keys()).get(0)).contains("; r=azaz09@b.example;");
        assertThatThrownBy(() -> signer.sign(stream(MESSAGE), List.of(kelvin), keys()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be bound");
    }

    @Test
    void refusesAMessageWithoutFrom() {
        String noFrom = MESSAGE.replace("From: Alice <alice@a.example>\r\n", "");

        assertThatThrownBy(() -> signer.sign(stream(noFrom), List.of(request()), keys()))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining("0 From");
    }

    @Test
    void refusesAMessageThatVerifiersWouldRejectAsDuplicateHeader() {
        String twoSubjects = MESSAGE.replace("Subject: Quarterly figures\r\n", "Subject: a\r\nSubject: b\r\n");

        assertThatThrownBy(() -> signer.sign(stream(twoSubjects), List.of(request()), keys()))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining("subject");
    }

    @Test
    void refusesAHeaderBlockLargerThanTheBound() {
        Signer small = new Signer(SignerSettings.defaults().withMaxHeaderBytes(1024));
        String big = "X-Filler: " + "x".repeat(2000) + "\r\n" + MESSAGE;

        assertThatThrownBy(() -> small.sign(stream(big), List.of(request()), keys()))
                .isInstanceOf(MalformedMessageException.class).hasMessageContaining("1024");
    }

    @Test
    void passesUnknownKeyFromTheKeySource() {
        SignRequest r = new SignRequest("nope", SIGNING_DOMAIN, "b.example", SIGNED_AT);

        assertThatThrownBy(() -> signer.sign(stream(MESSAGE), List.of(r), keys())).isInstanceOf(UnknownKeyException.class);
    }

    @Test
    void rejectsSettingsThatWouldNotSignFrom() {
        assertThatThrownBy(() -> SignerSettings.defaults().withSignedHeaders(List.of("subject"), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("from");
    }

    @Test
    void usesAConfiguredHeaderName() throws Exception {
        Signer custom = new Signer(SignerSettings.defaults().withHeaderName("X-Partner-MAC"));

        assertThat(custom.sign(stream(MESSAGE), List.of(request()), keys()).get(0)).startsWith("X-Partner-MAC: v=1;");
    }
}
