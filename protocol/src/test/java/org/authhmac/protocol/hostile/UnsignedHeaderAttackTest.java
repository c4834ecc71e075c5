package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.protocol.fuzz.FuzzFixtures.ACCEPTED_AT;
import static org.authhmac.protocol.hostile.HeaderAdditionAndReplayAttackTest.signed;
import static org.authhmac.protocol.hostile.HeaderAdditionAndReplayAttackTest.verify;
import static org.authhmac.protocol.hostile.HeaderAdditionAndReplayAttackTest.withField;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fields that steer replies, receipts or how the message is shown, added after signing. No list of such fields is
 * ever complete, so the rule covers the class: the signer lists every field it sees, and the verifier fails a
 * message with any field outside h= except the few that relays add on the way (trace fields, Authentication-Results,
 * other signatures).
 */
class UnsignedHeaderAttackTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "Mail-Reply-To: mallory@evil.example",
            "Mail-Followup-To: mallory@evil.example",
            "Disposition-Notification-To: mallory@evil.example",
            "Return-Receipt-To: mallory@evil.example",
            "Resent-From: ceo@a.example",
            "Content-Disposition: attachment; filename=invoice.pdf.exe",
            "Content-Base: http://evil.example/",
            "List-Unsubscribe: <http://evil.example/unsubscribe>",
            "Autocrypt: addr=alice@a.example; keydata=bWFsbG9yeQ==",
            "X-Spam-Score: -100"})
    void aFieldAddedAfterSigningAboveOrBelowFails(String field) throws Exception {
        for (boolean top : new boolean[] {true, false}) {
            Verdict v = verify(withField(signed(), field, top), FuzzFixtures.RECIPIENT);

            assertThat(v.result()).as("%s added at the %s: %s", field, top ? "top" : "bottom", v).isEqualTo(AuthResult.FAIL);
            assertThat(v.reason()).isEqualTo(Reason.UNSIGNED_HEADER);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "Received: from mx.a.example by mx.b.example; Sat, 22 Nov 2025 02:00:03 +0000",
            "Return-Path: <alice@a.example>",
            "Delivered-To: bob@b.example",
            "Authentication-Results: mx.b.example; spf=pass smtp.mailfrom=a.example",
            "DKIM-Signature: v=1; a=rsa-sha256; d=a.example; s=sel; h=from; bh=x; b=y",
            "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=relay.example; s=sel; b=x",
            "ARC-Message-Signature: i=1; a=rsa-sha256; d=relay.example; s=sel; h=from; bh=x; b=y",
            "ARC-Authentication-Results: i=1; relay.example; spf=pass",
            "X-Auth-HMAC: v=1; a=hmac-sha256; d=c.example; s=k9; t=1; r=c.example; n=AAAAAAAAAAAAAAAAAAAAAA; h=from; bh=x; b=y",
            "received: from lower.case.example by mx.b.example"})
    void aFieldRelaysAddMayBeAddedAboveOrBelow(String field) throws Exception {
        for (boolean top : new boolean[] {true, false}) {
            Verdict v = verify(withField(signed(), field, top), FuzzFixtures.RECIPIENT);

            assertThat(v.result()).as("%s added at the %s: %s", field, top ? "top" : "bottom", v).isEqualTo(AuthResult.PASS);
        }
    }

    @Test
    void aSecondInstanceOfASignedFieldThatIsNotOversignedFails() throws Exception {
        String message = HeaderAdditionAndReplayAttackTest.MESSAGE.replace("MIME-Version", "X-Priority: 3\r\nMIME-Version");
        String mail = new Signer(SignerSettings.defaults()).sign(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)),
                List.of(FuzzFixtures.request()), FuzzFixtures.keys()).get(0) + "\r\n" + message;

        Verdict v = verify(withField(mail, "X-Priority: 1 (Highest)", true), FuzzFixtures.RECIPIENT);

        assertThat(v.reason()).as("%s", v).isEqualTo(Reason.UNSIGNED_HEADER);
    }

    /** Above the signature field, where relays put trace fields, the copy is the first field of the message. */
    @Test
    void aSecondInstanceOfASignedFieldAddedAboveTheSignatureFieldFails() throws Exception {
        String message = HeaderAdditionAndReplayAttackTest.MESSAGE.replace("MIME-Version", "X-Priority: 3\r\nMIME-Version");
        String mail = new Signer(SignerSettings.defaults()).sign(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)),
                List.of(FuzzFixtures.request()), FuzzFixtures.keys()).get(0) + "\r\n" + message;

        Verdict v = verify("X-Priority: 1 (Highest)\r\n" + mail, FuzzFixtures.RECIPIENT);

        assertThat(v.result()).as("%s", v).isEqualTo(AuthResult.FAIL);
        assertThat(v.reason()).isEqualTo(Reason.UNSIGNED_HEADER);
    }

    @Test
    void aFieldPresentWhenSignedIsCoveredSoChangingItIsABadMac() throws Exception {
        String message = HeaderAdditionAndReplayAttackTest.MESSAGE.replace("MIME-Version", "List-Unsubscribe: <mailto:leave@a.example>\r\nMIME-Version");
        String mail = new Signer(SignerSettings.defaults()).sign(new ByteArrayInputStream(message.getBytes(StandardCharsets.ISO_8859_1)),
                List.of(FuzzFixtures.request()), FuzzFixtures.keys()).get(0) + "\r\n" + message;

        Verdict v = FuzzFixtures.verifier().verify(new ByteArrayInputStream(mail.replace("mailto:leave@a.example", "http://evil.example/")
                .getBytes(StandardCharsets.ISO_8859_1)), ACCEPTED_AT, FuzzFixtures.RECIPIENT);

        assertThat(v.result()).isEqualTo(AuthResult.FAIL);
        assertThat(v.reason()).isEqualTo(Reason.BAD_MAC);
    }
}
