package org.authhmac.protocol;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How a {@link Signer} signs. Defaults follow docs/PROTOCOL.md: header X-Auth-HMAC, relaxed/relaxed,
 * 900 s periods, every field present signed, the reader-visible and MIME fields oversigned.
 */
public record SignerSettings(
        String headerName,
        Canonicalization headerCanonicalization,
        Canonicalization bodyCanonicalization,
        int periodSeconds,
        List<String> oversignedHeaders,
        List<String> signedIfPresentHeaders,
        int maxHeaderBytes) {

    /**
     * Every field that changes what a reader sees or how the body is decoded is oversigned, so that an instance added
     * after signing, even of a field the message did not have (a Sender, a Content-Type), breaks the MAC.
     */
    public static final List<String> DEFAULT_OVERSIGNED =
            List.of("from", "to", "cc", "subject", "date", "message-id", "reply-to", "sender", "in-reply-to", "references",
                    "mime-version", "content-type", "content-transfer-encoding");
    /**
     * Every field present is signed anyway (PROTOCOL.md 5.2); this list matters only for names of the ignore list
     * (Received, Authentication-Results, ...), which it makes the signer list as often as they occur.
     */
    public static final List<String> DEFAULT_SIGNED_IF_PRESENT = List.of();
    public static final int DEFAULT_MAX_HEADER_BYTES = 1024 * 1024;

    public SignerSettings {
        headerName = checkHeaderName(headerName, "headerName");
        Objects.requireNonNull(headerCanonicalization, "headerCanonicalization");
        Objects.requireNonNull(bodyCanonicalization, "bodyCanonicalization");
        if (periodSeconds < SignatureHeader.MIN_PERIOD_SECONDS || periodSeconds > SignatureHeader.MAX_PERIOD_SECONDS) {
            throw new IllegalArgumentException("periodSeconds must be " + SignatureHeader.MIN_PERIOD_SECONDS + ".."
                    + SignatureHeader.MAX_PERIOD_SECONDS + ": " + periodSeconds);
        }
        oversignedHeaders = lower(oversignedHeaders, "oversignedHeaders");
        signedIfPresentHeaders = lower(signedIfPresentHeaders, "signedIfPresentHeaders");
        if (!oversignedHeaders.contains("from") && !signedIfPresentHeaders.contains("from")) {
            throw new IllegalArgumentException("oversignedHeaders must include from: verifiers reject h= without it");
        }
        if (oversignedHeaders.contains(headerName.toLowerCase(Locale.ROOT))
                || signedIfPresentHeaders.contains(headerName.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("the signature header itself cannot be a signed header");
        }
        if (maxHeaderBytes < 1024) {
            throw new IllegalArgumentException("maxHeaderBytes must be at least 1024: " + maxHeaderBytes);
        }
    }

    public static SignerSettings defaults() {
        return new SignerSettings(SignatureHeader.DEFAULT_HEADER_NAME, Canonicalization.RELAXED, Canonicalization.RELAXED,
                SignatureHeader.DEFAULT_PERIOD_SECONDS, DEFAULT_OVERSIGNED, DEFAULT_SIGNED_IF_PRESENT, DEFAULT_MAX_HEADER_BYTES);
    }

    public SignerSettings withHeaderName(String name) {
        return new SignerSettings(name, headerCanonicalization, bodyCanonicalization, periodSeconds,
                oversignedHeaders, signedIfPresentHeaders, maxHeaderBytes);
    }

    public SignerSettings withCanonicalization(Canonicalization header, Canonicalization body) {
        return new SignerSettings(headerName, header, body, periodSeconds, oversignedHeaders, signedIfPresentHeaders,
                maxHeaderBytes);
    }

    public SignerSettings withPeriodSeconds(int seconds) {
        return new SignerSettings(headerName, headerCanonicalization, bodyCanonicalization, seconds,
                oversignedHeaders, signedIfPresentHeaders, maxHeaderBytes);
    }

    public SignerSettings withSignedHeaders(List<String> oversigned, List<String> ifPresent) {
        return new SignerSettings(headerName, headerCanonicalization, bodyCanonicalization, periodSeconds,
                oversigned, ifPresent, maxHeaderBytes);
    }

    public SignerSettings withMaxHeaderBytes(int bytes) {
        return new SignerSettings(headerName, headerCanonicalization, bodyCanonicalization, periodSeconds,
                oversignedHeaders, signedIfPresentHeaders, bytes);
    }

    static String checkHeaderName(String name, String parameter) {
        Objects.requireNonNull(name, parameter);
        if (name.isEmpty()) {
            throw new IllegalArgumentException(parameter + " must not be empty");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 33 || c > 126 || c == ':') {
                throw new IllegalArgumentException(parameter + " must be printable ASCII without ':' or spaces: " + name);
            }
        }
        return name;
    }

    private static List<String> lower(List<String> names, String parameter) {
        Objects.requireNonNull(names, parameter);
        return names.stream().map(n -> checkHeaderName(n, parameter).toLowerCase(Locale.ROOT)).distinct().toList();
    }
}
