package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AuthorDomainTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "alice@a.example                                  | a.example",
            " Alice <alice@a.example>                         | a.example",
            "\"Alice Example\" <alice@a.example>              | a.example",
            "\"Example, Alice\" <alice@a.example>             | a.example",
            "\"ceo@b.example\" <alice@a.example>              | a.example",
            "Alice <ALICE@A.Example>                          | a.example",
            "<alice@a.example>                                | a.example",
            "Alice (the (nested) boss) <alice@a.example> (x)  | a.example",
            "alice (Alice) @ (at) a.example (company)         | a.example",
            "J. R. Smith <j@a.example>                        | a.example",
            "=?utf-8?q?J=C3=BCrgen?= <j@a.example>            | a.example",
            "\"al ice\"@a.example                             | a.example",
            "first.last@mail.a.example                        | mail.a.example",
            "ceo@b\u00fccher.example                          | xn--bcher-kva.example",
            "ceo@B\u00dcCHER.Example                          | xn--bcher-kva.example",
            "ceo@XN--BCHER-KVA.example                        | xn--bcher-kva.example",
            "J\u00fcrgen \u65e5\u672c <j\u00fcrgen@a.example> | a.example",
            "Alice <first.last@a.example>                     | a.example",
            "Alice <first.middle.last@a.example>              | a.example",
            "alice=bob@a.example                              | a.example",
            "a?=b@a.example                                   | a.example",
            "Alice <what?=@a.example>                         | a.example",
            "Alice <a=b?c@a.example>                          | a.example",
            "Alice (\\(not nested\\)) <alice@a.example>       | a.example",
            "Alice\u00a0Example <alice@a.example>             | a.example",
            "\ud83d\ude00 <alice@a.example>                   | a.example",
            "Alice \ud83d\ude00 <alice@a.example>             | a.example",
            "Alice <alice@a.example> (\ud83d\ude00)           | a.example",
            "\"ceo\" @a.example                              | a.example"})
    void readsTheDomainOfTheOneMailbox(String value, String domain) {
        assertThat(AuthorDomain.of(value)).contains(domain);
    }

    @Test
    void acceptsFoldingWhereRfc5322AllowsWhitespace() {
        assertThat(AuthorDomain.of(" \"Alice\r\n Example\"\r\n\t<alice@a.example>\r\n (work)")).contains("a.example");
        assertThat(AuthorDomain.of("Alice\r\n \t<alice@a.example>")).contains("a.example");
        assertThat(AuthorDomain.of("\"Alice\r\n  Example\" <alice@a.example>")).contains("a.example");
        assertThat(AuthorDomain.of("Alice (work\r\n  desk) <alice@a.example>")).contains("a.example");
        assertThat(AuthorDomain.of("alice@a.example\r\n ")).contains("a.example");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
            "", " ", "Alice", "=?utf-8?b?Y2VvQGEuZXhhbXBsZQ==?=", "<>", "@a.example", "alice@", "alice@@a.example",
            "Board: ceo@a.example;", "Board:;", "undisclosed-recipients:;",
            "ceo@a.example, ceo@b.example", "ceo@a.example,", ", ceo@a.example",
            "ceo@a.example <x@evil.example>", "A <a@a.example> <b@a.example>", "A <a@a.example> B",
            "ceo@[192.0.2.1]", "ceo@[IPv6:2001:db8::1]",
            "ceo@a(comment).example", "ceo@a.(comment)example", "ceo@a .example", "ceo@a. example",
            "ceo .x@a.example", "ceo. x@a.example", "\"ceo\".x@a.example",
            "<@relay.example:ceo@a.example>", "ceo@a.example.", "ceo@.a.example", "ceo@a..example", ".ceo@a.example",
            "\"Alice <alice@a.example>", "Alice\" <alice@a.example>", "Alice (work <alice@a.example>",
            "Alice (work)) <alice@a.example>", "Alice \\) <alice@a.example>",
            "Alice\u0000 <alice@a.example>", "Alice\u0007 <alice@a.example>", "Alice\u007f <alice@a.example>",
            "Alice\u0085 <alice@a.example>", "\"Alice\u0001\" <alice@a.example>", "(\u001b) alice@a.example",
            "Alice\r <alice@a.example>", "Alice\n <alice@a.example>", "Alice\r\n<alice@a.example>",
            "alice@a.example\r\n", "\"Alice\\\u0000\" <alice@a.example>",
            "ceo@a\u3002example", "ceo@a\uff0eexample", "ceo@a\uff61example",
            "ceo@stra\u00dfe.example", "ceo@\uff41.example", "ceo@a\u00ad.example",
            "ceo@a_b.example", "ceo@-a.example", "ceo@a!.example", "ceo@" + "a.", "Alice \ud800 <alice@a.example>",
            ". <alice@a.example>", "<alice@a.example",  "alice@a.example>", "<<alice@a.example>>",
            "=?utf-8?q?=40a.example?=ceo@x.example", "Alice <=?utf-8?q?ceo=40a.example?=@x.example>",
            "ceo.=?us-ascii?q?x?=@x.example", "Alice =", "Alice=", "Alice <alice@a.example> =",
            "Alice <ceo .x@a.example>", "Alice <ceo. x@a.example>", "Alice <ceo(x).x@a.example>",
            "Alice <\"ceo\".x@a.example>", "Alice <ceo.\"x\"@a.example>", "Alice <.ceo@a.example>",
            "Alice <ceo.@a.example>", "Alice <ceo..x@a.example>",
            "alice@a.example (work", "Alice <alice@a.example> (sent by A", "alice@a.example ((x)", "alice@a.example (",
            "Alice (work\\", "alice@a.example (\\", "\"Alice\\", "\"Alice", "\"Alice\\\"", "\"",
            "(\u0000) alice@a.example", "(\u001f) alice@a.example", "(\u007f) alice@a.example",
            "(\u0080) alice@a.example", "(\u009f) alice@a.example", "(\r) alice@a.example", "(\n) alice@a.example",
            "(\r\n) alice@a.example", "(\\\u007f) alice@a.example", "(\\\r\n ) alice@a.example",
            "\"Alice\u007f\" <alice@a.example>", "\"Alice\u0080\" <alice@a.example>", "\"Alice\u009f\" <alice@a.example>",
            "\"Alice\r\" <alice@a.example>", "\"Alice\n\" <alice@a.example>", "\"Alice\r\nX\" <alice@a.example>",
            "\"Alice\\\u007f\" <alice@a.example>", "\"Alice\\\u0080\" <alice@a.example>",
            "\"Alice\\\u001f\" <alice@a.example>", "\"Alice\\\r\n \" <alice@a.example>",
            "Alice\u0080 <alice@a.example>", "Alice\u009f <alice@a.example>", "alice@a.example\u0085",
            "alice@a.example\ud800", "Alice <alice@a.example>\ud83d", "\udc00Alice <alice@a.example>",
            "Alice \ude00\ud83d <alice@a.example>",
            "ceo\uff20a.example", "\uff1cceo@a.example\uff1e", "ceo@a.example\u00a0", "Board:<ceo@a.example>;",
            "ceo@a.example\u00a0<x@evil.example>", "\"ceo@a.example\" x@evil.example"})
    void refusesEverythingButOnePlainMailbox(String value) {
        assertThat(AuthorDomain.of(value)).as("%s", value).isEmpty();
    }

    /** atext (RFC 5322 3.2.3): every letter, digit and listed special may stand in a local-part and a display-name. */
    @Test
    void readsEveryAtextCharacterInAnAtom() {
        // "?=" rather than "=?", which would start an encoded word
        String atext = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/?=^_`{|}~\u00a0\u00e9";

        assertThat(AuthorDomain.of(atext + "@a.example")).contains("a.example");
        assertThat(AuthorDomain.of("Alice <" + atext + "@a.example>")).contains("a.example");
        assertThat(AuthorDomain.of(atext + " <alice@a.example>")).contains("a.example");
    }

    /** Printable ASCII that is not atext stands in no atom: each such character breaks the bare address. */
    @Test
    void refusesEveryPrintableAsciiCharacterOutsideAtextInABareLocalPart() {
        for (char c : "\"(),:;<>@[\\]".toCharArray()) {
            assertThat(AuthorDomain.of("ali" + c + "ce@a.example")).as("ali%sce@a.example", c).isEmpty();
        }
    }

    /** ctext (RFC 5322 3.2.2, RFC 6532): any printable character but "(", ")" and "\", which only a quoted-pair holds. */
    @Test
    void readsEveryCtextCharacterAndQuotedPairInAComment() {
        StringBuilder ctext = new StringBuilder();
        StringBuilder pairs = new StringBuilder();
        for (char c = 0x21; c <= 0x7e; c++) {
            if (c != '(' && c != ')' && c != '\\') {
                ctext.append(c);
            }
            pairs.append('\\').append(c);
        }
        ctext.append("\u00a0\u00e9\ud83d\ude00");
        pairs.append("\\ \\\t\\\u00a0\\\u00e9");

        assertThat(AuthorDomain.of("(" + ctext + ") alice@a.example")).contains("a.example");
        assertThat(AuthorDomain.of("Alice <alice@a.example> (" + ctext + ")")).contains("a.example");
        assertThat(AuthorDomain.of("(" + pairs + ") alice@a.example")).contains("a.example");
    }

    /** qtext (RFC 5322 3.2.4, RFC 6532): any printable character but the quote and "\", which only a quoted-pair holds. */
    @Test
    void readsEveryQtextCharacterAndQuotedPairInAQuotedString() {
        StringBuilder qtext = new StringBuilder(" \t");
        StringBuilder pairs = new StringBuilder("\\ \\\t\\\u00a0\\\u00e9");
        for (char c = 0x21; c <= 0x7e; c++) {
            if (c != '"' && c != '\\') {
                qtext.append(c);
            }
            pairs.append('\\').append(c);
        }
        qtext.append("\u00a0\u00e9\ud83d\ude00");

        assertThat(AuthorDomain.of("\"" + qtext + "\" <alice@a.example>")).contains("a.example");
        assertThat(AuthorDomain.of("\"" + qtext + "\"@a.example")).contains("a.example");
        assertThat(AuthorDomain.of("\"" + pairs + "\" <alice@a.example>")).contains("a.example");
        assertThat(AuthorDomain.of("Alice <\"" + pairs + "\"@a.example>")).contains("a.example");
    }

    @Test
    void refusesAnOverlongDomain() {
        String label = "a".repeat(63);
        String domain = String.join(".", label, label, label, label) + ".example";

        assertThat(AuthorDomain.of("x@" + domain)).isEmpty();
        assertThat(AuthorDomain.of("x@" + "\u00fc".repeat(300) + ".example")).isEmpty();
    }

    @Test
    void readsAFieldAsUtf8AndRefusesOctetsThatAreNot() throws Exception {
        HeaderField utf8 = HeaderField.parse(new String("From: J\u00fcrgen <j@a.example>".getBytes(StandardCharsets.UTF_8),
                StandardCharsets.ISO_8859_1));
        HeaderField latin1 = HeaderField.parse("From: J\u00fcrgen <j@a.example>");

        assertThat(AuthorDomain.of(utf8)).contains("a.example");
        assertThat(AuthorDomain.of(latin1)).isEmpty();
    }

    /** A megabyte of nesting or of quoted pairs is read in one pass: the same work as any megabyte. */
    @Test
    @Timeout(10)
    void readsHostileValuesInLinearTime() {
        int n = 1 << 20;

        assertThat(AuthorDomain.of("(".repeat(n) + ")".repeat(n) + " alice@a.example")).contains("a.example");
        assertThat(AuthorDomain.of("(".repeat(n) + " alice@a.example")).isEmpty();
        assertThat(AuthorDomain.of("\"" + "\\a".repeat(n) + "\" <alice@a.example>")).contains("a.example");
        assertThat(AuthorDomain.of("a.".repeat(n) + "b <alice@a.example>")).contains("a.example");
        assertThat(AuthorDomain.of("x@" + "a.".repeat(n) + "example")).isEmpty();
        assertThat(AuthorDomain.of("x@a" + "\u0301".repeat(n) + ".example")).isEmpty();
    }
}
