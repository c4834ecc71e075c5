package org.authhmac.james.matchers;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.io.ByteArrayOutputStream;
import java.net.IDN;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Bidi;
import java.text.Normalizer;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.james.mime4j.dom.address.AddressList;
import org.apache.james.mime4j.dom.address.Mailbox;
import org.apache.james.mime4j.field.address.DefaultAddressParser;
import org.apache.james.mime4j.field.address.LenientAddressParser;

/**
 * Every domain one From field value could be read as naming: the union of several readers, so that a form one
 * parser misreads (group syntax, comments inside the domain, encoded words, full-width dots) is still seen by
 * another. The readers: jakarta.mail strict and lenient (groups expanded), Apache mime4j strict and lenient (groups
 * flattened), and a scan for {@code @} followed by a domain over the text with encoded words decoded as Python's
 * email does ({@link PythonCodecs}; with and without the whitespace between adjacent ones, and adjacent words of one
 * charset decoded together), comments removed, quotes and quoted-pairs dropped, whitespace around
 * dots and {@code @} removed, NFKC and the IDNA dots mapped. Domains come out in the protocol's form: lower case,
 * A-labels, no trailing dot.
 *
 * <p>The caller bounds the input (size and number of delimiters, {@link PartnerClaim}) before calling: some of
 * these parsers take time quadratic in the number of unclosed brackets.
 */
final class FromReadings {
    /** RFC 2047 encoded word, liberally: charset (with an optional RFC 2231 language), B or Q, any text up to "?=". */
    private static final Pattern ENCODED_WORD = Pattern.compile("=\\?([^?]*)\\?([bBqQ])\\?([^?]*)\\?=");
    /** An encoded word as email.header.decode_header finds it: its text may hold "?" (up to the first "?="). */
    private static final Pattern PYTHON_ENCODED_WORD = Pattern.compile("=\\?([^?]*)\\?([bBqQ])\\?(.*?)\\?=");
    /** Whitespace between two encoded words, which RFC 2047 (6.2) does not display (liberally: after any "?="). */
    private static final Pattern BETWEEN_ENCODED_WORDS =
            Pattern.compile("(?<=\\?=)\\s+(?==\\?[^?]*\\?[bBqQ]\\?[^?]*\\?=)");
    /** Characters that end a domain in the scan (besides whitespace and, in one variant, controls). */
    private static final String DOMAIN_ENDS = ",;:<>()@/'`|{}!?&*=";
    /** Every charset name and alias of this JVM, lower case. */
    private static final Map<String, Charset> CHARSETS = PythonCodecs.JDK;

    /** Longer text after an {@code @} is no domain (RFC 1035: 255 octets) and is not normalised: doubt, so verify. */
    static final int MAX_DOMAIN_CHARS = 255;

    /**
     * What the readers found: every domain named, and whether the field is clear: a strict parser read it as
     * mailboxes with domains, and no reader met domain text longer than {@link #MAX_DOMAIN_CHARS}.
     */
    record Reading(Set<String> domains, boolean clear) {
    }

    private final Set<String> found = new LinkedHashSet<>();
    /** Raw domain text to its normal form: the scan meets the same text in several variants. */
    private final Map<String, Optional<String>> normalised = new HashMap<>();
    private boolean overlong;

    private FromReadings() {
    }

    /**
     * Reads a From field value as it stands in the message (folded) and unfolded, each also in its other 8-bit
     * reading (UTF-8 header bytes that jakarta.mail read one char per byte, and the reverse: mime4j's lenient
     * parser reads bytes, so a domain in UTF-8 reaches it cut and mangled, as James's IMAP ENVELOPE shows it).
     * Never throws.
     */
    static Reading read(String fieldValue) {
        FromReadings readings = new FromReadings();
        String unfolded = PartnerClaim.unfold(fieldValue).strip();
        Set<String> forms = withOtherEightBitReading(unfolded);
        boolean strictlyReadable = false;
        for (String form : forms) {
            strictlyReadable |= readings.jakarta(form, true);
            strictlyReadable |= readings.mime4j(form, true);
            readings.scan(form);
        }
        // The lenient parsers also read the folded field: mime4j's counts bytes, and reads folded text otherwise.
        forms.addAll(withOtherEightBitReading(fieldValue));
        for (String form : forms) {
            readings.jakarta(form, false);
            readings.mime4j(form, false);
        }
        return new Reading(readings.found, strictlyReadable && !readings.overlong);
    }

    private static Set<String> withOtherEightBitReading(String text) {
        Set<String> forms = new LinkedHashSet<>();
        forms.add(text);
        otherEightBitReading(text).ifPresent(forms::add);
        return forms;
    }

    /**
     * jakarta.mail's reading, groups expanded ({@code Board:ceo@a.example;} is one "address" whose text ends in
     * "a.example;" until its group is opened). True when it read at least one mailbox and each has a domain.
     */
    private boolean jakarta(String value, boolean strict) {
        boolean read = jakarta(() -> InternetAddress.parseHeader(value, strict), strict);
        if (!strict) {
            jakarta(() -> InternetAddress.parse(value, false), false);
        }
        return read;
    }

    private interface AddressParse {
        InternetAddress[] parse() throws AddressException;
    }

    private boolean jakarta(AddressParse parse, boolean strict) {
        boolean complete = true;
        int mailboxes = 0;
        try {
            for (InternetAddress a : parse.parse()) {
                InternetAddress[] members = a.isGroup() ? a.getGroup(strict) : new InternetAddress[] {a};
                for (InternetAddress m : members == null ? new InternetAddress[0] : members) {
                    mailboxes++;
                    complete &= addressDomain(m.getAddress());
                }
            }
        } catch (AddressException | RuntimeException e) {
            return false;
        }
        return complete && mailboxes > 0;
    }

    /** mime4j's reading (DefaultAddressParser is strict, LenientAddressParser what James's mailbox uses). */
    private boolean mime4j(String value, boolean strict) {
        try {
            String text = withKnownCharsets(value);
            AddressList list = strict ? DefaultAddressParser.DEFAULT.parseAddressList(text)
                    : LenientAddressParser.DEFAULT.parseAddressList(text);
            boolean complete = true;
            int mailboxes = 0;
            for (Mailbox m : list.flatten()) {
                mailboxes++;
                String domain = m.getDomain();
                if (domain == null || domain.isBlank()) {
                    complete = false;
                } else {
                    addParsed(domain);
                }
            }
            return complete && mailboxes > 0;
        } catch (org.apache.james.mime4j.field.address.ParseException | RuntimeException e) {
            return false;
        } catch (Error e) {
            return mime4jDecodingError(e);
        }
    }

    /**
     * mime4j's DecoderUtil wraps the IOException of a badly padded base64 encoded word ({@code =?utf-8?b?=QQA?=})
     * in a plain {@link Error} (0.8.9 and 0.8.13): that one is a parse failure; any other Error is rethrown.
     */
    static boolean mime4jDecodingError(Error e) {
        if (e.getClass() != Error.class) {
            throw e;
        }
        return false;
    }

    private boolean addressDomain(String address) {
        int at = address == null ? -1 : address.lastIndexOf('@');
        if (at < 0 || at == address.length() - 1) {
            return false;
        }
        addParsed(address.substring(at + 1));
        return true;
    }

    /** A domain a parser returned, as it is and with NFKC and the IDNA dots applied. */
    private void addParsed(String domain) {
        String d = domain.strip();
        add(d);
        add(idnaDots(Normalizer.normalize(d, Normalizer.Form.NFKC)));
    }

    private void add(String rawDomain) {
        if (rawDomain.length() > MAX_DOMAIN_CHARS) {
            overlong = true;
            return;
        }
        normalised.computeIfAbsent(rawDomain, FromReadings::normalDomain).ifPresent(found::add);
    }

    /**
     * The raw scan: {@code @} followed by a domain, in every reading of the text a mail client might make. Each
     * variant is a superset reading (it can only add domains), so their union fails closed.
     */
    private void scan(String text) {
        Set<String> variants = new LinkedHashSet<>();
        // encoded words decoded as a reader that keeps the whitespace between them, and as RFC 2047 displays them:
        // each word alone (policy.default), and adjacent words of one charset as one (email.header.decode_header)
        String adjacent = BETWEEN_ENCODED_WORDS.matcher(text).replaceAll("");
        for (String t : new LinkedHashSet<>(List.of(text, decodeEncodedWords(text), decodeEncodedWords(adjacent),
                decodeAdjacentWordsTogether(text)))) {
            if (!mayHoldAt(t)) {
                continue;
            }
            Set<String> shown = new LinkedHashSet<>();
            shown.add(t);
            if (!t.chars().allMatch(c -> c < 0x80)) {
                // what a reader sees: without the characters that render as nothing, and in display order
                shown.add(withoutIgnorables(t));
                char[] chars = t.toCharArray();
                if (Bidi.requiresBidi(chars, 0, chars.length)) {
                    shown.add(withoutIgnorables(visualOrder(t, Bidi.DIRECTION_LEFT_TO_RIGHT)));
                    shown.add(withoutIgnorables(visualOrder(t, Bidi.DIRECTION_RIGHT_TO_LEFT)));
                }
            }
            Set<String> forms = new LinkedHashSet<>();
            for (String v : shown) {
                forms.add(v);
                if (!v.chars().allMatch(c -> c < 0x80)) {
                    forms.add(idnaDots(Normalizer.normalize(v, Normalizer.Form.NFKC)));
                }
            }
            for (String n : forms) {
                variants.add(withoutComments(n));
                variants.add(n);
            }
        }
        for (String v : variants) {
            for (boolean dropControls : new boolean[] {true, false}) {
                domainsAfterAt(v, dropControls, false);
                domainsAfterAt(v, dropControls, true);
            }
        }
    }

    /**
     * The text without Unicode's Default_Ignorable_Code_Point characters (DerivedCoreProperties.txt): format
     * characters, bidi controls, fillers, variation selectors and tags, which a mail client renders as nothing, so
     * that {@code "ceo@a.example<U+200F>"} reads as the partner's address it shows. Linear.
     */
    static String withoutIgnorables(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().filter(cp -> !ignorable(cp)).forEach(out::appendCodePoint);
        return out.toString();
    }

    private static boolean ignorable(int cp) {
        return cp == 0x00AD || cp == 0x034F || cp == 0x061C || cp == 0x115F || cp == 0x1160 || cp == 0x17B4
                || cp == 0x17B5 || (cp >= 0x180B && cp <= 0x180F) || (cp >= 0x200B && cp <= 0x200F)
                || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0x3164
                || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || cp == 0xFFA0 || (cp >= 0xFFF0 && cp <= 0xFFF8)
                || (cp >= 0x1BCA0 && cp <= 0x1BCA3) || (cp >= 0x1D173 && cp <= 0x1D17A) || (cp >= 0xE0000 && cp <= 0xE0FFF);
    }

    /**
     * The text in the order a reader sees it (the Unicode bidi algorithm, java.text.Bidi, with the given paragraph
     * direction): an override or right-to-left marks can show {@code ceo@a.example} for other text. Linear.
     */
    static String visualOrder(String s, int paragraphDirection) {
        Bidi bidi = new Bidi(s, paragraphDirection);
        int runs = bidi.getRunCount();
        byte[] levels = new byte[runs];
        Integer[] order = new Integer[runs];
        for (int r = 0; r < runs; r++) {
            levels[r] = (byte) bidi.getRunLevel(r);
            order[r] = r;
        }
        Bidi.reorderVisually(levels, 0, order, 0, runs);
        StringBuilder out = new StringBuilder(s.length());
        for (int r : order) {
            String run = s.substring(bidi.getRunStart(r), bidi.getRunLimit(r));
            out.append((bidi.getRunLevel(r) & 1) == 0 ? run : new StringBuilder(run).reverse());
        }
        return out.toString();
    }

    /** {@code @}, or a character NFKC maps to it (full-width and small commercial at). */
    private static boolean mayHoldAt(String t) {
        return t.indexOf('@') >= 0 || t.indexOf('\uFF20') >= 0 || t.indexOf('\uFE6B') >= 0;
    }

    /**
     * Text whose chars are all bytes (jakarta.mail's default reading of a header): its UTF-8 reading (RFC 6532
     * header); text with chars beyond one byte: its UTF-8 bytes one char per byte.
     */
    private static Optional<String> otherEightBitReading(String text) {
        boolean high = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c > 0xFF) {
                return Optional.of(new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1));
            }
            high |= c >= 0x80;
        }
        if (!high) {
            return Optional.empty();
        }
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1))).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /** Every encoded word decoded wherever it stands (Python's email decodes them inside addresses too). */
    static String decodeEncodedWords(String text) {
        Matcher m = ENCODED_WORD.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(decodeWord(m.group(1), m.group(2).charAt(0), m.group(3))));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * The text as email.header.decode_header reads it: whitespace between two encoded words dropped, and the bytes of
     * adjacent words of one charset label joined before decoding, so that a character or a UTF-7 shifted run cut
     * between two words is whole again; an encoded word's text may hold "?".
     */
    static String decodeAdjacentWordsTogether(String text) {
        Matcher m = PYTHON_ENCODED_WORD.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        String runCharset = null;
        int last = 0;
        while (m.find()) {
            String charset = m.group(1).toLowerCase(Locale.ROOT);
            boolean betweenWords = runCharset != null && allSpace(text, last, m.start());
            if (runCharset != null && !(betweenWords && charset.equals(runCharset))) {
                out.append(decodeBytes(runCharset, run.toByteArray()));
                run.reset();
            }
            if (!betweenWords) {
                out.append(text, last, m.start());
            }
            run.writeBytes(lenientBytes(m.group(2).charAt(0), m.group(3)));
            runCharset = charset;
            last = m.end();
        }
        if (runCharset != null) {
            out.append(decodeBytes(runCharset, run.toByteArray()));
        }
        return out.append(text, last, text.length()).toString();
    }

    /** Whether text[from, to) is empty or whitespace only (Python's str.isspace, nearly). */
    private static boolean allSpace(String text, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Character.isWhitespace(text.charAt(i)) && !Character.isSpaceChar(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * One encoded word, decoded leniently: what a strict decoder refuses (an unknown charset, a bad Q escape,
     * base64 without padding) another reader decodes anyway.
     */
    private static String decodeWord(String charset, char encoding, String encoded) {
        return decodeBytes(charset, lenientBytes(encoding, encoded));
    }

    /**
     * The bytes in the charset Python's email reads the label as, else the JDK's charset of that name, else
     * ISO-8859-1 (Python uses ASCII). Not MimeUtility.decodeWord: in jakarta.mail 2.x each call looks its stream
     * provider up on the class path.
     */
    private static String decodeBytes(String charset, byte[] bytes) {
        String name = withoutLanguage(charset);
        Optional<Function<byte[], String>> python = PythonCodecs.decoder(name);
        return python.isPresent() ? python.get().apply(bytes)
                : new String(bytes, CHARSETS.getOrDefault(name, StandardCharsets.ISO_8859_1));
    }

    /** A MIME charset name without its RFC 2231 language suffix, lower case. */
    private static String withoutLanguage(String mimeName) {
        int star = mimeName.indexOf('*');
        return (star >= 0 ? mimeName.substring(0, star) : mimeName).toLowerCase(Locale.ROOT);
    }

    /**
     * The text with every encoded word whose charset label is not a name this JVM knows relabelled ISO-8859-1.
     * For mime4j, which decodes display names while it parses and looks each charset name up: an unknown name
     * costs a search of the whole class path (hundreds of microseconds on James), every time. Only display
     * names decode differently; the addresses are read the same.
     */
    static String withKnownCharsets(String text) {
        if (!text.contains("=?")) {
            return text;
        }
        Matcher m = ENCODED_WORD.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            String word = CHARSETS.containsKey(m.group(1).toLowerCase(Locale.ROOT)) ? m.group()
                    : "=?iso-8859-1?" + m.group(2) + "?" + m.group(3) + "?=";
            m.appendReplacement(out, Matcher.quoteReplacement(word));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static byte[] lenientBytes(char encoding, String encoded) {
        if (encoding == 'b' || encoding == 'B') {
            return base64(encoded.replaceAll("[^A-Za-z0-9+/]", ""));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < encoded.length(); i++) {
            char c = encoded.charAt(i);
            if (c == '_') {
                out.write(' ');
            } else if (c == '=' && i + 2 < encoded.length() && hex(encoded.charAt(i + 1)) >= 0 && hex(encoded.charAt(i + 2)) >= 0) {
                out.write(hex(encoded.charAt(i + 1)) * 16 + hex(encoded.charAt(i + 2)));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toByteArray();
    }

    /** Base64 without padding; a lone last character encodes no byte and is dropped. */
    static byte[] base64(String b64) {
        return Base64.getDecoder().decode(b64.length() % 4 == 1 ? b64.substring(0, b64.length() - 1) : b64);
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }

    /** UTS 46 maps these to the full stop; NFKC does not map U+3002. */
    private static String idnaDots(String s) {
        return s.replace('\u3002', '.').replace('\uFF0E', '.').replace('\uFF61', '.');
    }

    /** RFC 5322 comments removed (nested, with quoted-pairs); an unclosed comment runs to the end. */
    static String withoutComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int depth = 0;
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                if (depth == 0) {
                    out.append(c).append(s.charAt(i + 1));
                }
                i++;
            } else if (c == '"' && depth == 0) {
                quoted = !quoted;
                out.append(c);
            } else if (c == '(' && !quoted) {
                depth++;
            } else if (c == ')' && depth > 0) {
                depth--;
            } else if (depth == 0) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Domains after each {@code @} in a skeleton of the text: backslashes and brackets dropped, whitespace next to
     * {@code .} or {@code @} dropped; controls dropped or (the other variant) ending a domain; quotes dropped or
     * (the other variant) ending a domain that does not start with them. Each domain is taken twice: up to the first
     * whitespace, and with the whitespace up to the next delimiter dropped.
     */
    private void domainsAfterAt(String text, boolean dropControls, boolean quotesEnd) {
        StringBuilder kept = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' || c == '[' || c == ']' || (c == '"' && !quotesEnd) || (dropControls && control(c))) {
                continue;
            }
            kept.append(c);
        }
        String s = withoutSpaceAroundDotsAndAt(kept);
        int at = s.indexOf('@');
        while (at >= 0) {
            // whitespace ends the domain; and (Python's getaddresses) whitespace inside it is dropped
            StringBuilder joined = new StringBuilder();
            int end = at + 1;
            while (end < s.length() && s.charAt(end) == '"') {
                end++;
            }
            boolean spaceSeen = false;
            while (end < s.length() && !endsDomainBesidesSpace(s.charAt(end))) {
                char c = s.charAt(end);
                if (space(c)) {
                    if (!spaceSeen && !joined.isEmpty()) {
                        add(joined.toString());
                    }
                    spaceSeen = true;
                } else {
                    joined.append(c);
                }
                end++;
            }
            if (!spaceSeen || joined.length() <= MAX_DOMAIN_CHARS) {
                add(joined.toString()); // joined across whitespace and that long: free text after an address
            }
            at = s.indexOf('@', at + 1);
        }
    }

    private static String withoutSpaceAroundDotsAndAt(CharSequence s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (!space(c)) {
                out.append(c);
                i++;
                continue;
            }
            int runEnd = i;
            while (runEnd < s.length() && space(s.charAt(runEnd))) {
                runEnd++;
            }
            char before = out.isEmpty() ? ' ' : out.charAt(out.length() - 1);
            char after = runEnd < s.length() ? s.charAt(runEnd) : ' ';
            if (before != '.' && before != '@' && after != '.' && after != '@') {
                out.append(' ');
            }
            i = runEnd;
        }
        return out.toString();
    }

    private static boolean space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || Character.isSpaceChar(c);
    }

    private static boolean control(char c) {
        return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || (c >= 0x7F && c < 0xA0);
    }

    private static boolean endsDomainBesidesSpace(char c) {
        return control(c) || c == '"' || DOMAIN_ENDS.indexOf(c) >= 0;
    }

    /** Lower case, A-labels, no trailing dot; empty when nothing domain-like is left. */
    static Optional<String> normalDomain(String raw) {
        String d = raw;
        while (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1);
        }
        if (d.isEmpty()) {
            return Optional.empty();
        }
        if (d.chars().allMatch(c -> c < 0x80)) {
            return Optional.of(d.toLowerCase(Locale.ROOT)); // what IDN.toASCII gives for ASCII, lower-cased
        }
        try {
            return Optional.of(IDN.toASCII(d, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT));
        } catch (RuntimeException e) {
            return Optional.of(d.toLowerCase(Locale.ROOT));
        }
    }
}
