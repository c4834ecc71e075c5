package org.authhmac.it.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.RelaySmtpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Which header fields James 3.8.1 adds between A's {@code SignWithAuthHmac} and B's {@code AuthHmacFailed}, and that
 * the coverage rule (PROTOCOL.md 5.3: every field outside the ignore set must be covered by {@code h=}) lets every
 * one of them pass. A real pair (swtpm, james-conf/ as shipped); a relay between A and B records the bytes that left
 * A, as signed; alice submits kinds of mail a user sends. For each recipient's copy in B's INBOX the test compares
 * three snapshots, what alice submitted, what left A, what B stored, and asserts: B's verdict is pass, and every field
 * of the stored copy that {@code h=} does not cover (name by name, instance count against the number of times
 * {@code h=} lists it) is on the ignore set. The fields each side added or removed are printed per kind
 * ({@code fields:} lines in the test output; docs/RELIABILITY.md, "Header fields James adds").
 */
class HeaderFieldsJamesAddsIT {
    /** PROTOCOL.md 5.3, with the default signature header name. */
    static final Set<String> IGNORE_SET = Set.of("received", "return-path", "delivered-to", "authentication-results",
            "arc-seal", "arc-message-signature", "arc-authentication-results", "dkim-signature", "x-auth-hmac");
    static final List<String> B_USERS = List.of("carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy");
    static final String PASSWORD = "user-secret";
    static final Pattern TOKEN = Pattern.compile("\\[fields-[a-z0-9-]+\\]");

    private static AuthHmacPair pair;
    private static RelaySmtpServer relay;
    /** Subject token -> the message as it left A (signed), captured by the relay. */
    private static final Map<String, String> leftA = new ConcurrentHashMap<>();
    /** Kind -> what the kind's copies showed, printed at the end. */
    private static final Map<String, String> report = new TreeMap<>();

    /** One kind of mail alice writes: the message she submits, its envelope, and whose INBOX copy is read. */
    record Kind(String name, String message, List<String> envelope, List<String> readers, String token) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    static void startPair() {
        relay = new RelaySmtpServer(message -> {
            Matcher m = TOKEN.matcher(message);
            if (m.find()) {
                leftA.put(m.group(), message);
            }
            return message;
        });
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "header-fields-pair");
        pair = AuthHmacPair.start(root,
                new AuthHmacPair.Layout(JamesRuntime.repoPath("james-conf/sending"), JamesRuntime.repoPath("james-conf/receiving")),
                AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()), b -> b.extensionJar(JamesRuntime.javaxBundleJar()),
                bSmtp -> {
                    relay.forwardTo(bSmtp);
                    return relay.port();
                });
        for (String user : B_USERS) {
            pair.b().webAdmin().addUser(address(user), PASSWORD);
        }
    }

    @AfterAll
    static void stopPair() {
        report.forEach((kind, line) -> System.out.printf("fields: %-14s %s%n", kind, line));
        if (pair != null) {
            pair.close();
        }
        if (relay != null) {
            relay.close();
        }
    }

    static Stream<Kind> kinds() {
        String bob = AuthHmacPair.BOB;
        List<String> cc = B_USERS.subList(1, B_USERS.size()).stream().map(HeaderFieldsJamesAddsIT::address).toList();
        List<String> many = new ArrayList<>(List.of(bob, address("carol")));
        many.addAll(cc);
        String attachment = Base64.getMimeEncoder().encodeToString("%PDF-1.4 a small attachment\n".repeat(300).getBytes());
        return Stream.of(
                kind("plain", token -> fields(bob, token, "") + "\r\nHello Bob,\r\nthe minutes of today.\r\nAlice\r\n",
                        List.of(bob), List.of(bob)),
                kind("multipart", token -> fields(bob, token, "")
                                .replace("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n",
                                        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n")
                                + "\r\nThis is a multi-part message in MIME format.\r\n--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
                                + "The report is attached.\r\n--b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
                                + "Content-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                                + attachment + "\r\n--b1--\r\n",
                        List.of(bob), List.of(bob)),
                kind("8bit-body", token -> fields(bob, token, "").replace("Content-Transfer-Encoding: 7bit", "Content-Transfer-Encoding: 8bit")
                                + "\r\nGrüße aus Zürich, café à 3 € \r\nline with trailing blanks   \r\n",
                        List.of(bob), List.of(bob)),
                kind("many-cc", token -> fields(bob + ", " + address("carol"), token, "Cc: " + String.join(",\r\n ", cc) + "\r\n")
                                + "\r\nTo the whole team.\r\n",
                        many, List.of(bob, address("judy"))),
                kind("bcc", token -> fields(address("carol"), token, "Bcc: " + bob + "\r\n") + "\r\nCarol, with Bob in copy.\r\n",
                        List.of(address("carol"), bob), List.of(bob, address("carol"))),
                kind("reply", token -> fields(bob, token, "In-Reply-To: <q1@b.example>\r\nReferences: <q0@b.example>\r\n <q1@b.example>\r\n")
                                .replace("Subject: ", "Subject: Re: ") + "\r\n> your question\r\nMy answer.\r\n",
                        List.of(bob), List.of(bob)),
                kind("script-bare", token -> "From: " + AuthHmacPair.ALICE + "\r\nTo: " + bob + "\r\nSubject: nightly job " + token
                                + "\r\n\r\nno Date, no Message-ID, no MIME fields, as a script writes it\r\n",
                        List.of(bob), List.of(bob)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void everyFieldJamesAddsBetweenSigningAndVerifyingIsCoveredOrOnTheIgnoreSetAndTheMailPasses(Kind kind) {
        // when alice submits it on A, and A signs it and sends it through the relay to B
        pair.aliceSubmission().send(AuthHmacPair.ALICE, kind.envelope(), kind.message());

        // then each reader's copy at B passed, and B's stored copy has no uncovered field outside the ignore set
        List<String> lines = new ArrayList<>();
        for (String reader : kind.readers()) {
            ImapReader inbox = new ImapReader(pair.b().ports().imap(), reader, reader.equals(AuthHmacPair.BOB) ? AuthHmacPair.BOB_PASSWORD : PASSWORD);
            ImapReader.Received stored = inbox.awaitMatching(r -> r.raw().contains(kind.token()), Duration.ofSeconds(60))
                    .orElseThrow(() -> new AssertionError(kind + ": not in " + reader + "'s INBOX; A log:\n" + pair.a().logTail(30)
                            + "\nB log:\n" + pair.b().logTail(30)));
            String sent = leftA.get(kind.token());
            assertThat(sent).as("the relay captured what left A").isNotNull();

            List<String[]> atB = fields(stored.raw());
            List<String> signatures = values(atB, "x-auth-hmac");
            assertThat(signatures).as(kind + " " + reader + ": signatures").hasSize(1);
            assertThat(values(atB, "authentication-results")).as(kind + " " + reader + ": B's verdict")
                    .anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
            Map<String, Integer> listed = counts(hNames(signatures.get(0)));
            Map<String, Integer> present = counts(atB.stream().map(f -> f[0]).toList());
            Map<String, Integer> uncovered = new TreeMap<>();
            present.forEach((name, n) -> {
                int over = n - listed.getOrDefault(name, 0);
                if (over > 0) {
                    uncovered.put(name, over);
                }
            });
            assertThat(uncovered.keySet()).as(kind + " " + reader + ": fields outside h= " + uncovered).isSubsetOf(IGNORE_SET);

            Map<String, Integer> submitted = counts(fields(kind.message()).stream().map(f -> f[0]).toList());
            Map<String, Integer> afterA = counts(fields(sent).stream().map(f -> f[0]).toList());
            lines.add(reader.substring(0, reader.indexOf('@')) + ": A added " + minus(afterA, submitted)
                    + ", A removed " + minus(submitted, afterA) + ", B added " + minus(present, afterA)
                    + ", outside h= " + uncovered + ", h= " + listed.keySet().stream().filter(n -> !submitted.containsKey(n)).toList()
                    + " not submitted");
        }
        report.put(kind.name(), String.join(" | ", lines));
    }

    static Kind kind(String name, java.util.function.UnaryOperator<String> message, List<String> envelope, List<String> readers) {
        String token = "[fields-" + name + "-" + UUID.randomUUID().toString().substring(0, 8) + "]";
        return new Kind(name, message.apply(token), envelope, readers, token);
    }

    /** An ordinary message head as a mail client writes it, ending before the empty line. */
    static String fields(String to, String token, String extra) {
        return "From: Alice <" + AuthHmacPair.ALICE + ">\r\nTo: " + to + "\r\n" + extra + "Subject: figures " + token + "\r\n"
                + "Date: " + DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now()) + "\r\n"
                + "Message-ID: <" + UUID.randomUUID() + "@a.example>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n";
    }

    static String address(String user) {
        return user + "@b.example";
    }

    /** The header fields of a message, in order: {lower-case name, unfolded value}. */
    static List<String[]> fields(String message) {
        int end = message.indexOf("\r\n\r\n");
        String head = end < 0 ? message : message.substring(0, end);
        List<String[]> out = new ArrayList<>();
        for (String line : head.split("\r\n")) {
            if ((line.startsWith(" ") || line.startsWith("\t")) && !out.isEmpty()) {
                out.get(out.size() - 1)[1] += line;
            } else if (line.indexOf(':') > 0) {
                out.add(new String[] {line.substring(0, line.indexOf(':')).trim().toLowerCase(Locale.ROOT),
                        line.substring(line.indexOf(':') + 1)});
            }
        }
        return out;
    }

    static List<String> values(List<String[]> fields, String name) {
        return fields.stream().filter(f -> f[0].equals(name)).map(f -> f[1]).toList();
    }

    /** The names of h=, lower case, in order. */
    static List<String> hNames(String signatureValue) {
        for (String tag : signatureValue.split(";")) {
            String t = tag.strip();
            if (t.startsWith("h=")) {
                return Stream.of(t.substring(2).replaceAll("\\s", "").split(":")).map(n -> n.toLowerCase(Locale.ROOT)).toList();
            }
        }
        throw new AssertionError("no h= in " + signatureValue);
    }

    static Map<String, Integer> counts(List<String> names) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        names.forEach(n -> counts.merge(n, 1, Integer::sum));
        return counts;
    }

    /** Instances of each name in {@code a} beyond those in {@code b}. */
    static Map<String, Integer> minus(Map<String, Integer> a, Map<String, Integer> b) {
        Map<String, Integer> out = new TreeMap<>();
        a.forEach((name, n) -> {
            int d = n - b.getOrDefault(name, 0);
            if (d > 0) {
                out.put(name, d);
            }
        });
        return out;
    }
}
