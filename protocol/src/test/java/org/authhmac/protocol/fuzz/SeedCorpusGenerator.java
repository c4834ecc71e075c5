package org.authhmac.protocol.fuzz;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.Signer;

/**
 * Writes the signed and hostile messages of the seed corpora (src/test/resources/fuzz/verifier and
 * canonicalization). Not a test: run it by hand when the wire format changes, with the corpus root as argument.
 */
public final class SeedCorpusGenerator {
    static final String MESSAGE = String.join("\r\n",
            "From: Alice <alice@a.example>",
            "To: Bob <bob@b.example>",
            "Subject: Quarterly figures",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <1@a.example>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Hello Bob,",
            "",
            "the figures are attached.",
            "");

    private SeedCorpusGenerator() {
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static void w(Path dir, String name, byte[] data) throws Exception {
        Files.write(dir.resolve(name), data);
    }

    /** @param a the corpus root, normally protocol/src/test/resources/fuzz */
    public static void main(String[] a) throws Exception {
        Path v = Path.of(a[0], "verifier"), c = Path.of(a[0], "canonicalization");
        Signer relaxed = FuzzFixtures.signer(Canonicalization.RELAXED, Canonicalization.RELAXED);
        Signer simple = FuzzFixtures.signer(Canonicalization.SIMPLE, Canonicalization.SIMPLE);
        byte[] sr = FuzzFixtures.signed(relaxed, b(MESSAGE));
        byte[] ss = FuzzFixtures.signed(simple, b(MESSAGE));
        w(v, "signed-relaxed.eml", sr);
        w(v, "signed-simple.eml", ss);
        w(v, "signed-relaxed-lf.eml", b(new String(sr, StandardCharsets.ISO_8859_1).replace("\r\n", "\n")));
        String s = new String(sr, StandardCharsets.ISO_8859_1);
        w(v, "signed-folded.eml", b(s.replace("; h=", ";\r\n\th=").replace("; b=", ";\r\n b=")));
        w(v, "signed-body-changed.eml", b(s.replace("attached", "attacked")));
        w(v, "signed-subject-changed.eml", b(s.replace("Quarterly", "Monthly")));
        w(v, "signed-second-from.eml", b(s.replace("To: Bob", "From: Mallory <m@evil.example>\r\nTo: Bob")));
        w(v, "signed-twice.eml", b(s.substring(0, s.indexOf("\r\n") + 2) + s));
        w(v, "unsigned.eml", b(MESSAGE));
        w(v, "version-2.eml", b(s.replace("v=1;", "v=2;")));
        w(v, "algorithm-sha1.eml", b(s.replace("a=hmac-sha256", "a=hmac-sha1")));
        w(v, "t-negative.eml", b(s.replace("t=1763776800", "t=-1763776800")));
        w(v, "t-non-numeric.eml", b(s.replace("t=1763776800", "t=17637768OO")));
        w(v, "b-junk.eml", b(s.replace("; b=", "; b=*junk*")));
        w(v, "nul-bare-cr.eml", b(s.replace("Hello Bob,", "Hel\0lo\rBob,").replace("Subject: Q", "Subject: \0\rQ")));
        w(v, "no-body.eml", b(s.substring(0, s.indexOf("\r\n\r\n"))));
        w(v, "continuation-first.eml", b(" folded\r\n" + s));
        w(c, "message-relaxed.eml", b(MESSAGE));
        w(c, "message-lf.eml", b(MESSAGE.replace("\r\n", "\n")));
        w(c, "whitespace-body.eml", b("From: a@a.example\r\nSubject:  x \t y\r\n\tfolded \r\n\r\n a  b\t\r\n\t\r\n\r\nlast \t"));
        w(c, "bare-cr.eml", b("From: a@a.example\r\n\r\nx\ry\r\r\n\r"));
        w(c, "empty-body.eml", b("From: a@a.example\r\n\r\n"));
        w(c, "only-empty-lines.eml", b("From: a@a.example\r\n\r\n\r\n\r\n \r\n"));
        w(c, "eight-bit.eml", "From: J\u00fcrgen <j@a.example>\r\nSubject: Gr\u00fc\u00dfe \u65e5\u672c\r\n\r\n\u00e9t\u00e9 \u2014 ok\r\n".getBytes(StandardCharsets.UTF_8));
    }
}
