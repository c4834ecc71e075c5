package org.authhmac.protocol;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;

/** Shared test material: a key, a message, and helpers to sign and verify it. */
final class Fixtures {
    static final byte[] PRIMARY = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    static final String KEY_ID = "k1";
    static final String SIGNING_DOMAIN = "a.example";
    static final String RECIPIENT = "bob@b.example";
    /** A period boundary for p = 900: 1763776800 = 1959752 * 900. */
    static final Instant SIGNED_AT = Instant.ofEpochSecond(1_763_776_800L);
    static final String NONCE = "Vb3kq9x0TtyZ2mQ8pL1aUw";

    static final String MESSAGE = String.join("\r\n",
            "From: Alice <alice@a.example>",
            "To: Bob <bob@b.example>",
            "Subject: Quarterly figures",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <1@a.example>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Hello Bob,",
            "",
            "the figures are attached.",
            "");

    private Fixtures() {
    }

    static PeriodKeys keys() {
        return StaticPeriodKeys.of(KEY_ID, PRIMARY);
    }

    static InputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    static SignRequest request() {
        return new SignRequest(KEY_ID, SIGNING_DOMAIN, "b.example", SIGNED_AT).withFixedNonce(NONCE);
    }

    /** Signs with default settings and returns the message with the signature field on top. */
    static String signed(String message, SignRequest request) throws Exception {
        return signed(new Signer(SignerSettings.defaults()), message, request);
    }

    static String signed(Signer signer, String message, SignRequest... requests) throws Exception {
        List<String> lines = signer.sign(stream(message), List.of(requests), keys());
        return String.join("\r\n", lines) + "\r\n" + message;
    }

    /**
     * The message with the b= of its top signature field computed afresh: for tests that edit a signed field by hand
     * and need a MAC that matches the edit.
     */
    static String remac(String message) throws Exception {
        RawMessage msg = RawMessage.read(stream(message), 1 << 20);
        HeaderField sig = msg.fields().get(0);
        SignatureHeader h = SignatureHeader.parse(sig.value());
        byte[] input = MacInput.build(msg.fields(), h.signedHeaders(), h.headerCanonicalization(), Verifier.withEmptyB(sig));
        String mac = java.util.Base64.getEncoder().encodeToString(keys().periodKey(h.kdfContext()).newMac().doFinal(input));
        String line = sig.raw();
        return line.substring(0, line.indexOf("; b=") + 4) + mac + message.substring(line.length());
    }

    static Verifier verifier() {
        return verifier(VerifierSettings.defaults(), new InMemoryReplayCache(1000, Clock.fixed(SIGNED_AT, ZoneOffset.UTC)));
    }

    static Verifier verifier(VerifierSettings settings, ReplayCache cache) {
        return new Verifier(settings, keys(), cache);
    }

    static Verdict verify(String message, Instant acceptedAt) {
        return verifier().verify(stream(message), acceptedAt, RECIPIENT);
    }
}
