package org.authhmac.protocol;

import java.net.IDN;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * The author domain of a message: the domain of the single mailbox its From field names, read strictly
 * (docs/PROTOCOL.md 9.2). Anything a reader could take two ways (a group, several mailboxes, a domain-literal, an
 * obsolete form, an unbalanced quote or comment, a control character, a domain IDNA would rewrite) has none, so
 * that the verifier and a mail client never disagree about who wrote the message. One pass over the value, no
 * recursion: a value of nested comments costs the same as any other of its length.
 */
public final class AuthorDomain {
    /** IDNA2003 reads these as label separators; RFC 5322 does not. A domain holding one has two readings. */
    private static final String IDNA_DOTS = "\u3002\uff0e\uff61";

    private AuthorDomain() {
    }

    /**
     * The domain (lower case, A-labels) of the one mailbox a From field value names, or empty when the strict reading
     * refuses the value.
     *
     * @param fromFieldValue everything after "From:", folding (CRLF followed by WSP) included, as Unicode text (the
     *                       field's octets decoded as UTF-8, RFC 6532)
     */
    public static Optional<String> of(String fromFieldValue) {
        if (fromFieldValue == null || hasLoneSurrogate(fromFieldValue)) {
            return Optional.empty();
        }
        Reader r = new Reader(fromFieldValue);
        String domain = r.mailbox();
        return domain == null ? Optional.empty() : normalize(domain);
    }

    /** A lone surrogate has no UTF-8 form, so it cannot come from a message. */
    private static boolean hasLoneSurrogate(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < v.length() && Character.isLowSurrogate(v.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /** The same for a field as the message holds it: its value's octets must be UTF-8. */
    static Optional<String> of(HeaderField from) {
        int start = from.colon() + 1;
        try {
            String value = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(from.bytes(), start, from.end() - start))
                    .toString();
            return of(value);
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /** The dot-atom-text of the domain as it will be compared with d=, or empty (PROTOCOL.md 9.2, last steps). */
    private static Optional<String> normalize(String domain) {
        boolean ascii = true;
        for (int i = 0; i < domain.length(); i++) {
            char c = domain.charAt(i);
            if (c >= 0x80) {
                ascii = false;
            }
            if (IDNA_DOTS.indexOf(c) >= 0) {
                return Optional.empty();
            }
        }
        String lower = domain.toLowerCase(Locale.ROOT);
        if (!ascii) {
            // Bounded before IDNA: a valid domain has at most 253 characters, and nameprep's normalization is not
            // linear in a long run of combining marks.
            if (domain.codePointCount(0, domain.length()) > 253) {
                return Optional.empty();
            }
            String aLabels;
            try {
                aLabels = IDN.toASCII(domain, IDN.USE_STD3_ASCII_RULES);
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
            // Only U-labels that IDNA gives back unchanged (up to case): a label nameprep would map (ß to ss, a
            // full-width letter to ASCII) is read as another domain by IDNA2008 readers.
            if (!IDN.toUnicode(aLabels, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT).equals(lower)) {
                return Optional.empty();
            }
            lower = aLabels.toLowerCase(Locale.ROOT);
        }
        return SignatureHeader.isDomain(lower) ? Optional.of(lower) : Optional.empty();
    }

    /**
     * The grammar of PROTOCOL.md 9.2 as one loop over tokens. Each token remembers whether CFWS came before it, since
     * dot-atom-text allows none between its atoms and dots.
     */
    private static final class Reader {
        private static final int END = 0;
        private static final int ATOM = 1;
        private static final int QUOTED = 2;
        private static final int DOT = 3;
        private static final int AT = 4;
        private static final int LT = 5;
        private static final int GT = 6;
        private static final int ERROR = 7;
        /** States of the local-part automaton. */
        private static final int LOCAL_START = 0;
        private static final int LOCAL_ATOM = 1;
        private static final int LOCAL_DOT = 2;
        private static final int LOCAL_QUOTED = 3;
        private static final int LOCAL_INVALID = 4;

        private final String s;
        private int pos;
        private int type;
        private int start;
        private int end;
        private boolean spaceBefore;

        Reader(String s) {
            this.s = s;
        }

        /** The domain's dot-atom-text if the whole value is exactly one mailbox, else null. */
        String mailbox() {
            next();
            // A display-name and the local-part of a bare addr-spec start alike: read words and dots while keeping
            // track of which of the two they can still be, until "<" or "@" decides.
            boolean display = true;
            int local = LOCAL_START;
            boolean first = true;
            while (type == ATOM || type == QUOTED || type == DOT) {
                display &= !(first && type == DOT);
                local = encodedWordLike() ? LOCAL_INVALID : localPart(local, type, !spaceBefore);
                first = false;
                next();
            }
            if (type == AT) {
                if (local != LOCAL_ATOM && local != LOCAL_QUOTED) {
                    return null;
                }
                String domain = domain();
                return type == END ? domain : null;
            }
            if (type != LT || !display) {
                return null;
            }
            next();
            String domain = addrSpec();
            if (domain == null || type != GT) {
                return null;
            }
            next();
            return type == END ? domain : null;
        }

        /**
         * local-part = dot-atom-text / quoted-string, CFWS only around it: one step of that automaton. CFWS before the
         * first token does not matter ({@code adjacent} is read from the second token on).
         */
        private static int localPart(int state, int token, boolean adjacent) {
            if (state == LOCAL_START) {
                return token == ATOM ? LOCAL_ATOM : token == QUOTED ? LOCAL_QUOTED : LOCAL_INVALID;
            }
            if (!adjacent) {
                return LOCAL_INVALID;
            }
            if (state == LOCAL_ATOM && token == DOT) {
                return LOCAL_DOT;
            }
            if (state == LOCAL_DOT && token == ATOM) {
                return LOCAL_ATOM;
            }
            return LOCAL_INVALID;
        }

        /**
         * An atom holding "=?": an encoded word (RFC 2047) may stand in a display-name but never in an addr-spec, and
         * readers that decode it anyway would show another address than the one read here.
         */
        private boolean encodedWordLike() {
            if (type != ATOM) {
                return false;
            }
            for (int i = start; i + 1 < end; i++) {
                if (s.charAt(i) == '=' && s.charAt(i + 1) == '?') {
                    return true;
                }
            }
            return false;
        }

        /** local-part "@" domain, from the current token; leaves the token after the domain current. */
        private String addrSpec() {
            int local = LOCAL_START;
            while (type == ATOM || type == QUOTED || type == DOT) {
                local = encodedWordLike() ? LOCAL_INVALID : localPart(local, type, !spaceBefore);
                next();
            }
            if (type != AT || (local != LOCAL_ATOM && local != LOCAL_QUOTED)) {
                return null;
            }
            return domain();
        }

        /** At "@": reads dot-atom-text (no CFWS inside it) and returns it; the token after it is current. */
        private String domain() {
            next();
            if (type != ATOM) {
                return null;
            }
            int from = start;
            int to = end;
            next();
            while (type == DOT && !spaceBefore) {
                next();
                if (type != ATOM || spaceBefore) {
                    return null;
                }
                to = end;
                next();
            }
            return type == DOT ? null : s.substring(from, to);
        }

        /** Skips CFWS, then reads one token into type/start/end. A lexical error is the token ERROR. */
        private void next() {
            if (type == ERROR) {
                return;
            }
            int before = pos;
            if (!skipCfws()) {
                type = ERROR;
                return;
            }
            spaceBefore = pos > before;
            if (pos == s.length()) {
                type = END;
                return;
            }
            start = pos;
            char c = s.charAt(pos);
            switch (c) {
                case '.' -> single(DOT);
                case '@' -> single(AT);
                case '<' -> single(LT);
                case '>' -> single(GT);
                case '"' -> type = quotedString() ? QUOTED : ERROR;
                default -> {
                    while (pos < s.length() && isAtext(s.charAt(pos))) {
                        pos++;
                    }
                    type = pos > start ? ATOM : ERROR;
                }
            }
            end = pos;
        }

        private void single(int t) {
            pos++;
            type = t;
        }

        /** CFWS, comments nested to any depth; false on an unbalanced comment or a character CFWS cannot hold. */
        private boolean skipCfws() {
            int depth = 0;
            while (pos < s.length()) {
                if (skipFws()) {
                    continue;
                }
                char c = s.charAt(pos);
                if (c == '(') {
                    depth++;
                    pos++;
                } else if (depth > 0 && c == ')') {
                    depth--;
                    pos++;
                } else if (depth > 0 && c == '\\') {
                    if (!quotedPair()) {
                        return false;
                    }
                } else if (depth > 0) {
                    if (!isCtext(c)) {
                        return false;
                    }
                    pos++;
                } else {
                    return true;
                }
            }
            return depth == 0;
        }

        /**
         * Steps over the WSP or fold (CRLF followed by WSP) at {@code pos}, if there is one. A CR or LF that is not part
         * of a fold stays, and is refused by every character class after it: ctext, qtext and atext hold no control.
         */
        private boolean skipFws() {
            char c = s.charAt(pos);
            if (c == ' ' || c == '\t') {
                pos++;
                return true;
            }
            if (c == '\r' && pos + 2 < s.length() && s.charAt(pos + 1) == '\n'
                    && (s.charAt(pos + 2) == ' ' || s.charAt(pos + 2) == '\t')) {
                pos += 3;
                return true;
            }
            return false;
        }

        private boolean quotedString() {
            pos++;
            while (pos < s.length()) {
                if (skipFws()) {
                    continue;
                }
                char c = s.charAt(pos);
                if (c == '"') {
                    pos++;
                    return true;
                }
                if (c == '\\') {
                    if (!quotedPair()) {
                        return false;
                    }
                } else if (isQtext(c)) {
                    pos++;
                } else {
                    return false;
                }
            }
            return false;
        }

        /** "\" followed by VCHAR, WSP or a non-ASCII character (RFC 6532); never a control character. */
        private boolean quotedPair() {
            if (pos + 1 >= s.length()) {
                return false;
            }
            char c = s.charAt(pos + 1);
            if (c == ' ' || c == '\t' || (c >= 0x21 && c <= 0x7e) || isNonAscii(c)) {
                pos += 2;
                return true;
            }
            return false;
        }

        private static boolean isAtext(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || (c < 0x80 && "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0) || isNonAscii(c);
        }

        private static boolean isQtext(char c) {
            return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || isNonAscii(c);
        }

        private static boolean isCtext(char c) {
            return (c >= 0x21 && c <= 0x27) || (c >= 0x2a && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || isNonAscii(c);
        }

        /**
         * RFC 6532 UTF8-non-ascii, without the C1 controls U+0080..U+009F. Surrogate halves pass here: {@link #of}
         * has already refused a value with a lone one.
         */
        private static boolean isNonAscii(char c) {
            return c >= 0xa0;
        }
    }
}
