package org.authhmac.protocol;

import java.net.IDN;
import java.util.Locale;

/**
 * Normal forms for d= and r=: lower case, IDN domains as A-labels (docs/PROTOCOL.md, "Recipient binding"). Only
 * {@link #lowerAscii} is public: the local-part case rule, for callers that compare mailboxes as the protocol does.
 */
public final class Recipients {
    private Recipients() {
    }

    /** A domain in the form d= and r= carry; IllegalArgumentException when it is not a domain name. */
    static String domain(String domain) {
        String d = domain.trim();
        if (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        String ascii = asciiLdh(d);
        if (ascii == null) {
            ascii = IDN.toASCII(d, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
        }
        if (!SignatureHeader.isDomain(ascii)) {
            throw new IllegalArgumentException("not a domain name: " + TagList.printable(domain));
        }
        return ascii;
    }

    /**
     * The lower-cased domain when it is already a valid ASCII LDH name, else null. IDN.toASCII leaves such a name
     * as it is (it changes only non-ASCII labels, and fails only on empty or over-long labels, which isDomain
     * rejects), so this is the same result without IDN's per-call StringBuffers: signer and verifier normalise
     * d= and r= for every message.
     */
    private static String asciiLdh(String d) {
        for (int i = 0; i < d.length(); i++) {
            if (d.charAt(i) >= 0x80) {
                return null;
            }
        }
        String lower = d.toLowerCase(Locale.ROOT);
        return SignatureHeader.isDomain(lower) ? lower : null;
    }

    /** A domain or local@domain in the form r= carries; IllegalArgumentException when it cannot be bound. */
    static String binding(String recipient) {
        String r = recipient.trim();
        int at = r.lastIndexOf('@');
        if (at < 0) {
            return domain(r);
        }
        String normal = lowerAscii(r.substring(0, at)) + "@" + domain(r.substring(at + 1));
        if (!SignatureHeader.isRecipient(normal)) {
            throw new IllegalArgumentException("mailbox cannot be bound (r= needs a dot-atom ASCII local part; bind the domain instead): "
                    + TagList.printable(recipient));
        }
        return normal;
    }

    /**
     * A-Z lower-cased, every other char left as it is: String.toLowerCase turns the KELVIN SIGN (U+212A) into an ASCII
     * 'k', which would bind a non-ASCII local part to another mailbox instead of refusing it, and give two mailboxes
     * one replay id ({@link ReplayIds}), or two users one address.
     */
    public static String lowerAscii(String s) {
        char[] out = s.toCharArray();
        for (int i = 0; i < out.length; i++) {
            if (out[i] >= 'A' && out[i] <= 'Z') {
                out[i] = (char) (out[i] + ('a' - 'A'));
            }
        }
        return new String(out);
    }

    /** The domain part of an envelope recipient, or the argument itself when it is already a domain. */
    static String domainOf(String recipient) {
        int at = recipient.lastIndexOf('@');
        return domain(at < 0 ? recipient : recipient.substring(at + 1));
    }
}
