package org.authhmac.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
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
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** Runs at least this long skip the output buffer and go straight into the digest. */
    private static final int DIRECT_RUN = 512;

    private final byte[] out = new byte[1024];
    private int outLen;
    private long pendingEmptyLines;
    private boolean pendingWsp;
    private boolean lineHasContent;
    private boolean pendingCr;
    private boolean anyOutput;
    private boolean finished;

    /**
     * A fresh SHA-256 that is only ever cloned, never updated, so threads may share it: a clone costs less than
     * MessageDigest.getInstance's provider lookup, once per message.
     */
    private static final MessageDigest SHA256 = sha256();

    BodyCanonicalizer(Canonicalization canonicalization) {
        this.relaxed = canonicalization == Canonicalization.RELAXED;
        MessageDigest d;
        try {
            d = (MessageDigest) SHA256.clone();
        } catch (CloneNotSupportedException e) {
            d = sha256();
        }
        this.digest = d;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    void update(byte[] buf, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end) {
            if (!pendingCr) {
                // Most bytes pass unchanged: a run of them is found with one test per byte and copied in bulk,
                // instead of walking the state machine per byte.
                int j = runEnd(buf, i, end);
                if (j > i) {
                    contentRun(buf, i, j - i);
                    i = j;
                    if (i == end) {
                        break;
                    }
                }
            }
            accept(buf[i++]);
        }
    }

    /**
     * The end of the run of bytes from {@code i} that canonicalization leaves as they are: no CR or LF except a CRLF
     * between content and content, and for relaxed no TAB and no SP except a single SP between two such bytes
     * (relaxed keeps that one unchanged).
     * The run starts with a byte that is not WSP, so that a WSP held back before it is still emitted exactly once.
     */
    private int runEnd(byte[] buf, int i, int end) {
        int j = i;
        while (j < end) {
            // Eight bytes at a time while none of them is a control character or SP (base64 lines, long words);
            // for relaxed, single SPs between words too (prose).
            j = relaxed ? skipPlainWords(buf, i, j, end) : skipPlain(buf, j, end);
            if (j == end) {
                break;
            }
            byte b = buf[j];
            if (b > SP || b < 0) {
                j++;
            } else if (b == CR && j > i && j + 2 < end && buf[j + 1] == LF && startsLine(buf[j + 2])) {
                // CRLF after content and before more content is output as it is (what both algorithms change is
                // around empty lines and, for relaxed, WSP): the run goes on across line ends.
                j += 3;
            } else if (!relaxed) {
                if (b == CR || b == LF) {
                    break;
                }
                j++;
            } else if (b == SP && j > i && j + 1 < end && plain(buf[j + 1])) {
                j += 2;
            } else if (b == SP || b == TAB || b == CR || b == LF) {
                break;
            } else {
                j++;
            }
        }
        return j;
    }

    /**
     * For relaxed: from {@code j}, skips whole eight-byte words in which every byte is above 0x20 or is an SP
     * followed by a byte above 0x20 inside the same word (a single SP between content, which relaxed keeps), and
     * not an SP at the run start {@code i}. It stops at or before the first byte that is not so (the SWAR tests
     * flag every true match and only add false ones, which stop it early), and {@link #runEnd} decides from there
     * byte by byte; so the result is the same as walking byte by byte, only faster on prose.
     */
    private static int skipPlainWords(byte[] buf, int i, int j, int end) {
        int limit = end - 8;
        while (j <= limit) {
            long x = (long) LONGS.get(buf, j);
            long ctrl = (x - 0x2020202020202020L) & ~x & 0x8080808080808080L;
            long y = x ^ 0x2020202020202020L;
            long sp = (y - 0x0101010101010101L) & ~y & 0x8080808080808080L;
            if ((ctrl | sp) != 0) {
                // An SP is fine only when the next byte (in this word) is neither SP nor a control character.
                long bad = ctrl | (sp & (((sp | ctrl) >>> 8) | 0x8000000000000000L));
                if (j == i) {
                    bad |= sp & 0x80L;
                }
                if (bad != 0) {
                    return j + (Long.numberOfTrailingZeros(bad) >>> 3);
                }
            }
            j += 8;
        }
        return j;
    }

    /**
     * The first index from {@code j} whose byte is at most 0x20, or {@code end}. Eight bytes per step; the lowest
     * flagged byte of the SWAR test is always a true one (a borrow only runs upwards from a byte below 0x21), so
     * the step lands on it exactly instead of walking the last bytes one by one. A small method of its own so that
     * C2 compiles the loop tightly.
     */
    private static int skipPlain(byte[] buf, int j, int end) {
        int limit = end - 8;
        while (j <= limit) {
            long x = (long) LONGS.get(buf, j);
            long m = (x - 0x2121212121212121L) & ~x & 0x8080808080808080L;
            if (m != 0) {
                return j + (Long.numberOfTrailingZeros(m) >>> 3);
            }
            j += 8;
        }
        while (j < end && (buf[j] > SP || buf[j] < 0)) {
            j++;
        }
        return j;
    }

    /** Whether a line starting with this byte starts with content that the run may take as it is. */
    private boolean startsLine(byte b) {
        return relaxed ? plain(b) : b != CR && b != LF;
    }

    /** Neither a line-end byte nor WSP. */
    private static boolean plain(byte b) {
        return b != SP && b != TAB && b != CR && b != LF;
    }

    /** A run {@link #runEnd} found, with the effect {@link #accept} would have byte by byte. */
    private void contentRun(byte[] buf, int off, int len) {
        startContent();
        if (pendingWsp) {
            pendingWsp = false;
            emit(SP);
        }
        anyOutput = true;
        if (len >= DIRECT_RUN) {
            flush();
            digest.update(buf, off, len);
            return;
        }
        if (outLen + len > out.length) {
            flush();
        }
        System.arraycopy(buf, off, out, outLen, len);
        outLen += len;
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
