package org.authhmac.protocol;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Streaming body canonicalization (RFC 6376 §3.4.3 simple, §3.4.4 relaxed) straight into SHA-256.
 * A bare LF is read as CRLF first. Trailing empty lines are counted, not buffered, so memory stays constant
 * whatever the body; canonical bytes go through one fixed buffer, so nothing is allocated per byte.
 */
final class BodyCanonicalizer {
    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte SP = ' ';
    private static final byte TAB = '\t';

    private final boolean relaxed;
    private final MessageDigest digest;
    private final byte[] out = new byte[8192];
    private int outLen;
    private long pendingEmptyLines;
    private boolean pendingWsp;
    private boolean lineHasContent;
    private boolean pendingCr;
    private boolean anyOutput;
    private boolean finished;

    BodyCanonicalizer(Canonicalization canonicalization) {
        this.relaxed = canonicalization == Canonicalization.RELAXED;
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    void update(byte[] buf, int off, int len) {
        for (int i = off, end = off + len; i < end; i++) {
            accept(buf[i]);
        }
    }

    /** The SHA-256 of the canonical body; the canonicalizer cannot be used afterwards. */
    byte[] finish() {
        if (finished) {
            throw new IllegalStateException("already finished");
        }
        finished = true;
        if (pendingCr) {
            pendingCr = false;
            content(CR);
        }
        if (pendingWsp) {
            // Relaxed strips WSP only before a CRLF; an unterminated last line is not a line yet when step (a)
            // runs, so its trailing WSP stays (as one SP) and step (b) adds the CRLF. jDKIM and dkimpy agree.
            pendingWsp = false;
            startContent();
            emit(SP);
        }
        if (lineHasContent) {
            // A body that does not end in CRLF gets one (both algorithms).
            emit(CR);
            emit(LF);
        }
        if (!relaxed && !anyOutput) {
            // Simple: an empty body (or one made only of empty lines) is a single CRLF.
            emit(CR);
            emit(LF);
        }
        flush();
        return digest.digest();
    }

    private void accept(byte c) {
        if (pendingCr) {
            pendingCr = false;
            if (c == LF) {
                endLine();
                return;
            }
            content(CR);
        }
        if (c == CR) {
            pendingCr = true;
        } else if (c == LF) {
            endLine();
        } else {
            content(c);
        }
    }

    private void content(byte c) {
        if (relaxed && (c == SP || c == TAB)) {
            // Runs of WSP become one SP, and only if something follows on the same line.
            pendingWsp = true;
            return;
        }
        startContent();
        if (pendingWsp) {
            pendingWsp = false;
            emit(SP);
        }
        emit(c);
    }

    /** The current line is not empty after all: the empty lines held back before it count. */
    private void startContent() {
        if (!lineHasContent) {
            lineHasContent = true;
            for (; pendingEmptyLines > 0; pendingEmptyLines--) {
                emit(CR);
                emit(LF);
            }
        }
    }

    private void endLine() {
        if (lineHasContent) {
            emit(CR);
            emit(LF);
        } else {
            // Empty lines are held back: they count only if non-empty content follows.
            pendingEmptyLines++;
        }
        lineHasContent = false;
        pendingWsp = false;
    }

    private void emit(byte b) {
        if (outLen == out.length) {
            flush();
        }
        out[outLen++] = b;
        anyOutput = true;
    }

    private void flush() {
        digest.update(out, 0, outLen);
        outLen = 0;
    }
}
