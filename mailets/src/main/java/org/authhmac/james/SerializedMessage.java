package org.authhmac.james;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Enumeration;

/**
 * A message written out once into a buffer sized from the message itself (its header lines plus its content size),
 * and read back in place: a 50 MB mail costs about 50 MB, not the 2-4 times a growing buffer and its final copy
 * cost. The message is its first {@link #size()} bytes of {@link #buffer()}.
 */
public final class SerializedMessage extends ByteArrayOutputStream {
    /** Room for what writing may add (a MIME-Version or Content-Transfer-Encoding field) without regrowing. */
    static final int SLACK = 1024;
    /** When the content size is unknown: start small, grow as usual. */
    static final int UNKNOWN = 64 * 1024;

    private SerializedMessage(int size) {
        super(size);
    }

    public static SerializedMessage of(MimeMessage message) throws MessagingException, IOException {
        SerializedMessage out = new SerializedMessage(expectedSize(message));
        writeBack(() -> message.writeTo(out));
        return out;
    }

    /** A step that makes JavaMail write or re-encode the MIME structure. */
    @FunctionalInterface
    public interface WriteBack {
        void run() throws MessagingException, IOException;
    }

    /**
     * Runs a step that makes JavaMail walk the MIME structure (writing it back, re-encoding it), turning what that
     * walk throws on a structure it cannot handle into a {@link MessagingException} without cause, a permanent
     * verdict: JavaMail walks MIME recursively, so a multipart nested thousands of levels deep overflows the stack
     * (a StackOverflowError, or an IllegalStateException when the overflow hits a service lookup), which would
     * otherwise escape every catch and be retried until a bound. An {@link UncheckedIOException} stays what it is:
     * reading the stored message failed, which may pass.
     */
    public static void writeBack(WriteBack step) throws MessagingException, IOException {
        try {
            step.run();
        } catch (UncheckedIOException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            throw new MessagingException("the message's MIME structure cannot be written back: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
    }

    /** The buffer itself, not a copy. */
    public byte[] buffer() {
        return buf;
    }

    /** Header lines as JavaMail holds them (each plus CRLF), the empty line, the content, and a little slack. */
    public static int expectedSize(MimeMessage message) throws MessagingException {
        long content = message.getSize();
        if (content < 0) {
            return UNKNOWN;
        }
        long headers = 2;
        Enumeration<String> lines = message.getAllHeaderLines();
        while (lines.hasMoreElements()) {
            headers += lines.nextElement().length() + 2L;
        }
        return (int) Math.min(headers + content + SLACK, Integer.MAX_VALUE - 16);
    }
}
