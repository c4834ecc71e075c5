package org.authhmac.james;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The other reading of an 8-bit header field: jakarta.mail reads raw header bytes one char per byte, so a UTF-8
 * display name arrives as Latin-1 text. The signer's From rule and the verifier's partner claim both check this
 * reading too, so that a full-width {@code @} in a raw UTF-8 display name is seen by both alike.
 */
public final class Utf8Reading {
    private Utf8Reading() {
    }

    /** The text's chars as bytes, read again as strict UTF-8; the text itself when it is not such a reading. */
    public static String of(String text) {
        byte[] bytes = new byte[text.length()];
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c > 0xFF) {
                return text;
            }
            bytes[i] = (byte) c;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return text;
        }
    }
}
