package org.authhmac.it.attacks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.RawSmtpClient;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A property of the whole receiving pipeline on real James (james-conf/receiving as shipped, retries 1 s apart and
 * bounded at 3 attempts, as an operator may set them): whatever MIME damage a mail carries (boundaries that never
 * occur, that do not match, or never close; bad base64 and quoted-printable; unknown encodings; truncation; deep
 * nesting; 8-bit junk and NUL; duplicate fields), signed by the partner or not, claiming the partner or not, with a
 * forged Authentication-Results or not, for a mailbox with a key or without: every mail B accepts ends in exactly
 * one of INBOX, quarantine or hold, none in the error repository, and the spool drains. Seeded:
 * {@code -Dauthhmac.mimeDamage.seed=N} replays a run, {@code -Dauthhmac.mimeDamage.mails=N} (default 60) sends more.
 */
class MimeDamagePropertyIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String HOLD = "file://var/mail/auth-hmac-hold/";
    static final String ERROR = "file://var/mail/error/";
    static final String EVE = "eve@b.example";
    static final String PASSWORD = "user-secret";
    static final int ATTEMPT_BOUND = 3;
    static final Pattern MESSAGE_ID = Pattern.compile("dmg-\\d+-[0-9a-f-]{36}@a\\.example");

    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "mime-damage");
        Path sending = JamesRuntime.repoPath("james-conf/sending");
        Path receiving = JamesRuntime.repoPath("james-conf/receiving");
        pair = AuthHmacPair.start(root, new AuthHmacPair.Layout(sending, receiving), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()),
                b -> b.extensionJar(JamesRuntime.javaxBundleJar())
                        .confFile("mailetcontainer.xml", PipelineAttacksIT.fastRetries(receiving, ATTEMPT_BOUND)),
                port -> port);
        pair.b().webAdmin().addUser(EVE, PASSWORD);
        pair.cli().run(AuthHmacPair.authHmacConfig(pair.b()), "users", "key", "--user", AuthHmacPair.BOB, "--print");
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    void everyDamagedMailEndsInExactlyOneOfInboxQuarantineOrHoldWithinTheAttemptBound() throws Exception {
        long seed = Long.getLong("authhmac.mimeDamage.seed", System.nanoTime());
        int mails = Integer.getInteger("authhmac.mimeDamage.mails", 60);
        System.out.printf("mime damage: seed %d, %d mails (-Dauthhmac.mimeDamage.seed=%d replays it)%n", seed, mails, seed);
        Random random = new Random(seed);
        RawSmtpClient smtp = new RawSmtpClient(pair.b().ports().smtp());

        // given damaged mails of every kind, sent to B as an outside MTA would
        Map<String, String> accepted = new LinkedHashMap<>();
        Map<String, String> refused = new LinkedHashMap<>();
        for (int i = 0; i < mails; i++) {
            Damaged mail = damaged(i, random);
            RawSmtpClient.Reply reply = smtp.send(mail.envelopeFrom(), List.of(mail.recipient()), mail.bytes());
            (reply.accepted() ? accepted : refused).put(mail.messageId(), mail.description() + " -> " + reply.code());
        }
        refused.forEach((id, what) -> System.out.printf("mime damage: refused at SMTP: %s %s%n", id, what));

        // when B has decided about all of them
        Map<String, List<String>> where = awaitEveryOneSomewhere(accepted.keySet(), Duration.ofSeconds(120 + 2L * mails));

        // then each accepted mail is in exactly one place, and nothing is left over
        Map<String, Integer> places = new HashMap<>();
        where.forEach((id, in) -> in.forEach(p -> places.merge(p, 1, Integer::sum)));
        System.out.printf("mime damage: %d accepted, %d refused at SMTP; %s%n", accepted.size(), refused.size(), places);
        assertThat(accepted).as("B accepts most of them").hasSizeGreaterThan(mails / 2);
        accepted.forEach((id, what) -> System.out.printf("mime damage: %s %s -> %s%n", id, what, where.get(id)));
        for (Map.Entry<String, String> mail : accepted.entrySet()) {
            assertThat(where.get(mail.getKey())).as(mail.getKey() + " " + mail.getValue()).hasSize(1)
                    .doesNotContain("error");
        }
        WebAdminClient admin = pair.b().webAdmin();
        assertThat(admin.queueSize("spool")).as("B spool").isZero();
        assertThat(admin.repositorySize(ERROR)).as("B error repository").isZero();
        // within the bound: each mail met at most two retry processors (verify, deliver), each at most ATTEMPT_BOUND times
        long exceptions = pair.b().logs().lines().filter(l -> l.contains("Exception calling org.authhmac")).count();
        assertThat(exceptions).as("failed attempts in B's log").isLessThanOrEqualTo((long) accepted.size() * 2 * (ATTEMPT_BOUND + 1));
    }

    /** Where each mail is: "inbox:bob", "inbox:eve", "quarantine", "hold", "error"; waits until every one is somewhere. */
    private static Map<String, List<String>> awaitEveryOneSomewhere(Set<String> ids, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, String> keyToId = new HashMap<>();
        Map<String, List<String>> where;
        do {
            where = new HashMap<>();
            for (String id : ids) {
                where.put(id, new ArrayList<>());
            }
            locate(where, "inbox:bob", pair.bobInbox().messageIds());
            locate(where, "inbox:eve", new ImapReader(pair.b().ports().imap(), EVE, PASSWORD).messageIds());
            for (String repository : List.of(QUARANTINE, HOLD, ERROR)) {
                String place = repository.equals(QUARANTINE) ? "quarantine" : repository.equals(HOLD) ? "hold" : "error";
                List<String> found = new ArrayList<>();
                for (String key : pair.b().webAdmin().mailKeys(repository)) {
                    String id = keyToId.computeIfAbsent(repository + key, k -> idOf(repository, key));
                    if (id != null) {
                        found.add(id);
                    }
                }
                locate(where, place, found);
            }
            if (where.values().stream().noneMatch(List::isEmpty) && pair.b().webAdmin().queueSize("spool") == 0) {
                Thread.sleep(3000); // and nothing moves any more
                return where;
            }
            Thread.sleep(2000);
        } while (System.nanoTime() < deadline);
        return where;
    }

    /** The Message-ID of a stored mail; null while the repository lists a key it is still writing (asked again later). */
    private static String idOf(String repository, String key) {
        String headers;
        try {
            headers = pair.b().webAdmin().mail(repository, key, "headers").path("headers").toString();
        } catch (IllegalStateException notYet) {
            return null;
        }
        Matcher m = MESSAGE_ID.matcher(headers);
        return m.find() ? "<" + m.group() + ">" : "(other " + key + ")";
    }

    private static void locate(Map<String, List<String>> where, String place, List<String> ids) {
        for (String raw : ids) {
            Matcher m = MESSAGE_ID.matcher(raw);
            if (m.find()) {
                List<String> in = where.get("<" + m.group() + ">");
                if (in != null) {
                    in.add(place);
                }
            }
        }
    }

    record Damaged(String messageId, String envelopeFrom, String recipient, byte[] bytes, String description) {
    }

    /** One mail: a sender kind, a recipient, a MIME structure, one or two kinds of damage, maybe a signature. */
    static Damaged damaged(int i, Random random) throws Exception {
        String id = "<dmg-" + i + "-" + UUID.randomUUID() + "@a.example>";
        String recipient = random.nextBoolean() ? AuthHmacPair.BOB : EVE;
        int senderKind = random.nextInt(3); // 0 partner unsigned, 1 partner signed, 2 outsider
        String from = senderKind == 2 ? "Someone <someone@c.example>" : "CEO <ceo@a.example>";
        String envelopeFrom = senderKind == 2 ? "someone@c.example" : "ceo@a.example";
        StringBuilder description = new StringBuilder(List.of("partner-unsigned", "partner-signed", "outsider").get(senderKind));
        String headers = "Message-ID: " + id + "\r\nFrom: " + from + "\r\nTo: " + recipient + "\r\nSubject: report " + i
                + "\r\nDate: Sun, 22 Nov 2026 02:00:00 +0000\r\nMIME-Version: 1.0\r\n";
        String body = structure(random, description);
        int damages = 1 + random.nextInt(2);
        for (int d = 0; d < damages; d++) {
            String[] damaged = damage(headers, body, random, description);
            headers = damaged[0];
            body = damaged[1];
        }
        if (random.nextInt(4) == 0) {
            headers = "Authentication-Results: mx.b.example; auth-hmac=pass reason=\"verified\" header.d=a.example\r\n" + headers;
            description.append(" +forged-AR");
        }
        // the body string starts with the top-level Content-Type fields and their own empty line
        byte[] message = (headers + body).getBytes(StandardCharsets.ISO_8859_1);
        if (senderKind == 1) {
            try {
                message = signed(message, random.nextBoolean());
            } catch (java.io.IOException | IllegalArgumentException refused) {
                description.append(" (signer refused: sent unsigned)");
            }
        }
        if (random.nextInt(6) == 0) {
            // truncated anywhere after the Message-ID line
            int keep = new String(message, StandardCharsets.ISO_8859_1).indexOf(id) + id.length() + 2;
            int cut = keep + random.nextInt(Math.max(1, message.length - keep));
            message = java.util.Arrays.copyOf(message, Math.min(cut, message.length));
            description.append(" truncated@").append(cut);
        }
        return new Damaged(id, envelopeFrom, recipient, message, description.toString());
    }

    static String structure(Random random, StringBuilder description) {
        String attachment = Base64.getMimeEncoder().encodeToString(randomBytes(random, 300 + random.nextInt(600)));
        return switch (random.nextInt(4)) {
            case 0 -> {
                description.append(" text");
                yield "Content-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\nthe figures.\r\n";
            }
            case 1 -> {
                description.append(" mixed");
                yield "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n--outer\r\n"
                        + "Content-Type: text/plain\r\n\r\nsee attached\r\n--outer\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Transfer-Encoding: base64\r\n\r\n" + attachment + "\r\n--outer--\r\n";
            }
            case 2 -> {
                description.append(" nested");
                yield "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n"
                        + "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n--inner\r\nContent-Type: text/plain\r\n"
                        + "Content-Transfer-Encoding: quoted-printable\r\n\r\nfigures =E2=82=AC 100\r\n--inner\r\n"
                        + "Content-Type: text/html\r\n\r\n<p>figures</p>\r\n--inner--\r\n--outer\r\nContent-Type: message/rfc822\r\n\r\n"
                        + "From: x@c.example\r\nSubject: inner\r\n\r\ninner body\r\n--outer--\r\n";
            }
            default -> {
                description.append(" deep");
                StringBuilder b = new StringBuilder();
                int depth = 20 + random.nextInt(60);
                for (int d = 0; d < depth; d++) {
                    b.append(d == 0 ? "" : "--b" + (d - 1) + "\r\n").append("Content-Type: multipart/mixed; boundary=\"b").append(d).append("\"\r\n\r\n");
                }
                b.append("--b").append(depth - 1).append("\r\nContent-Type: text/plain\r\n\r\ndeep\r\n");
                for (int d = depth - 1; d >= 0; d--) {
                    b.append("--b").append(d).append("--\r\n");
                }
                yield b.toString();
            }
        };
    }

    /** Returns {headers, body} with one kind of damage applied. */
    static String[] damage(String headers, String body, Random random, StringBuilder description) {
        // half of the mails get structural damage JavaMail cannot parse back (the boundary kinds), the rest any kind
        int kind = random.nextBoolean() ? List.of(0, 1, 2, 6, 11).get(random.nextInt(5)) : random.nextInt(12);
        description.append(" ").append(switch (kind) {
            case 0 -> "boundary-never-there";
            case 1 -> "no-closing-boundary";
            case 2 -> "inner-boundary-mismatch";
            case 3 -> "bad-base64";
            case 4 -> "bad-quoted-printable";
            case 5 -> "unknown-encoding";
            case 6 -> "empty-boundary-param";
            case 7 -> "8bit-junk-and-nul";
            case 8 -> "bare-lf";
            case 9 -> "duplicate-cc";
            case 10 -> "base64-on-multipart";
            default -> "unterminated-quote";
        });
        return switch (kind) {
            case 0 -> new String[] {headers, body.contains("multipart/")
                    ? body.replaceFirst("boundary=\"[^\"]*\"", "boundary=\"never-there\"")
                    : "Content-Type: multipart/mixed; boundary=\"never-there\"\r\n\r\nno boundary line here\r\n"};
            case 1 -> new String[] {headers, body.replaceAll("--(outer|inner|b\\d+)--\\r\\n", "")};
            case 2 -> new String[] {headers, body.replace("boundary=\"inner\"", "boundary=\"other\"")
                    .replace("boundary=\"b1\"", "boundary=\"zz\"")};
            case 3 -> new String[] {headers, body.contains("base64") ? body.replaceFirst("(base64\\r\\n\\r\\n)", "$1!!!###***\r\n=AB=\r\n")
                    : "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8*&^%\r\nQQ\r\n"};
            case 4 -> new String[] {headers, "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                    + "bad =ZZ soft =\r\n=\r\nend =4\r\n"};
            case 5 -> new String[] {headers, body.replaceFirst("\\r\\n\\r\\n", "\r\nContent-Transfer-Encoding: x-uuencode-ish\r\n\r\n")};
            case 6 -> new String[] {headers, body.replaceFirst("boundary=\"[^\"]*\"", "boundary=")};
            case 7 -> new String[] {headers + "X-Junk: \u00ff\u00fe\u0000end\r\n", body + "\u0000\u0001\u00e9\u00ff\u0080\r\n"};
            case 8 -> new String[] {headers, body.replace("\r\n", "\n")};
            case 9 -> new String[] {headers + "Cc: one@c.example\r\nCc: two@c.example\r\n", body};
            case 10 -> new String[] {headers, body.replaceFirst("\\r\\n\\r\\n", "\r\nContent-Transfer-Encoding: base64\r\n\r\n")};
            default -> new String[] {headers, body.replaceFirst("boundary=\"([^\"]*)\"", "boundary=\"$1")};
        };
    }

    /** Signed with the partner key for b.example, as A would; {@code thenDamaged}: a byte of the body changed after. */
    static byte[] signed(byte[] message, boolean thenDamaged) throws Exception {
        List<String> header = new Signer(SignerSettings.defaults()).sign(new ByteArrayInputStream(message),
                List.of(new SignRequest(AuthHmacPair.FIRST_KEY_ID, AuthHmacPair.A_DOMAIN, AuthHmacPair.B_DOMAIN, Instant.now())),
                StaticPeriodKeys.of(AuthHmacPair.FIRST_KEY_ID, pair.partnerSecretForTests()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((header.get(0) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(message);
        byte[] signed = out.toByteArray();
        if (thenDamaged) {
            signed[signed.length - 3] ^= 0x20;
        }
        return signed;
    }

    static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
