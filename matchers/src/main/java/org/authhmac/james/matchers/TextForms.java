package org.authhmac.james.matchers;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Bidi;
import java.text.Normalizer;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The forms in which a mail client may show a From field's text: encoded words decoded, characters that render as
 * nothing dropped, bidi reordering, NFKC with the IDNA dots, comments removed, the other 8-bit reading.
 */
final class TextForms {

    private TextForms() {
    }

    /** Every form of the text the From scan looks for {@code @} in (only forms that may hold one). */
    static Set<String> scanned(String text) {
        Set<String> variants = new LinkedHashSet<>();
        // encoded words decoded as a reader that keeps the whitespace between them, and as RFC 2047 displays them:
        // each word alone (policy.default), and adjacent words of one charset as one (email.header.decode_header)
        String adjacent = EncodedWords.BETWEEN_ENCODED_WORDS.matcher(text).replaceAll("");
        for (String t : new LinkedHashSet<>(List.of(text, EncodedWords.decodeEncodedWords(text), EncodedWords.decodeEncodedWords(adjacent),
                EncodedWords.decodeAdjacentWordsTogether(text)))) {
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
                    forms.add(nfkc(v));
                }
            }
            for (String n : forms) {
                variants.add(withoutComments(n));
                variants.add(n);
            }
        }
        return variants;
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
    static Optional<String> otherEightBitReading(String text) {
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

    /** NFKC with the IDNA dots mapped. */
    static String nfkc(String s) {
        return idnaDots(Normalizer.normalize(s, Normalizer.Form.NFKC));
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
}
