package org.authhmac.protocol;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the bytes the MAC covers (RFC 6376 §3.7 with the X-Auth-HMAC header in the DKIM-Signature role):
 * each header named in h=, picked bottom-up, canonicalized and followed by CRLF, then the signature header
 * itself with its b= value emptied, canonicalized, without a trailing CRLF.
 */
final class MacInput {
    private MacInput() {
    }

    static byte[] build(List<HeaderField> fields, List<String> signedHeaders, Canonicalization canon,
                        String signatureFieldWithEmptyB) {
        Map<String, List<HeaderField>> byName = new HashMap<>();
        for (HeaderField f : fields) {
            byName.computeIfAbsent(f.lowerName(), k -> new ArrayList<>()).add(f);
        }
        Map<String, Integer> used = new HashMap<>();
        StringBuilder sb = new StringBuilder(1024);
        for (String name : signedHeaders) {
            List<HeaderField> instances = byName.getOrDefault(name, List.of());
            int u = used.getOrDefault(name, 0);
            if (u < instances.size()) {
                // Bottom-up: the n-th mention of a name selects the n-th instance counted from the bottom.
                HeaderField f = instances.get(instances.size() - 1 - u);
                sb.append(HeaderCanonicalizer.canonicalize(canon, f.raw())).append("\r\n");
            }
            // A mention beyond the last instance adds nothing: that is what makes oversigning work.
            used.put(name, u + 1);
        }
        sb.append(HeaderCanonicalizer.canonicalize(canon, signatureFieldWithEmptyB));
        return RawMessage.bytes(sb.toString());
    }
}
