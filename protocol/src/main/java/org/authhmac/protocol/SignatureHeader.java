package org.authhmac.protocol;

import java.util.List;

/**
 * A parsed X-Auth-HMAC header value (docs/PROTOCOL.md, "Header"). Byte-valued tags are kept in their
 * base64 wire form so that the record stays a plain value.
 *
 * <p>STUB by the coordinator: the protocol work replaces this with the full parser; the accessor names
 * below are relied on by the James module and must stay.
 */
public record SignatureHeader(
        int version,
        String algorithm,
        String domain,
        String keyId,
        long time,
        int periodSeconds,
        String canonicalization,
        List<String> signedHeaders,
        String bodyHash,
        String recipient,
        String nonce,
        String mac) {
}
