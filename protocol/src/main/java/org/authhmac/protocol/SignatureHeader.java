package org.authhmac.protocol;

import java.util.List;

/**
 * A parsed X-Auth-HMAC header value (docs/PROTOCOL.md, "Header"). Byte-valued tags (bh, b) are kept in their
 * base64 wire form, without folding whitespace, so that the record stays a plain value. Domains and the
 * recipient are held in lower case; {@code canonicalization} is always the full "header/body" form.
 * {@code serverVerdict} and {@code partnerDomain} are the tags sv= and pd= of a mailbox-bound signature (the
 * delivering server's verdict on the message, PROTOCOL.md 10.1), null when absent.
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
        String mac,
        int recipientCount,
        String serverVerdict,
        String partnerDomain) {

    /** The version signers write. */
    public static final int VERSION = HeaderFormatV1.VERSION;
    public static final String ALGORITHM = "hmac-sha256";
    public static final String DEFAULT_HEADER_NAME = "X-Auth-HMAC";
    public static final int DEFAULT_PERIOD_SECONDS = 900;
    public static final int MIN_PERIOD_SECONDS = 60;
    public static final int MAX_PERIOD_SECONDS = 86_400;
    public static final String DEFAULT_CANONICALIZATION = "relaxed/relaxed";
    public static final int MIN_NONCE_CHARS = 16;
    public static final int MAX_NONCE_CHARS = 64;
    /** rc= when absent: the signature passes for one recipient. */
    public static final int DEFAULT_RECIPIENT_COUNT = 1;
    public static final int MAX_RECIPIENT_COUNT = 10_000;
    /**
     * Bounds a verifier applies before it parses a signature header (docs/PROTOCOL.md section 3.2): the field's raw
     * form (name, colon, value with its folding) in octets, the tag-specs in it, and the names in h=. A signer refuses
     * to make a field beyond them.
     */
    public static final int MAX_FIELD_OCTETS = 8192;
    public static final int MAX_TAGS = 32;
    public static final int MAX_SIGNED_HEADERS = 1024;
    /**
     * The values of sv= (PROTOCOL.md 10.1): what the server that delivered the message to the mailbox decided about
     * it for this recipient. Only {@code pass} comes with pd=, the partner domain whose signature the server verified.
     */
    public static final List<String> SERVER_VERDICTS = List.of("pass", "none", "fail", "permerror", "released", "notice");
    public static final String SERVER_VERDICT_PASS = "pass";

    public SignatureHeader {
        // h= as parse read it is already immutable: copying it would make the String of every name.
        signedHeaders = signedHeaders == null ? List.of()
                : signedHeaders instanceof SignedHeaderNames ? signedHeaders : List.copyOf(signedHeaders);
        if (recipientCount < 1 || recipientCount > MAX_RECIPIENT_COUNT) {
            throw new IllegalArgumentException("recipientCount must be 1.." + MAX_RECIPIENT_COUNT + ": " + recipientCount);
        }
        String problem = serverVerdictProblem(serverVerdict, partnerDomain, recipient);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** A header without the sv= and pd= tags. */
    public SignatureHeader(int version, String algorithm, String domain, String keyId, long time, int periodSeconds,
                           String canonicalization, List<String> signedHeaders, String bodyHash, String recipient,
                           String nonce, String mac, int recipientCount) {
        this(version, algorithm, domain, keyId, time, periodSeconds, canonicalization, signedHeaders, bodyHash,
                recipient, nonce, mac, recipientCount, null, null);
    }

    /** A header with the default recipient count (rc=1). */
    public SignatureHeader(int version, String algorithm, String domain, String keyId, long time, int periodSeconds,
                           String canonicalization, List<String> signedHeaders, String bodyHash, String recipient,
                           String nonce, String mac) {
        this(version, algorithm, domain, keyId, time, periodSeconds, canonicalization, signedHeaders, bodyHash,
                recipient, nonce, mac, DEFAULT_RECIPIENT_COUNT);
    }

    /** Header canonicalization named by c=. */
    public Canonicalization headerCanonicalization() {
        return CanonicalizationPolicy.fromTag(canonicalization).header();
    }

    /** Body canonicalization named by c=. */
    public Canonicalization bodyCanonicalization() {
        return CanonicalizationPolicy.fromTag(canonicalization).body();
    }

    /** floor(t / p): the period index that selects K_p. */
    public long period() {
        return KdfContext.periodOf(time, periodSeconds);
    }

    /** The context K_p is derived for. */
    public KdfContext kdfContext() {
        return new KdfContext(version, keyId, domain, periodSeconds, period());
    }

    /** True when r= names a mailbox (server-to-client binding) rather than a domain. */
    public boolean bindsMailbox() {
        return recipient.contains("@");
    }

    public SignatureHeader withMac(String newMac) {
        return new SignatureHeader(version, algorithm, domain, keyId, time, periodSeconds, canonicalization,
                signedHeaders, bodyHash, recipient, nonce, newMac, recipientCount, serverVerdict, partnerDomain);
    }

    /**
     * The tag list as this header's version writes it. With a null or empty {@code mac} it ends in "b=", which is the
     * form the MAC is computed over.
     */
    public String format() {
        return HeaderVersions.of(version).format(this);
    }

    /**
     * Parses a header field value (everything after the colon, folding allowed) of a version verifiers accept by
     * default. Unknown tags are ignored.
     *
     * @throws SignatureFormatException with reason malformed, unsupported-version or unsupported-algorithm
     */
    public static SignatureHeader parse(String value) throws SignatureFormatException {
        return HeaderVersions.parse(tagList(value), HeaderVersions.DEFAULT_ACCEPTED);
    }

    /** The tag list of a signature header field, its size bound checked before anything is parsed. */
    static TagList tagList(HeaderField field) throws SignatureFormatException {
        if (field.length() > MAX_FIELD_OCTETS) {
            throw TagValues.malformed("signature header field of " + field.length() + " octets, more than " + MAX_FIELD_OCTETS);
        }
        return TagList.parse(field.value(), MAX_TAGS);
    }

    /** The same for a field value alone (shorter than its field, so the bound is the same or looser). */
    static TagList tagList(String value) throws SignatureFormatException {
        if (value.length() > MAX_FIELD_OCTETS) {
            throw TagValues.malformed("signature header value of " + value.length() + " characters, more than " + MAX_FIELD_OCTETS);
        }
        return TagList.parse(value, MAX_TAGS);
    }

    /**
     * Why sv= and pd= cannot stand as given (null when they can): sv= only on a mailbox binding and only one of
     * {@link #SERVER_VERDICTS} (case-sensitive); pd=, a domain, exactly when sv=pass.
     */
    static String serverVerdictProblem(String sv, String pd, String recipient) {
        if (sv == null) {
            return pd == null ? null : "pd= without sv=pass";
        }
        if (recipient == null || !recipient.contains("@")) {
            return "sv= belongs to a mailbox-bound signature only (r=local@domain)";
        }
        if (!SERVER_VERDICTS.contains(sv)) {
            return "sv= must be one of " + String.join(", ", SERVER_VERDICTS) + ", found " + TagList.printable(sv);
        }
        if (sv.equals(SERVER_VERDICT_PASS)) {
            if (pd == null) {
                return "sv=pass without pd=";
            }
            return isDomain(pd) ? null : "pd= is not a domain name";
        }
        return pd == null ? null : "pd= is given only with sv=pass, found sv=" + sv;
    }

    /**
     * Whether {@code s} is a key id as {@code s=} carries it: 1 to 64 characters of {@code [A-Za-z0-9._-]}. The vault
     * and the configuration readers apply this same rule.
     */
    public static boolean isKeyId(String s) {
        if (s.isEmpty() || s.length() > Kdf.MAX_KEY_ID_BYTES) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    static boolean isNonce(String s) {
        if (s.length() < MIN_NONCE_CHARS || s.length() > MAX_NONCE_CHARS) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** A lower-case LDH domain (A-labels for IDNs), 1..253 characters, labels 1..63, no leading/trailing '-'. */
    static boolean isDomain(String d) {
        if (d.isEmpty() || d.length() > 253) {
            return false;
        }
        // One pass over the chars, label by label, without splitting into Strings (called per message).
        int labelStart = 0;
        for (int i = 0; i <= d.length(); i++) {
            if (i == d.length() || d.charAt(i) == '.') {
                int len = i - labelStart;
                if (len == 0 || len > 63 || d.charAt(labelStart) == '-' || d.charAt(i - 1) == '-') {
                    return false;
                }
                labelStart = i + 1;
                continue;
            }
            char c = d.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** A domain, or local@domain with a lower-case dot-atom local part (RFC 5322 atext and dots). */
    static boolean isRecipient(String r) {
        int at = r.lastIndexOf('@');
        if (at < 0) {
            return isDomain(r);
        }
        String local = r.substring(0, at);
        if (local.isEmpty() || local.length() > 64 || local.startsWith(".") || local.endsWith(".") || local.contains("..")) {
            return false;
        }
        for (int i = 0; i < local.length(); i++) {
            char c = local.charAt(i);
            boolean atext = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "!#$%&'*+-/=?^_`{|}~.".indexOf(c) >= 0;
            if (!atext) {
                return false;
            }
        }
        return isDomain(r.substring(at + 1));
    }
}
