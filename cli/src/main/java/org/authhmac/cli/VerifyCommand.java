package org.authhmac.cli;

import jakarta.mail.internet.MailDateFormat;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.protocol.client.MailboxKey;
import org.authhmac.protocol.client.MailboxVerdict;
import org.authhmac.protocol.client.MailboxVerifier;
import org.authhmac.protocol.client.ServerVerdict;
import org.authhmac.vault.MailboxKeys;
import org.authhmac.vault.ManagedKeyVault;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code auth-hmac verify message.eml}: checks, offline, the signature the server added at delivery for the mailbox,
 * and reads the server's verdict from it (sv=, pd=; never from Authentication-Results or any other field). Exit
 * status: 0 delivered by the user's server and verified from a partner; 3 delivered by the user's server but not
 * verified from a partner (sender not verified, partner check failed, released, a notice of the server); 1 no valid
 * mailbox signature; 75 temperror (try again); 2 unusable input.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Verify a message's mailbox signature offline with the user's key and show the server's verdict it carries; "
                + "exit 0 verified from a partner, 3 delivered by your server but not verified from a partner, 1 no valid mailbox signature, "
                + "75 temperror, 2 bad input.")
final class VerifyCommand implements Callable<Integer> {
    static final int PASS = 0;
    static final int NOT_PASS = 1;
    static final int BAD_INPUT = 2;
    static final int NOT_VERIFIED_FROM_PARTNER = 3;
    static final int TEMPERROR = 75;

    @Mixin
    CommandContext cli;

    @Parameters(index = "0", paramLabel = "MESSAGE", description = "The raw message (.eml; an mbox 'From ' line is skipped).")
    Path message;

    @Option(names = "--key", paramLabel = "FILE", description = "The user's key file; repeat it for older keys after a rotation.")
    List<Path> keys = new ArrayList<>();

    @Option(names = "--user", paramLabel = "ADDRESS",
            description = "Use the server's vault (--config) and this mailbox's keys instead of a key file.")
    String user;

    @Option(names = "--mailbox", paramLabel = "ADDRESS", description = "The mailbox the message was delivered to (default: the key file's).")
    String mailbox;

    @Option(names = "--delivered-at", paramLabel = "INSTANT",
            description = "When the server delivered it (ISO-8601, e.g. 2026-11-22T02:00:00Z); default: the date of the top-most Received field.")
    String deliveredAt;

    @Override
    public Integer call() {
        PrintWriter out = cli.out();
        PrintWriter err = cli.err();
        byte[] bytes;
        Instant delivered;
        try {
            bytes = withoutMboxSeparator(Files.readAllBytes(message));
            delivered = deliveredAt != null ? Instant.parse(deliveredAt.trim())
                    : topReceivedDate(bytes).orElseThrow(() -> new IllegalArgumentException(
                            "the message has no Received field to tell when it was delivered: give --delivered-at"));
        } catch (IOException | IllegalArgumentException | DateTimeParseException e) {
            err.println("auth-hmac: " + e.getMessage());
            return BAD_INPUT;
        }
        MailboxVerdict v;
        String forMailbox;
        try {
            if (user != null) {
                if (!keys.isEmpty()) {
                    throw new IllegalArgumentException("give either --key or --user, not both");
                }
                forMailbox = MailboxKeys.mailbox(user);
                if (mailbox != null && !MailboxKeys.mailbox(mailbox).equals(forMailbox)) {
                    throw new IllegalArgumentException("--mailbox " + mailbox + " is not --user " + user);
                }
                try (ManagedKeyVault vault = cli.openVault()) {
                    // only this mailbox's own keys: another user's or a partner's key must not pass for it
                    v = MailboxVerdict.of(new Verifier(VerifierSettings.defaults(), MailboxKeys.keysOf(vault, forMailbox),
                            new InMemoryReplayCache(16, java.time.Clock.systemUTC()))
                            .verify(new ByteArrayInputStream(bytes), delivered, forMailbox));
                }
            } else {
                MailboxKey key = ClientKeys.load(keys, mailbox);
                forMailbox = key.mailbox();
                v = new MailboxVerifier(key).verify(bytes, delivered);
            }
        } catch (IOException | IllegalArgumentException e) {
            err.println("auth-hmac: " + e.getMessage());
            return BAD_INPUT;
        }
        print(out, v, forMailbox, delivered);
        return exitCode(v);
    }

    static void print(PrintWriter out, MailboxVerdict mv, String mailbox, Instant delivered) {
        Verdict v = mv.signature();
        out.printf("status: %s%n", mv.status().token());
        out.printf("shown: %s%n", mv.shown());
        out.printf("server-verdict: %s%n", mv.serverVerdict().map(ServerVerdict::token).orElse("-"));
        out.printf("partner: %s%n", mv.partnerDomain().orElse("-"));
        out.printf("mailbox-signature: %s%n", v.result().token());
        out.printf("reason: %s%n", v.reason().token());
        Optional<SignatureHeader> h = v.signature();
        out.printf("signed: %s%n", h.map(s -> Instant.ofEpochSecond(s.time()).toString()).orElse("-"));
        out.printf("key-id: %s%n", h.map(SignatureHeader::keyId).orElse("-"));
        out.printf("mailbox: %s%n", mailbox);
        out.printf("delivered: %s%n", delivered);
        out.printf("detail: %s%n", v.detail());
        out.flush();
    }

    static int exitCode(MailboxVerdict v) {
        return switch (v.status()) {
            case PARTNER_VERIFIED -> PASS;
            case SENDER_UNVERIFIED, PARTNER_FAILED, RELEASED, SERVER_NOTICE -> NOT_VERIFIED_FROM_PARTNER;
            case NO_VALID_SIGNATURE -> NOT_PASS;
            case TEMPERROR -> TEMPERROR;
        };
    }

    static byte[] withoutMboxSeparator(byte[] raw) {
        if (raw.length > 5 && raw[0] == 'F' && raw[1] == 'r' && raw[2] == 'o' && raw[3] == 'm' && raw[4] == ' ') {
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == '\n') {
                    return java.util.Arrays.copyOfRange(raw, i + 1, raw.length);
                }
            }
        }
        return raw;
    }

    /**
     * The date of the top-most Received field: the one the user's own server added on acceptance (docs/PROTOCOL.md,
     * "Verification": never a date the sender controls, such as Date:).
     */
    static Optional<Instant> topReceivedDate(byte[] message) {
        String text = new String(message, java.nio.charset.StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length && !lines[i].isEmpty(); i++) {
            if (lines[i].regionMatches(true, 0, "Received:", 0, 9)) {
                StringBuilder field = new StringBuilder(lines[i]);
                for (int j = i + 1; j < lines.length && !lines[j].isEmpty()
                        && (lines[j].charAt(0) == ' ' || lines[j].charAt(0) == '\t'); j++) {
                    field.append(' ').append(lines[j].trim());
                }
                int semi = field.lastIndexOf(";");
                if (semi < 0) {
                    return Optional.empty();
                }
                try {
                    return Optional.of(new MailDateFormat().parse(field.substring(semi + 1).trim()).toInstant());
                } catch (ParseException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }
}
