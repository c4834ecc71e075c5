package org.authhmac.protocol;

import java.util.Locale;

/**
 * One header field exactly as it appears in the message: {@code raw} is the whole field (name, colon, value,
 * folding line breaks as CRLF) without its final CRLF. Strings hold bytes one char per byte (ISO-8859-1), so
 * 8-bit header content passes through canonicalization unchanged. {@code lowerName} is the name lower-cased, for
 * matching against h= and the configured signature header name.
 */
record HeaderField(String name, String raw, String lowerName) {

    HeaderField(String name, String raw) {
        // Lower-cased once here: signer and verifier match names against h= and count them several times per message.
        this(name, raw, name.toLowerCase(Locale.ROOT));
    }

    /** Everything after the first colon, unchanged. */
    String value() {
        return raw.substring(raw.indexOf(':') + 1);
    }

    static HeaderField parse(String raw) throws MalformedMessageException {
        int colon = raw.indexOf(':');
        if (colon <= 0) {
            throw new MalformedMessageException("header line without a field name and colon");
        }
        int end = colon;
        while (end > 0 && (raw.charAt(end - 1) == ' ' || raw.charAt(end - 1) == '\t')) {
            end--;
        }
        String name = raw.substring(0, end);
        if (name.isEmpty()) {
            throw new MalformedMessageException("header field with an empty name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 33 || c > 126) {
                throw new MalformedMessageException("header field name with a character outside %d33-126");
            }
        }
        return new HeaderField(name, raw);
    }
}
