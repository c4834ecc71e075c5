package org.authhmac.protocol;

import static org.authhmac.protocol.TagValues.base64Digest;
import static org.authhmac.protocol.TagValues.malformed;
import static org.authhmac.protocol.TagValues.number;
import static org.authhmac.protocol.TagValues.required;
import static org.authhmac.protocol.TagValues.scalar;

import java.util.List;
import java.util.Locale;

/** Header version 1 (docs/PROTOCOL.md, "Header" and "Key derivation"). */
final class HeaderFormatV1 implements HeaderFormat {
    static final int VERSION = 1;
    /** SP 800-108 Label: names the protocol and its version. */
    static final String KDF_LABEL = "X-Auth-HMAC v1 period key";

    @Override
    public int version() {
        return VERSION;
    }

    @Override
    public String kdfLabel() {
        return KDF_LABEL;
    }

    /** The tags in signing order: v a d s t p c r rc sv pd n h bh b (sv and pd only when set). */
    @Override
    public String format(SignatureHeader h) {
        return "v=" + h.version()
                + "; a=" + h.algorithm()
                + "; d=" + h.domain()
                + "; s=" + h.keyId()
                + "; t=" + h.time()
                + "; p=" + h.periodSeconds()
                + "; c=" + h.canonicalization()
                + "; r=" + h.recipient()
                + "; rc=" + h.recipientCount()
                + (h.serverVerdict() == null ? "" : "; sv=" + h.serverVerdict())
                + (h.partnerDomain() == null ? "" : "; pd=" + h.partnerDomain())
                + "; n=" + h.nonce()
                + "; h=" + String.join(":", h.signedHeaders())
                + "; bh=" + h.bodyHash()
                + "; b=" + (h.mac() == null ? "" : h.mac());
    }

    @Override
    public SignatureHeader parse(TagList tags) throws SignatureFormatException {
        String a = scalar(tags, "a").toLowerCase(Locale.ROOT);
        if (!a.equals(SignatureHeader.ALGORITHM)) {
            throw new SignatureFormatException(Reason.UNSUPPORTED_ALGORITHM, "unsupported algorithm a=" + TagList.printable(a));
        }
        String d = required(tags, "d").toLowerCase(Locale.ROOT);
        if (!SignatureHeader.isDomain(d)) {
            throw malformed("d= is not a domain name");
        }
        String s = required(tags, "s");
        if (!SignatureHeader.isKeyId(s)) {
            throw malformed("s= must be 1..64 characters of [A-Za-z0-9._-]");
        }
        long t = number(required(tags, "t"), 12, "t");
        int p = SignatureHeader.DEFAULT_PERIOD_SECONDS;
        TagList.Tag pTag = tags.get("p");
        if (pTag != null) {
            long pv = number(pTag.value(), 5, "p");
            if (pv < SignatureHeader.MIN_PERIOD_SECONDS || pv > SignatureHeader.MAX_PERIOD_SECONDS) {
                throw malformed("p= must be " + SignatureHeader.MIN_PERIOD_SECONDS + ".." + SignatureHeader.MAX_PERIOD_SECONDS);
            }
            p = (int) pv;
        }
        String c = SignatureHeader.DEFAULT_CANONICALIZATION;
        TagList.Tag cTag = tags.get("c");
        if (cTag != null) {
            try {
                c = CanonicalizationPolicy.fromTag(cTag.value()).tag();
            } catch (IllegalArgumentException e) {
                throw malformed(e.getMessage());
            }
        }
        String r = required(tags, "r").toLowerCase(Locale.ROOT);
        if (!SignatureHeader.isRecipient(r)) {
            throw malformed("r= must be a domain or a mailbox local@domain");
        }
        int rc = SignatureHeader.DEFAULT_RECIPIENT_COUNT;
        TagList.Tag rcTag = tags.get("rc");
        if (rcTag != null) {
            long rcv = number(rcTag.value(), 5, "rc");
            if (rcv < 1 || rcv > SignatureHeader.MAX_RECIPIENT_COUNT) {
                throw malformed("rc= must be 1.." + SignatureHeader.MAX_RECIPIENT_COUNT);
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
        String svProblem = SignatureHeader.serverVerdictProblem(sv, pd, r);
        if (svProblem != null) {
            throw malformed(svProblem);
        }
        String n = required(tags, "n");
        if (!SignatureHeader.isNonce(n)) {
            throw malformed("n= must be " + SignatureHeader.MIN_NONCE_CHARS + ".." + SignatureHeader.MAX_NONCE_CHARS
                    + " base64url characters");
        }
        List<String> h = SignedHeaderNames.parse(required(tags, "h"));
        String bh = base64Digest(required(tags, "bh"), "bh");
        String b = base64Digest(required(tags, "b"), "b");
        return new SignatureHeader(VERSION, a, d, s, t, p, c, h, bh, r, n, b, rc, sv, pd);
    }
}
