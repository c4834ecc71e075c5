package org.authhmac.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.List;

/** The bh= value: SHA-256 over the whole canonical body. Public so that tools and benchmarks can reuse it. */
public final class BodyHash {
    private BodyHash() {
    }

    /** Hashes the body bytes that {@code body} yields (the part of a message after the empty line). */
    public static byte[] of(Canonicalization canonicalization, InputStream body) throws IOException {
        BodyCanonicalizer canon = new BodyCanonicalizer(canonicalization);
        feed(body, List.of(canon));
        return canon.finish();
    }

    /** Reads {@code body} to its end through one buffer, each chunk into every canonicalizer given. */
    static void feed(InputStream body, Collection<BodyCanonicalizer> canonicalizers) throws IOException {
        byte[] buf = new byte[4 * 1024];
        int n;
        while ((n = body.read(buf)) > 0) {
            for (BodyCanonicalizer c : canonicalizers) {
                c.update(buf, 0, n);
            }
        }
    }

    /** Hashes the body of a whole message (header block skipped), the way signer and verifier do. */
    public static byte[] ofMessage(Canonicalization canonicalization, InputStream message, int maxHeaderBytes)
            throws IOException {
        return of(canonicalization, RawMessage.read(message, maxHeaderBytes).body());
    }
}
