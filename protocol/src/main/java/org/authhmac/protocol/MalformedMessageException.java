package org.authhmac.protocol;

import java.io.IOException;

/**
 * The bytes are not an RFC 5322 message this implementation can sign or verify: the header block is larger
 * than the configured bound, a header line has no colon, or the message cannot be signed as it stands
 * (no From, two From). It is an {@link IOException} because it is a property of the input, like a short read.
 */
public class MalformedMessageException extends IOException {
    public MalformedMessageException(String message) {
        super(message);
    }
}
