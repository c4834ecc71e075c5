package org.authhmac.protocol.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.junit.jupiter.api.Test;

/**
 * Any one-byte change in the body or in a signed header field gives fail. Not sampled: every byte position
 * of the body and of every field named in h=, each replaced by all 255 other byte values, is verified.
 * A change that breaks the message's structure (a header line losing its colon, a new field name with a
 * control character) is a permerror malformed instead; that is not a pass either, and it is counted apart.
 */
class OneByteChangePropertyTest {
    static final String MESSAGE = String.join("\r\n",
            "From: Alice <alice@a.example>",
            "To: Bob <bob@b.example>",
            "Subject: Figures",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <1@a.example>",
            "",
            "Hello Bob,",
            "see you.",
            "");

    record Outcome(int changes, int fails, int malformed, List<String> passes) {
    }

    /**
     * Under simple/simple, the protocol itself makes exactly one single-byte change invisible: the CR of the
     * body's last CRLF turned into LF gives "...\n\n", read as CRLF CRLF, and a trailing empty line is not part
     * of the canonical body (docs/PROTOCOL.md 4.1, 4.2). Every other change fails.
     */
    @Test
    void everyOneByteChangeUnderSimpleFailsExceptTheDocumentedTrailingLineEnd() throws Exception {
        byte[] signed = FuzzFixtures.signed(FuzzFixtures.signer(Canonicalization.SIMPLE, Canonicalization.SIMPLE), bytes(MESSAGE));

        Outcome o = changeEveryByte(signed, all());
        System.out.println("simple: " + o);

        int lastCr = signed.length - 2;
        assertThat(o.passes()).containsExactly("offset " + lastCr + ": 0x0d -> 0x0a");
        assertThat(o.changes()).isEqualTo(positions(signed).size() * 255);
        assertThat(o.fails() + o.malformed() + o.passes().size()).isEqualTo(o.changes());
    }

    /**
     * Under relaxed/relaxed, changes among WSP, line ends and the case of header names are invisible by design;
     * every change of a byte that is none of these into another byte that is none of these fails.
     */
    @Test
    void everyOneByteChangeOfVisibleContentUnderRelaxedFails() throws Exception {
        byte[] signed = FuzzFixtures.signed(FuzzFixtures.signer(Canonicalization.RELAXED, Canonicalization.RELAXED), bytes(MESSAGE));

        Outcome o = changeEveryByte(signed, visible());
        System.out.println("relaxed: " + o);

        assertThat(o.passes()).isEmpty();
        assertThat(o.fails()).isPositive();
    }

    private interface ByteFilter {
        boolean test(byte[] message, int offset, int newValue);
    }

    private static ByteFilter all() {
        return (m, i, v) -> true;
    }

    private static ByteFilter visible() {
        return (m, i, v) -> {
            int old = m[i] & 0xff;
            boolean invisibleOld = old == ' ' || old == '\t' || old == '\r' || old == '\n';
            boolean invisibleNew = v == ' ' || v == '\t' || v == '\r' || v == '\n';
            boolean caseOnly = Character.toLowerCase((char) old) == Character.toLowerCase((char) v);
            return !invisibleOld && !invisibleNew && !caseOnly;
        };
    }

    private static Outcome changeEveryByte(byte[] signed, ByteFilter filter) {
        Verifier verifier = FuzzFixtures.verifier();
        assertThat(verifier.verify(new ByteArrayInputStream(signed), FuzzFixtures.ACCEPTED_AT, FuzzFixtures.RECIPIENT).result())
                .as("the unchanged message passes").isEqualTo(AuthResult.PASS);
        int changes = 0;
        int fails = 0;
        int malformed = 0;
        List<String> passes = new ArrayList<>();
        for (int i : positions(signed)) {
            byte original = signed[i];
            for (int v = 0; v < 256; v++) {
                if (v == (original & 0xff) || !filter.test(signed, i, v)) {
                    continue;
                }
                signed[i] = (byte) v;
                // A fresh verifier each time: a replay verdict must not stand in for a real one.
                Verdict verdict = FuzzFixtures.verifier()
                        .verify(new ByteArrayInputStream(signed), FuzzFixtures.ACCEPTED_AT, FuzzFixtures.RECIPIENT);
                signed[i] = original;
                changes++;
                switch (verdict.result()) {
                    case FAIL -> fails++;
                    case PERMERROR -> {
                        assertThat(verdict.reason()).as("offset %d -> 0x%02x: %s", i, v, verdict).isEqualTo(Reason.MALFORMED);
                        malformed++;
                    }
                    case PASS -> passes.add("offset %d: 0x%02x -> 0x%02x".formatted(i, original & 0xff, v));
                    default -> throw new AssertionError("offset " + i + " -> " + v + ": " + verdict);
                }
            }
        }
        return new Outcome(changes, fails, malformed, passes);
    }

    /** Offsets of the body and of every header field the signature names (all of them here), not the signature itself. */
    private static List<Integer> positions(byte[] signed) {
        String s = new String(signed, StandardCharsets.ISO_8859_1);
        int start = s.indexOf("\r\nFrom:") + 2;
        List<Integer> out = new ArrayList<>();
        for (int i = start; i < signed.length; i++) {
            out.add(i);
        }
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
