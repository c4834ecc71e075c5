package org.authhmac.cli;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;

/** Mailbox keys and messages as the server's SignForMailbox makes them, for the client-side tests. */
final class ClientFixtures {
    static final byte[] ALICE_SECRET = "alice's 32-byte mailbox secret!!".getBytes(StandardCharsets.US_ASCII);
    static final byte[] BOB_SECRET = "bob's 32-byte mailbox secret....".getBytes(StandardCharsets.US_ASCII);

    private ClientFixtures() {
    }

    static Path keyFile(Path dir, String mailbox, String keyId, byte[] secret) throws Exception {
        Path f = dir.resolve(keyId + ".key");
        Files.writeString(f, "version=1\nkey-id=" + keyId + "\nkeyset=user:" + mailbox + "\nmailbox=" + mailbox
                + "\ncreated=2026-11-22T02:00:00Z\nsecret=" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret) + "\n");
        return f;
    }

    /** Date: is the delivery time too, because an IMAP client APPENDing a message sends its Date as INTERNALDATE. */
    static String unsigned(String to, String subject, Instant receivedAt) {
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.withLocale(Locale.ROOT).format(receivedAt.atOffset(ZoneOffset.UTC));
        return "Received: from mx.a.example by mx.b.example with ESMTP; " + date + "\r\n"
                + "From: carol@a.example\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n"
                + "Date: " + date + "\r\nMessage-ID: <" + UUID.randomUUID() + "@a.example>\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=US-ASCII\r\n\r\nHello " + subject + ".\r\n";
    }

    /** A mailbox signature without the server's verdict (sv=), as servers made them before they wrote it. */
    static String signedFor(String mailbox, String keyId, byte[] secret, String subject, Instant at) throws Exception {
        return signedFor(new SignRequest(keyId, "b.example", mailbox, at), secret, unsigned(mailbox, subject, at));
    }

    /**
     * What SignForMailbox stores: the per-recipient header added to the delivered message, with the server's verdict
     * {@code sv} (and {@code pd} for pass, else null).
     */
    static String delivered(String mailbox, String keyId, byte[] secret, String subject, Instant at, String sv, String pd)
            throws Exception {
        return signedFor(new SignRequest(keyId, "b.example", mailbox, at).withServerVerdict(sv, pd), secret,
                unsigned(mailbox, subject, at));
    }

    static String signedFor(SignRequest request, byte[] secret, String message) throws Exception {
        List<String> lines = new Signer(SignerSettings.defaults()).sign(new ByteArrayInputStream(message.getBytes(StandardCharsets.US_ASCII)),
                List.of(request), StaticPeriodKeys.of(request.keyId(), secret));
        int end = message.indexOf("\r\n\r\n");
        return message.substring(0, end) + "\r\n" + lines.get(0) + message.substring(end);
    }
}
