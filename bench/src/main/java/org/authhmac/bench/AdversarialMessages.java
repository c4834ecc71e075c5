package org.authhmac.bench;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;

/**
 * Messages shaped to make a verifier work hard per byte (docs/PERFORMANCE.md, "Adversarial inputs"), each with a
 * benign MIME message of the same size to compare with, and the reason the verifier must give. The same bytes on
 * every run.
 */
public final class AdversarialMessages {
    /** Every shape, as the JMH parameter values of {@link AdversarialBenchmark}. */
    public static final List<String> SHAPES = List.of(
            "tags-at-bound", "tags-beyond-bound", "long-h", "tiny-fields-unknown-key", "tiny-fields-known-key",
            "repeated-signatures", "folded-signature", "folded-subject", "header-wsp-runs", "body-wsp-runs", "empty-lines",
            "bare-cr-body");

    static final String KEY_ID = "k1";
    static final byte[] PRIMARY = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    static final String NONCE = "Vb3kq9x0TtyZ2mQ8pL1aUw";
    static final int MIB = 1024 * 1024;
    /** Room left under the 1 MiB header-block bound for the fields a shape adds. */
    static final int HEADER_ROOM = MIB - 16 * 1024;

    /** One shape: the message, a benign message of the same size, and the verdict reason both must get. */
    public record Shape(String name, byte[] adversarial, Reason expected, byte[] benign) {
    }

    private AdversarialMessages() {
    }

    static PeriodKeys keys() {
        return StaticPeriodKeys.of(KEY_ID, PRIMARY);
    }

    /**
     * A verifier with default policy whose replay cache forgets every entry by the next call (its clock stands after
     * the signatures' maximum age), so that a message that passes passes every time.
     */
    static Verifier verifier() {
        return new Verifier(VerifierSettings.defaults(), keys(), new InMemoryReplayCache(100_000, Duration.ZERO,
                Clock.fixed(Fixtures.SIGNED_AT.plus(Duration.ofHours(2)), ZoneOffset.UTC)));
    }

    static SignRequest request() {
        return new SignRequest(KEY_ID, "a.example", "b.example", Fixtures.SIGNED_AT).withFixedNonce(NONCE);
    }

    /** The message with the signature fields the signer makes for it on top. */
    static byte[] signed(Signer signer, byte[] message) {
        try {
            return Messages.prepend(signer.sign(new ByteArrayInputStream(message), List.of(request()), keys()), message);
        } catch (Exception e) {
            throw new IllegalStateException("cannot sign the benchmark message", e);
        }
    }

    static byte[] signed(byte[] message) {
        return signed(new Signer(SignerSettings.defaults()), message);
    }

    static String signatureLine(byte[] signedMessage) {
        String s = latin1(signedMessage);
        return s.substring(0, s.indexOf("\r\n"));
    }

    public static Shape shape(String name) {
        byte[] adversarial = adversarial(name);
        Reason expected = switch (name) {
            case "tags-at-bound", "folded-signature", "tiny-fields-known-key" -> Reason.BAD_MAC;
            case "tags-beyond-bound" -> Reason.MALFORMED;
            case "tiny-fields-unknown-key" -> Reason.UNKNOWN_KEY;
            default -> Reason.VERIFIED;
        };
        return new Shape(name, adversarial, expected, signed(Messages.mime(adversarial.length)));
    }

    private static byte[] adversarial(String name) {
        // A small benign MIME message (about 1 KB) is the core each header shape is built around.
        byte[] core = Messages.mime(1024);
        return switch (name) {
            case "tags-at-bound" -> tagsAtBound(core);
            case "tags-beyond-bound" -> tagsBeyondBound(core);
            case "long-h" -> longH(core);
            case "repeated-signatures" -> repeatedSignatures(core);
            case "tiny-fields-unknown-key" -> tinyFields(core, false);
            case "tiny-fields-known-key" -> tinyFields(core, true);
            case "folded-signature" -> foldedSignature();
            case "folded-subject" -> foldedSubject();
            case "header-wsp-runs" -> headerWspRuns(core);
            case "body-wsp-runs" -> body(line -> line.append("word").append(" \t".repeat(30)).append("word  \t\r\n")
                    .append("   \t\t  ".repeat(8)).append("\r\n"));
            case "empty-lines" -> body(line -> line.append("x\r\n").append("\r\n".repeat(2000)));
            case "bare-cr-body" -> body(line -> line.append("a\rb\r c\r\r".repeat(100)).append("\r\n"));
            default -> throw new IllegalArgumentException("unknown shape " + name);
        };
    }

    /** A signature field of exactly 8192 octets holding 32 tag-specs: the signer's own, then unknown ones. */
    private static byte[] tagsAtBound(byte[] core) {
        String line = signatureLine(signed(core));
        int cut = line.indexOf("; b=");
        int unknown = SignatureHeader.MAX_TAGS - (int) line.chars().filter(c -> c == ';').count() - 1;
        int room = SignatureHeader.MAX_FIELD_OCTETS - line.length();
        StringBuilder extra = new StringBuilder();
        for (int i = 0; i < unknown; i++) {
            extra.append("; x").append((char) ('a' + i)).append('=');
            int value = (room - unknown * 5) / unknown + (i < (room - unknown * 5) % unknown ? 1 : 0);
            extra.append("v".repeat(value));
        }
        String field = line.substring(0, cut) + extra + line.substring(cut);
        if (field.length() != SignatureHeader.MAX_FIELD_OCTETS) {
            throw new IllegalStateException("field of " + field.length() + " octets");
        }
        return concat(field + "\r\n", core);
    }

    /** A forged field just under the header-block bound, folded into short lines, of distinct unknown tags. */
    private static byte[] tagsBeyondBound(byte[] core) {
        StringBuilder sig = new StringBuilder("X-Auth-HMAC: v=1");
        int lineStart = 0;
        for (int i = 0; sig.length() < HEADER_ROOM; i++) {
            sig.append(';').append('x').append(Integer.toString(i, 36)).append('=');
            if (sig.length() - lineStart > 70) {
                sig.append("\r\n ");
                lineStart = sig.length();
            }
        }
        return concat(sig + "\r\n", core);
    }

    /** A message that passes, with 1,000 more fields, each signed: h= names 1,021 fields. */
    private static byte[] longH(byte[] core) {
        StringBuilder fields = new StringBuilder();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            names.add("x-" + i);
            fields.append("X-").append(i).append(": value ").append(i).append("\r\n");
        }
        byte[] message = concat(fields.toString(), core);
        Signer signer = new Signer(SignerSettings.defaults().withSignedHeaders(SignerSettings.DEFAULT_OVERSIGNED, names));
        return signed(signer, message);
    }

    /**
     * Large signed fields (100 of about 9 KB, up to the header-block bound) under five signature fields with the known
     * key id that all sign them: the top four carry a wrong b= (bad-mac), the fifth is the signer's and passes. Each of
     * the five is evaluated (the default number), so each canonicalizes and MACs what its own h= picks.
     */
    private static byte[] repeatedSignatures(byte[] core) {
        StringBuilder fields = new StringBuilder();
        List<String> names = new ArrayList<>();
        String words = "lorem ipsum dolor sit amet, consectetur adipiscing elit ".repeat(160);
        for (int i = 0; fields.length() < HEADER_ROOM - 120 * 1024; i++) {
            names.add("x-big-" + i);
            fields.append("X-Big-").append(i).append(": ").append(words).append(i).append("\r\n");
        }
        byte[] message = concat(fields.toString(), core);
        Signer signer = new Signer(SignerSettings.defaults().withSignedHeaders(SignerSettings.DEFAULT_OVERSIGNED, names));
        byte[] signed = signed(signer, message);
        String line = signatureLine(signed);
        int b = line.lastIndexOf("b=") + 2;
        String forged = line.substring(0, b) + "A".repeat(43) + "=" + "\r\n";
        return concat(forged.repeat(VerifierSettings.defaults().maxHeaders() - 1), signed);
    }

    /**
     * A header block of tiny trace fields (which h= need not cover) up to the bound under five forged signature
     * headers: with an unknown key id (no field selection), or with a known key id, a fresh t and an h= that covers
     * the message's own fields and then names fields that do not exist, up to 1,024 names (the most selection work
     * a signature can ask for).
     */
    private static byte[] tinyFields(byte[] core, boolean knownKey) {
        String line = signatureLine(signed(core));
        int hStart = line.indexOf("; h=") + 4;
        StringBuilder h = new StringBuilder(line.substring(hStart, line.indexOf(';', hStart)));
        for (int i = h.toString().split(":").length; i < SignatureHeader.MAX_SIGNED_HEADERS; i++) {
            h.append(":y").append(Integer.toString(i, 36));
        }
        String forged = line.replaceFirst("; h=[^;]*;", "; h=" + h + ";");
        if (!knownKey) {
            forged = forged.replace("; s=" + KEY_ID + ";", "; s=nobody;");
        }
        StringBuilder top = new StringBuilder();
        for (int i = 0; i < VerifierSettings.DEFAULT_MAX_HEADERS; i++) {
            top.append(forged).append("\r\n");
        }
        top.append("Received:\r\n".repeat((HEADER_ROOM - top.length()) / 11));
        return concat(top.toString(), core);
    }

    /** The signature field folded at every token: after each tag-spec, around each colon of h=, inside b= and bh=. */
    private static byte[] foldedSignature() {
        byte[] signed = signed(Messages.mime(10 * 1024));
        String line = signatureLine(signed);
        int bh = line.indexOf("; bh=");
        int b = line.indexOf("; b=");
        String head = line.substring(0, bh).replace("; ", ";\r\n ");
        int colon = head.indexOf(':');
        head = head.substring(0, colon + 1) + head.substring(colon + 1).replace(":", "\r\n :\r\n ");
        String folded = head + ";\r\n bh=" + foldEvery4(line.substring(bh + 5, b)) + ";\r\n b=" + foldEvery4(line.substring(b + 4));
        return concat(folded + "\r\n", java.util.Arrays.copyOfRange(signed, line.length() + 2, signed.length));
    }

    private static String foldEvery4(String base64) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < base64.length(); i += 4) {
            out.append(i == 0 ? "" : "\r\n ").append(base64, i, Math.min(i + 4, base64.length()));
        }
        return out.toString();
    }

    /** A signed Subject folded 10,000 times. */
    private static byte[] foldedSubject() {
        String message = latin1(Messages.mime(10 * 1024));
        String subject = message.substring(message.indexOf("\r\nSubject: ") + 2);
        subject = subject.substring(0, subject.indexOf("\r\n"));
        return signed(bytes(message.replace(subject, subject + "\r\n w".repeat(10_000))));
    }

    /** A signed Subject of runs of 100 SP and HTAB between words, up to the header-block bound. */
    private static byte[] headerWspRuns(byte[] core) {
        String message = latin1(core);
        StringBuilder subject = new StringBuilder("Subject: start");
        while (subject.length() < HEADER_ROOM - 2 * 1024) {
            subject.append(" \t".repeat(50)).append("word");
        }
        return signed(bytes(message.replaceFirst("\r\nSubject: [^\r]*", "\r\n" + subject)));
    }

    /** A signed message of about 1 MiB whose body repeats what {@code unit} appends. */
    private static byte[] body(java.util.function.Consumer<StringBuilder> unit) {
        StringBuilder m = new StringBuilder("From: Alice <alice@a.example>\r\nTo: Bob <bob@b.example>\r\n"
                + "Subject: adversarial body\r\nDate: Sun, 22 Nov 2026 01:59:57 +0000\r\nMessage-ID: <adv@a.example>\r\n\r\n");
        while (m.length() < MIB - 8 * 1024) {
            unit.accept(m);
        }
        m.append("end\r\n");
        return signed(bytes(m.toString()));
    }

    private static byte[] concat(String head, byte[] rest) {
        byte[] h = bytes(head);
        byte[] out = new byte[h.length + rest.length];
        System.arraycopy(h, 0, out, 0, h.length);
        System.arraycopy(rest, 0, out, h.length, rest.length);
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
