package org.authhmac.protocol;

import java.util.AbstractList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.RandomAccess;

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

    public static final int VERSION = 1;
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
    /** b= and bh=: base64 of 32 bytes with its padding. */
    private static final int DIGEST_BASE64_CHARS = 44;
    /** The base64 characters whose two low bits are zero: the only ones that may stand before the '=' of 32 bytes. */
    private static final String DIGEST_LAST_CHARS = "AEIMQUYcgkosw048";
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
        if (canonicalization.equals(DEFAULT_CANONICALIZATION)) {
            // The usual value, asked for several times per verification: no substring and token lookup.
            return Canonicalization.RELAXED;
        }
        return Canonicalization.fromToken(canonicalization.substring(0, canonicalization.indexOf('/')));
    }

    /** Body canonicalization named by c=. */
    public Canonicalization bodyCanonicalization() {
        if (canonicalization.equals(DEFAULT_CANONICALIZATION)) {
            return Canonicalization.RELAXED;
        }
        return Canonicalization.fromToken(canonicalization.substring(canonicalization.indexOf('/') + 1));
    }

    /** floor(t / p): the period index that selects K_p. */
    public long period() {
        return KdfContext.periodOf(time, periodSeconds);
    }

    /** The context K_p is derived for. */
    public KdfContext kdfContext() {
        return new KdfContext(keyId, domain, periodSeconds, period());
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
     * The tag list in signing order: v a d s t p c r rc sv pd n h bh b (sv and pd only when set). With a null or
     * empty {@code mac} it ends in "b=", which is the form the MAC is computed over.
     */
    public String format() {
        return "v=" + version
                + "; a=" + algorithm
                + "; d=" + domain
                + "; s=" + keyId
                + "; t=" + time
                + "; p=" + periodSeconds
                + "; c=" + canonicalization
                + "; r=" + recipient
                + "; rc=" + recipientCount
                + (serverVerdict == null ? "" : "; sv=" + serverVerdict)
                + (partnerDomain == null ? "" : "; pd=" + partnerDomain)
                + "; n=" + nonce
                + "; h=" + String.join(":", signedHeaders)
                + "; bh=" + bodyHash
                + "; b=" + (mac == null ? "" : mac);
    }

    /**
     * Parses a header field value (everything after the colon, folding allowed). Unknown tags are ignored.
     *
     * @throws SignatureFormatException with reason malformed, unsupported-version or unsupported-algorithm
     */
    public static SignatureHeader parse(String value) throws SignatureFormatException {
        return parse(tagList(value));
    }

    /** The tag list of a signature header field, its size bound checked before anything is parsed. */
    static TagList tagList(HeaderField field) throws SignatureFormatException {
        if (field.length() > MAX_FIELD_OCTETS) {
            throw malformed("signature header field of " + field.length() + " octets, more than " + MAX_FIELD_OCTETS);
        }
        return TagList.parse(field.value(), MAX_TAGS);
    }

    /** The same for a field value alone (shorter than its field, so the bound is the same or looser). */
    static TagList tagList(String value) throws SignatureFormatException {
        if (value.length() > MAX_FIELD_OCTETS) {
            throw malformed("signature header value of " + value.length() + " characters, more than " + MAX_FIELD_OCTETS);
        }
        return TagList.parse(value, MAX_TAGS);
    }

    /** The same from a tag list already parsed (the verifier keeps it to empty b= without parsing twice). */
    static SignatureHeader parse(TagList tags) throws SignatureFormatException {

        String v = scalar(tags, "v");
        if (!v.equals("1")) {
            throw new SignatureFormatException(Reason.UNSUPPORTED_VERSION, "unsupported version v=" + TagList.printable(v));
        }
        String a = scalar(tags, "a").toLowerCase(Locale.ROOT);
        if (!a.equals(ALGORITHM)) {
            throw new SignatureFormatException(Reason.UNSUPPORTED_ALGORITHM, "unsupported algorithm a=" + TagList.printable(a));
        }
        String d = required(tags, "d").toLowerCase(Locale.ROOT);
        if (!isDomain(d)) {
            throw malformed("d= is not a domain name");
        }
        String s = required(tags, "s");
        if (!isKeyId(s)) {
            throw malformed("s= must be 1..64 characters of [A-Za-z0-9._-]");
        }
        long t = number(required(tags, "t"), 12, "t");
        int p = DEFAULT_PERIOD_SECONDS;
        TagList.Tag pTag = tags.get("p");
        if (pTag != null) {
            long pv = number(pTag.value(), 5, "p");
            if (pv < MIN_PERIOD_SECONDS || pv > MAX_PERIOD_SECONDS) {
                throw malformed("p= must be " + MIN_PERIOD_SECONDS + ".." + MAX_PERIOD_SECONDS);
            }
            p = (int) pv;
        }
        String c = DEFAULT_CANONICALIZATION;
        TagList.Tag cTag = tags.get("c");
        if (cTag != null) {
            c = canonicalization(cTag.value());
        }
        String r = required(tags, "r").toLowerCase(Locale.ROOT);
        if (!isRecipient(r)) {
            throw malformed("r= must be a domain or a mailbox local@domain");
        }
        int rc = DEFAULT_RECIPIENT_COUNT;
        TagList.Tag rcTag = tags.get("rc");
        if (rcTag != null) {
            long rcv = number(rcTag.value(), 5, "rc");
            if (rcv < 1 || rcv > MAX_RECIPIENT_COUNT) {
                throw malformed("rc= must be 1.." + MAX_RECIPIENT_COUNT);
            }
            rc = (int) rcv;
        }
        String sv = null;
        if (tags.get("sv") != null) {
            sv = scalar(tags, "sv");
        }
        String pd = null;
        if (tags.get("pd") != null) {
            pd = scalar(tags, "pd").toLowerCase(Locale.ROOT);
        }
        String svProblem = serverVerdictProblem(sv, pd, r);
        if (svProblem != null) {
            throw malformed(svProblem);
        }
        String n = required(tags, "n");
        if (!isNonce(n)) {
            throw malformed("n= must be " + MIN_NONCE_CHARS + ".." + MAX_NONCE_CHARS + " base64url characters");
        }
        List<String> h = headerList(required(tags, "h"));
        String bh = base64Digest(required(tags, "bh"), "bh");
        String b = base64Digest(required(tags, "b"), "b");
        return new SignatureHeader(VERSION, a, d, s, t, p, c, h, bh, r, n, b, rc, sv, pd);
    }

    /**
     * Why sv= and pd= cannot stand as given (null when they can): sv= only on a mailbox binding and only one of
     * {@link #SERVER_VERDICTS} (case-sensitive); pd=, a domain, exactly when sv=pass.
     */
    private static String serverVerdictProblem(String sv, String pd, String recipient) {
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

    private static String required(TagList tags, String name) throws SignatureFormatException {
        TagList.Tag t = tags.get(name);
        if (t == null) {
            throw malformed("missing tag " + name + "=");
        }
        if (t.value().isEmpty()) {
            throw malformed("empty tag " + name + "=");
        }
        return t.value();
    }

    /** A required value that may not contain whitespace (FWS is allowed inside h, bh, b and unknown tags only). */
    private static String scalar(TagList tags, String name) throws SignatureFormatException {
        String v = required(tags, name);
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                throw malformed("whitespace inside tag " + name + "=");
            }
        }
        return v;
    }

    private static long number(String v, int maxDigits, String tag) throws SignatureFormatException {
        if (v.isEmpty() || v.length() > maxDigits) {
            throw malformed(tag + "= must be 1.." + maxDigits + " digits");
        }
        for (int i = 0; i < v.length(); i++) {
            if (v.charAt(i) < '0' || v.charAt(i) > '9') {
                throw malformed(tag + "= must be digits only");
            }
        }
        return Long.parseLong(v);
    }

    private static String canonicalization(String v) throws SignatureFormatException {
        if (v.equals(DEFAULT_CANONICALIZATION)) {
            // What every signer of ours writes: the constant, without lower-casing, splitting and joining again.
            return DEFAULT_CANONICALIZATION;
        }
        String lower = v.toLowerCase(Locale.ROOT);
        int slash = lower.indexOf('/');
        // As in DKIM, a lone algorithm names the header canonicalization and the body one defaults to simple.
        String header = slash < 0 ? lower : lower.substring(0, slash);
        String body = slash < 0 ? "simple" : lower.substring(slash + 1);
        if (!isCanon(header) || !isCanon(body)) {
            throw malformed("c= must be simple or relaxed, optionally /simple or /relaxed");
        }
        return header + "/" + body;
    }

    private static boolean isCanon(String s) {
        return s.equals("simple") || s.equals("relaxed");
    }

    /**
     * h=: names separated by ':', FWS allowed around each ':' only. The names are counted before any is looked at, so
     * that an over-long list costs one scan. The list holds the bounds of each name in {@code v}, not a String per
     * name: the verifier looks the names up on those chars ({@link FieldCounts#find(List)}), and a String is made only
     * when one is asked for.
     */
    static List<String> headerList(String v) throws SignatureFormatException {
        int colons = 0;
        for (int i = v.indexOf(':'); i >= 0; i = v.indexOf(':', i + 1)) {
            if (++colons >= MAX_SIGNED_HEADERS) {
                throw malformed("h= names more than " + MAX_SIGNED_HEADERS + " header fields");
            }
        }
        int[] bounds = new int[2 * (colons + 1)];
        int k = 0;
        boolean from = false;
        int start = 0;
        while (true) {
            int colon = v.indexOf(':', start);
            int end = colon < 0 ? v.length() : colon;
            int nameStart = start;
            int nameEnd = end;
            // TagList has checked that every line break in the value is folding (CRLF WSP).
            while (nameStart < nameEnd && isFws(v.charAt(nameStart))) {
                nameStart++;
            }
            while (nameEnd > nameStart && isFws(v.charAt(nameEnd - 1))) {
                nameEnd--;
            }
            if (nameEnd == nameStart) {
                throw malformed("h= has an empty header name");
            }
            for (int i = nameStart; i < nameEnd; i++) {
                char ch = v.charAt(i);
                if (ch < 33 || ch > 126) {
                    // FWS included: it may stand around a ':' but not inside a name ("fr om").
                    throw malformed("h= has a bad header name");
                }
            }
            from |= nameEnd - nameStart == 4 && (v.charAt(nameStart) | 0x20) == 'f' && (v.charAt(nameStart + 1) | 0x20) == 'r'
                    && (v.charAt(nameStart + 2) | 0x20) == 'o' && (v.charAt(nameStart + 3) | 0x20) == 'm';
            bounds[k++] = nameStart;
            bounds[k++] = nameEnd;
            if (colon < 0) {
                break;
            }
            start = colon + 1;
        }
        if (!from) {
            throw malformed("h= does not include from");
        }
        return new SignedHeaderNames(v, bounds);
    }

    /**
     * The names of h= as {@link #headerList} read them: {@code value} and the bounds of each name in it (checked:
     * chars 33-126, no ':'). Immutable; {@link #get} gives the name lower-cased, a new String each time.
     */
    static final class SignedHeaderNames extends AbstractList<String> implements RandomAccess {
        private final String value;
        private final int[] bounds;

        private SignedHeaderNames(String value, int[] bounds) {
            this.value = value;
            this.bounds = bounds;
        }

        @Override
        public String get(int k) {
            java.util.Objects.checkIndex(k, size());
            return value.substring(bounds[2 * k], bounds[2 * k + 1]).toLowerCase(Locale.ROOT);
        }

        @Override
        public int size() {
            return bounds.length / 2;
        }

        /** The h= value the names are read from (case as written). */
        String value() {
            return value;
        }

        /** Where the k-th name starts in {@link #value()}. */
        int start(int k) {
            return bounds[2 * k];
        }

        /** Where the k-th name ends in {@link #value()}. */
        int end(int k) {
            return bounds[2 * k + 1];
        }
    }

    private static boolean isFws(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    /**
     * bh= and b=: after FWS removal exactly the 44 characters of base64 with padding that encode 32 bytes. Unpadded or
     * otherwise non-canonical forms (non-zero bits after the last byte) are refused, so that no two texts stand
     * for one digest.
     */
    private static String base64Digest(String v, String tag) throws SignatureFormatException {
        String compact = TagList.stripFws(v);
        if (compact.length() != DIGEST_BASE64_CHARS || compact.charAt(DIGEST_BASE64_CHARS - 1) != '='
                || compact.charAt(DIGEST_BASE64_CHARS - 2) == '=') {
            throw malformed(tag + "= must be 44 base64 characters with padding (32 bytes)");
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(compact);
        } catch (IllegalArgumentException e) {
            throw malformed(tag + "= is not base64");
        }
        // 32 bytes take 43 characters and 2 bits of the last one, which must be zero.
        if (decoded.length != 32 || DIGEST_LAST_CHARS.indexOf(compact.charAt(DIGEST_BASE64_CHARS - 2)) < 0) {
            throw malformed(tag + "= is not the canonical base64 of 32 bytes");
        }
        return compact;
    }

    static boolean isKeyId(String s) {
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

    private static SignatureFormatException malformed(String msg) {
        return new SignatureFormatException(Reason.MALFORMED, msg);
    }
}
