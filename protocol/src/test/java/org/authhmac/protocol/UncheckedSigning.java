package org.authhmac.protocol;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A test-only signer that makes a correct signature for any message, without the checks the real {@link Signer}
 * applies to the message (the author domain): what a signing server that did not check, or a partner's own
 * buggy signer, would send. Its h= covers every field the way the real signer's default list does, so a verifier
 * can refuse its signatures only for the rule under test. Built from the same package-private pieces as the
 * Signer (RawMessage, MacInput), so the MAC is the real one.
 */
public final class UncheckedSigning {
    private static final Set<String> TRACE = Set.of("received", "return-path", "delivered-to", "authentication-results",
            "arc-seal", "arc-message-signature", "arc-authentication-results", "dkim-signature", "x-auth-hmac");

    private UncheckedSigning() {
    }

    /** The message (ISO-8859-1 chars, one per byte) with a relaxed/relaxed signature field on top. */
    public static String signed(String message, SignRequest request, PeriodKeys keys) throws Exception {
        byte[] bytes = message.getBytes(StandardCharsets.ISO_8859_1);
        RawMessage msg = RawMessage.read(new ByteArrayInputStream(bytes), SignerSettings.DEFAULT_MAX_HEADER_BYTES);
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (HeaderField f : msg.fields()) {
            counts.merge(f.lowerName(), 1, Integer::sum);
        }
        List<String> h = new ArrayList<>();
        for (String name : SignerSettings.DEFAULT_OVERSIGNED) {
            for (int i = counts.getOrDefault(name, 0) + 1; i > 0; i--) {
                h.add(name);
            }
        }
        counts.forEach((name, n) -> {
            if (!TRACE.contains(name) && !SignerSettings.DEFAULT_OVERSIGNED.contains(name)) {
                for (int i = 0; i < n; i++) {
                    h.add(name);
                }
            }
        });
        String bodyHash = Base64.getEncoder().encodeToString(msg.bodyHash(Canonicalization.RELAXED));
        SignatureHeader header = new SignatureHeader(SignatureHeader.VERSION, SignatureHeader.ALGORITHM,
                Recipients.domain(request.domain()), request.keyId(), request.time().getEpochSecond(),
                SignatureHeader.DEFAULT_PERIOD_SECONDS, SignatureHeader.DEFAULT_CANONICALIZATION, h, bodyHash,
                Recipients.binding(request.recipient()),
                request.fixedNonce() != null ? request.fixedNonce() : "Vb3kq9x0TtyZ2mQ8pL1aUw", null);
        String unsigned = SignatureHeader.DEFAULT_HEADER_NAME + ": " + header.format();
        byte[] mac = keys.periodKey(header.kdfContext()).newMac()
                .doFinal(MacInput.build(msg.fields(), h, Canonicalization.RELAXED, unsigned));
        return unsigned + Base64.getEncoder().encodeToString(mac) + "\r\n" + message;
    }
}
