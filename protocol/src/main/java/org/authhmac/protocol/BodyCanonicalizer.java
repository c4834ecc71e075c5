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
                // Most bytes pass unchanged: a run of them is found with few tests per byte and copied in bulk,
                // instead of walking the state machine per byte.
                if (relaxed) {
                    if (plain(buf[i])) {
                        i = relaxedRun(buf, i, end);
                        if (i == end) {
                            break;
                        }
                    }
                } else {
                    int j = runEnd(buf, i, end);
                    if (j > i) {
                        contentRun(buf, i, j - i);
                        i = j;
                        if (i == end) {
                            break;
                        }
                    }
                }
            }
            accept(buf[i++]);
        }
    }

    /**
     * Relaxed, from a content byte at {@code i} (no CR pending): outputs what {@link #accept} would output byte by
     * byte, as segments of the input, and handles inline what prose is made of: a single SP between words (kept),
     * other WSP runs inside a line (one SP), WSP before a CRLF (dropped), a CRLF and empty lines before more content
     * (kept as they are). Returns the index of the first byte it leaves to the state machine, or {@code end}; the
     * byte before it is always content of the current line, so the state then is what accept's would be.
     */
    private int relaxedRun(byte[] buf, int i, int end) {
        beforeContent();
        anyOutput = true;
        int seg = i;
        int j = i + 1;
        while (true) {
            j = skipWords(buf, j, end);
            if (j >= end) {
                j = end;
                break;
            }
            byte b = buf[j];
            if (b > SP || b < 0) {
                // The word test stops early at some bytes that need nothing; step over them.
                j++;
                continue;
            }
            if (b == SP || b == TAB) {
                int k = j + 1;
                while (k < end && (buf[k] == SP || buf[k] == TAB)) {
                    k++;
                }
                if (k == end) {
                    break;
                }
                byte c = buf[k];
                if (c != CR && c != LF) {
                    // WSP inside a line: one SP. A single SP stays in the segment as it is.
                    if (b == SP) {
                        if (k == j + 1) {
                            j = k;
                            continue;
                        }
                        segment(buf, seg, j + 1);
                    } else {
                        segment(buf, seg, j);
                        emit(SP);
                    }
                    seg = k;
                    j = k;
                    continue;
                }
                if (c != CR || k + 1 == end || buf[k + 1] != LF) {
                    break;
                }
                // WSP before a CRLF is dropped; the CRLF is taken below.
                segment(buf, seg, j);
                seg = k;
                j = k;
                b = CR;
            }
            if (b == CR && j + 1 < end && buf[j + 1] == LF) {
                // A CRLF after content, then any empty lines, then content: all output as they are.
                int k = j + 2;
                while (k + 1 < end && buf[k] == CR && buf[k + 1] == LF) {
                    k += 2;
                }
                if (k < end && plain(buf[k])) {
                    j = k + 1;
                    continue;
                }
                break;
            }
            if (b == CR && j + 1 < end && buf[j + 1] != LF) {
                // A bare CR is content, unchanged: a body of them stays on this path, not byte by byte.
                j++;
                continue;
            }
            if (b == CR || b == LF) {
                break;
            }
            // Other control characters are content, unchanged.
            j++;
        }
        segment(buf, seg, j);
        return j;
    }

    /**
     * For relaxed: the first index from {@code j} that may need work: a byte at most SP, except an SP followed by a
     * byte above SP (a single SP between words, which relaxed keeps) and a CR not followed by LF (a bare CR, content).
     * Eight bytes per step, with the next byte of each from a second load one byte further; the SWAR tests flag every
     * true match and add false ones only just above a true one: '!' above an SP (so an SP may be taken for one
     * before a word: a stop too many), FF above a CR (taken for a bare CR and stepped over: FF is content, which
     * needs nothing) and VT above an LF (so a bare CR before it may be taken for a CRLF: a stop too many). It may stop
     * early at a byte that needs nothing (the caller steps over it) but never skips one that does.
     */
    private static int skipWords(byte[] buf, int j, int end) {
        int limit = end - 9;
        while (j <= limit) {
            long x = (long) LONGS.get(buf, j);
            long le = (x - 0x2121212121212121L) & ~x & 0x8080808080808080L;
            if (le != 0) {
                long z = x ^ 0x2020202020202020L;
                long sp = (z - 0x0101010101010101L) & ~z & 0x8080808080808080L;
                long y = (long) LONGS.get(buf, j + 1);
                long leNext = (y - 0x2121212121212121L) & ~y & 0x8080808080808080L;
                long r = x ^ 0x0D0D0D0D0D0D0D0DL;
                long cr = (r - 0x0101010101010101L) & ~r & 0x8080808080808080L;
                long n = y ^ 0x0A0A0A0A0A0A0A0AL;
                long lfNext = (n - 0x0101010101010101L) & ~n & 0x8080808080808080L;
                long bad = (le & ~sp & ~(cr & ~lfNext)) | (sp & leNext);
                if (bad != 0) {
                    return j + (Long.numberOfTrailingZeros(bad) >>> 3);
                }
            }
            j += 8;
        }
        while (j < end && (buf[j] > SP || buf[j] < 0)) {
            j++;
        }
        return j;
    }

    /** Outputs {@code buf[from, to)} as it is. */
    private void segment(byte[] buf, int from, int to) {
        int len = to - from;
        if (len >= DIRECT_RUN) {
            flush();
            digest.update(buf, from, len);
        } else if (len > 0) {
            if (outLen + len > out.length) {
                flush();
            }
            System.arraycopy(buf, from, out, outLen, len);
            outLen += len;
        }
    }

    /**
     * Simple: the end of the run of bytes from {@code i} that canonicalization leaves as they are: no CR or LF except
     * a CRLF between content and content.
     */
    private int runEnd(byte[] buf, int i, int end) {
        int j = i;
        while (j < end) {
            // Eight bytes at a time while none of them is a control character or SP (base64 lines, long words).
            j = skipPlain(buf, j, end);
            if (j == end) {
                break;
            }
            byte b = buf[j];
            if (b == CR && j > i && j + 2 < end && buf[j + 1] == LF && buf[j + 2] != CR && buf[j + 2] != LF) {
                // CRLF after content and before more content is output as it is (what simple changes is only
                // around empty lines): the run goes on across line ends.
                j += 3;
            } else if (b == CR && j + 1 < end && buf[j + 1] != LF) {
                // A bare CR is content, unchanged.
                j++;
            } else if (b == CR || b == LF) {
                break;
            } else {
                j++;
            }
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

    /** Neither a line-end byte nor WSP. */
    private static boolean plain(byte b) {
        return b != SP && b != TAB && b != CR && b != LF;
    }

    /** A run {@link #runEnd} found, with the effect {@link #accept} would have byte by byte. */
    private void contentRun(byte[] buf, int off, int len) {
        beforeContent();
        anyOutput = true;
        segment(buf, off, off + len);
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
        beforeContent();
        emit(c);
    }

    /** Content begins here: the empty lines held back, then the SP a pending WSP run stands for, are output first. */
    private void beforeContent() {
        startContent();
        if (pendingWsp) {
            pendingWsp = false;
            emit(SP);
        }
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
