package org.authhmac.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesMetrics;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.MailetContainerEdits;
import org.authhmac.testing.james.RawSmtpClient;
import org.authhmac.testing.james.RelaySmtpServer;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A seeded mix of mail through the shipped pair (James 3.8.1, swtpm, james-conf/ as shipped; the only edit is every
 * retry 1 s apart and bounded at 3 attempts, {@link MailetContainerEdits}): genuine mail alice submits (some of a few
 * MB), forgeries sent straight to B claiming a.example (unsigned, a bad MAC, replays of genuine mail a relay between A
 * and B captured), malformed MIME and duplicated fields (submitted on A, or forged to B), Internet mail A forwards to
 * bob through a WebAdmin forward, alice writing as the CEO, outside mail B does not verify, and an over-long line.
 *
 * <p>At the end every mail B or A accepted is in exactly one place: bob's INBOX, B's quarantine, a hold repository
 * (A's or B's), A's sign-refused repository; a mail James refused at SMTP is counted and found nowhere, except that
 * James 3.8.1 answers a line over 8,192 octets with "500 Line length exceeded" in the middle of DATA and then spools
 * the mail without that line (a second reply, "250", to the same DATA), so such a mail is held like any. Each kind is
 * where it belongs (genuine: INBOX with pass; forgeries: quarantine with their verdict; forwarded: held as none; ...),
 * and no bounce went to a forged sender: every forged envelope sender is a mailbox on A or B that the test reads, the
 * relay counts every message that is not one of the run's, and alice's INBOX holds exactly the notices about her
 * refused mail. Error repositories and queues are empty.
 *
 * <p>{@code -Dauthhmac.mixed.mails=N} (default 200; 2000 for the figure in docs/RELIABILITY.md),
 * {@code -Dauthhmac.mixed.seed=N} replays a run.
 */
class MixedMailRunIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String HOLD = "file://var/mail/auth-hmac-hold/";
    static final String REFUSED = "file://var/mail/auth-hmac-sign-refused/";
    static final String ERROR = "file://var/mail/error/";
    /** A forwarding address on A (a WebAdmin forward to bob@b.example). */
    static final String FORWARDER = "fwd@a.example";
    /** Forged envelope senders: each a mailbox the test reads, so a bounce to it would be seen. */
    static final String CEO = "ceo@a.example";
    static final String SPOOFED = "spoofed@b.example";
    static final String NEWS = "news@c.example";
    static final String PASSWORD = "user-secret";
    static final int ATTEMPT_BOUND = 3;

    enum Kind {
        GENUINE(34), LARGE(2), FORGED_UNSIGNED(10), FORGED_BAD_MAC(8), REPLAY(8), MALFORMED_TO_B(6), MALFORMED_SUBMITTED(4),
        DUPLICATE_TO_B(5), DUPLICATE_SUBMITTED(4), FORWARDED(8), IMPERSONATION(4), OUTSIDER(6), LONG_LINE(1);

        final int weight;

        Kind(int weight) {
            this.weight = weight;
        }
    }

    /** Where a mail ended. */
    enum Place { INBOX, B_QUARANTINE, B_HOLD, A_HOLD, A_SIGN_REFUSED, A_ERROR, B_ERROR, REFUSED_AT_SMTP }

    record Sent(int index, Kind kind, String messageId, int replyCode, int replayOf) {
        boolean accepted() {
            return replyCode == 250;
        }
    }

    record Found(Place place, String result, String reason) {
    }

    private static AuthHmacPair pair;
    private static RelaySmtpServer relay;
    private static String run;
    private static Pattern runId;
    private static Pattern replayMarker;
    /** Index of a genuine mail -> its bytes as they left A, signed (the eavesdropper's capture). */
    private static final Map<Integer, String> captured = new ConcurrentHashMap<>();
    /** Index -> whether the copy that crossed the relay carried an X-Auth-HMAC. */
    private static final Map<Integer, Boolean> signedOnTheWire = new ConcurrentHashMap<>();
    private static final AtomicInteger othersThroughTheRelay = new AtomicInteger();

    @BeforeAll
    static void startPair() {
        run = Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        runId = Pattern.compile("(?im)^Message-ID:\\s*<mixed-(\\d+)-" + run + "@");
        replayMarker = Pattern.compile("mixed-replay-(\\d+)-" + run);
        relay = new RelaySmtpServer(message -> {
            int head = message.indexOf("\r\n\r\n");
            Matcher m = runId.matcher(head < 0 ? message : message.substring(0, head));
            if (m.find()) {
                int index = Integer.parseInt(m.group(1));
                boolean signed = message.regionMatches(true, 0, "X-Auth-HMAC:", 0, 12) || message.contains("\r\nX-Auth-HMAC:");
                signedOnTheWire.put(index, signed);
                if (signed) {
                    captured.put(index, message);
                }
            } else {
                othersThroughTheRelay.incrementAndGet();
                System.out.printf("mixed: the relay saw a message that is not one of the run's:%n%s%n",
                        message.substring(0, Math.min(message.length(), 600)));
            }
            return message;
        });
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "mixed-run");
        Path sending = JamesRuntime.repoPath("james-conf/sending");
        Path receiving = JamesRuntime.repoPath("james-conf/receiving");
        pair = AuthHmacPair.start(root, new AuthHmacPair.Layout(sending, receiving), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(JamesRuntime.javaxBundleJar()).confFile("mailetcontainer.xml", fastRetries(sending))
                        .properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES),
                b -> b.extensionJar(JamesRuntime.javaxBundleJar()).confFile("mailetcontainer.xml", fastRetries(receiving))
                        .properties("webadmin.properties", JamesMetrics.WEBADMIN_PROPERTIES),
                bSmtp -> {
                    relay.forwardTo(bSmtp);
                    return relay.port();
                });
        WebAdminClient a = pair.a().webAdmin();
        a.addUser(FORWARDER, PASSWORD);
        a.addForward(FORWARDER, AuthHmacPair.BOB);
        a.addUser(CEO, PASSWORD);
        WebAdminClient b = pair.b().webAdmin();
        b.addUser(SPOOFED, PASSWORD);
        b.addDomain("c.example");
        b.addUser(NEWS, PASSWORD);
    }

    /** The shipped mailetcontainer.xml with every retry 1 s apart and bounded at {@link #ATTEMPT_BOUND}. */
    static String fastRetries(Path conf) {
        try {
            String xml = Files.readString(conf.resolve("mailetcontainer.xml"));
            return MailetContainerEdits.retryAttempts(MailetContainerEdits.retryDelay(xml, "1s"), ATTEMPT_BOUND);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
        if (relay != null) {
            relay.close();
        }
    }

    @Test
    void everyMailOfASeededMixEndsInExactlyOnePlaceWhereItsKindBelongsAndNoBounceGoesToAForgedSender() throws Exception {
        long seed = Long.getLong("authhmac.mixed.seed", System.nanoTime());
        int mails = Integer.getInteger("authhmac.mixed.mails", 200);
        System.out.printf("mixed: seed %d, %d mails (-Dauthhmac.mixed.seed=%d replays the choice)%n", seed, mails, seed);
        Random random = new Random(seed);
        Instant start = Instant.now();

        // given a seeded mix of kinds, sent one after another as they are drawn
        List<Sent> sent = new ArrayList<>();
        Set<Integer> replayed = new HashSet<>();
        int genuineAccepted = 0;
        for (int i = 0; i < mails; i++) {
            Kind kind = draw(random);
            // a replay needs a genuine mail that A accepted and that was not replayed yet: until there is one (the
            // first draws, or every genuine mail so far replayed), the draw is made again instead of waiting for a
            // capture that cannot come
            while (kind == Kind.REPLAY && genuineAccepted <= replayed.size()) {
                kind = draw(random);
            }
            Sent s = send(i, kind, random, replayed);
            sent.add(s);
            if ((kind == Kind.GENUINE || kind == Kind.LARGE) && s.accepted()) {
                genuineAccepted++;
            }
            if (i % 50 == 49) {
                awaitBacklogBelow(300);
            }
        }
        Duration sending = Duration.between(start, Instant.now());
        Map<Integer, Sent> byIndex = new HashMap<>();
        sent.forEach(s -> byIndex.put(s.index(), s));

        // when both servers have decided about all of them
        Map<Integer, List<Found>> where = awaitEveryAcceptedMailSomewhere(sent,
                Duration.ofSeconds(Long.getLong("authhmac.mixed.settleSeconds", 300 + mails / 2)));
        Duration total = Duration.between(start, Instant.now());

        // then: the figures
        Map<Kind, Map<Place, Integer>> table = new EnumMap<>(Kind.class);
        for (Sent s : sent) {
            List<Found> in = where.get(s.index()).isEmpty() && !s.accepted()
                    ? List.of(new Found(Place.REFUSED_AT_SMTP, "", "")) : where.get(s.index());
            for (Found f : in) {
                table.computeIfAbsent(s.kind(), k -> new EnumMap<>(Place.class)).merge(f.place(), 1, Integer::sum);
            }
        }
        Map<String, Long> verdicts = new TreeMap<>();
        where.values().forEach(fs -> fs.stream().filter(f -> f.place() == Place.B_QUARANTINE)
                .forEach(f -> verdicts.merge(f.result() + "/" + f.reason(), 1L, Long::sum)));
        System.out.printf("mixed: %d mails, seed %d: sent in %d s, all decided after %d s%n", mails, seed,
                sending.toSeconds(), total.toSeconds());
        table.forEach((kind, places) -> System.out.printf("mixed: %-20s %4d  %s%n", kind,
                places.values().stream().mapToInt(Integer::intValue).sum(), places));
        Map<Place, Integer> perPlace = new EnumMap<>(Place.class);
        table.values().forEach(p -> p.forEach((place, n) -> perPlace.merge(place, n, Integer::sum)));
        System.out.printf("mixed: per destination %s%nmixed: quarantine verdicts %s%n", perPlace, verdicts);
        System.out.printf("mixed: SMTP answered other than 250 to %d mails, %d of which James spooled anyway%n",
                sent.stream().filter(s -> !s.accepted()).count(),
                sent.stream().filter(s -> !s.accepted() && !where.get(s.index()).isEmpty()).count());
        printCounters();

        // every mail is in exactly one place, or refused at SMTP and nowhere
        for (Sent s : sent) {
            if (s.accepted()) {
                assertThat(where.get(s.index())).as("places of %s", s).hasSize(1);
            } else {
                assertThat(where.get(s.index())).as("places of %s", s).hasSizeLessThanOrEqualTo(1);
            }
        }
        // each kind is where it belongs
        for (Sent s : sent) {
            if (s.kind() == Kind.LONG_LINE) {
                // James 3.8.1 answers "500 Line length exceeded" in the middle of DATA, drops the line, then answers
                // "250 Message received" to the same DATA and spools the rest: a sending MTA takes the 500 as final
                assertThat(s.replyCode()).as("%s", s).isEqualTo(500);
                assertThat(where.get(s.index())).as("%s", s).containsExactly(new Found(Place.B_QUARANTINE, "none", "no-signature"));
                continue;
            }
            assertThat(s.accepted()).as("accepted at SMTP: %s", s).isTrue();
            Found f = where.get(s.index()).get(0);
            String what = s + " -> " + f;
            switch (s.kind()) {
                case GENUINE, LARGE -> assertGenuineOrFirstCopyReplayed(s, f, byIndex, where);
                case REPLAY -> assertReplayCopy(s, f, where);
                case FORGED_UNSIGNED, FORWARDED -> {
                    assertThat(f).as(what).isEqualTo(new Found(Place.B_QUARANTINE, "none", "no-signature"));
                }
                case FORGED_BAD_MAC -> assertThat(f).as(what).isEqualTo(new Found(Place.B_QUARANTINE, "fail", "bad-mac"));
                case MALFORMED_TO_B, DUPLICATE_TO_B -> {
                    assertThat(f.place()).as(what).isEqualTo(Place.B_QUARANTINE);
                    assertThat(f.result()).as(what).isIn("none", "permerror");
                }
                case MALFORMED_SUBMITTED, DUPLICATE_SUBMITTED -> assertThat(f.place()).as(what).isEqualTo(Place.A_HOLD);
                case IMPERSONATION -> assertThat(f.place()).as(what).isEqualTo(Place.A_SIGN_REFUSED);
                case OUTSIDER -> assertThat(f).as(what).isEqualTo(new Found(Place.INBOX, "", ""));
                default -> throw new AssertionError(what);
            }
        }
        // forwarded Internet mail left A unsigned
        for (Sent s : sent) {
            if (s.kind() == Kind.FORWARDED) {
                assertThat(signedOnTheWire.get(s.index())).as("%s crossed the relay signed", s).isFalse();
            }
        }
        // no bounce to a forged sender, none through the relay, and alice got exactly her refusal notices
        for (ImapReader forgedSender : List.of(inboxOnA(CEO), inboxOnB(SPOOFED), inboxOnB(NEWS))) {
            assertThat(forgedSender.count()).as("messages in a forged sender's INBOX").isZero();
        }
        assertThat(othersThroughTheRelay.get()).as("messages through the relay that are not the run's").isZero();
        long refusedNotices = sent.stream().filter(s -> s.kind() == Kind.IMPERSONATION && s.accepted()).count();
        assertThat(new ImapReader(pair.a().ports().imap(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD).count())
                .as("alice's INBOX: one notice per refused mail of hers").isEqualTo((int) refusedNotices);
        for (JamesServerProcess server : List.of(pair.a(), pair.b())) {
            assertThat(server.webAdmin().repositorySize(ERROR)).as(server.name() + " error repository").isZero();
            assertThat(server.webAdmin().queueSize("spool")).as(server.name() + " spool").isZero();
            assertThat(server.webAdmin().queueSize("outgoing")).as(server.name() + " outgoing").isZero();
        }
    }

    private static void assertGenuineOrFirstCopyReplayed(Sent s, Found f, Map<Integer, Sent> byIndex, Map<Integer, List<Found>> where) {
        if (f.place() == Place.INBOX) {
            assertThat(f.result()).as("%s -> %s", s, f).isEqualTo("pass");
            return;
        }
        // the replay of it reached B first: then the replay passed, and this copy is the second
        Sent replay = byIndex.values().stream().filter(r -> r.replayOf() == s.index()).findFirst()
                .orElseThrow(() -> new AssertionError(s + " -> " + f + ", and it was never replayed"));
        assertThat(f).as("%s -> %s", s, f).isEqualTo(new Found(Place.B_QUARANTINE, "fail", "replay"));
        assertThat(where.get(replay.index())).as("its replay %s", replay).containsExactly(new Found(Place.INBOX, "pass", ""));
    }

    private static void assertReplayCopy(Sent s, Found f, Map<Integer, List<Found>> where) {
        if (f.place() == Place.INBOX) {
            assertThat(f.result()).as("%s -> %s", s, f).isEqualTo("pass");
            assertThat(where.get(s.replayOf())).as("the original of %s", s).containsExactly(new Found(Place.B_QUARANTINE, "fail", "replay"));
            return;
        }
        assertThat(f).as("%s -> %s", s, f).isEqualTo(new Found(Place.B_QUARANTINE, "fail", "replay"));
    }

    static Kind draw(Random random) {
        int total = 0;
        for (Kind k : Kind.values()) {
            total += k.weight;
        }
        int r = random.nextInt(total);
        for (Kind k : Kind.values()) {
            r -= k.weight;
            if (r < 0) {
                return k;
            }
        }
        throw new IllegalStateException();
    }

    private static Sent send(int i, Kind kind, Random random, Set<Integer> replayed) throws Exception {
        String id = "<mixed-" + i + "-" + run + "@" + (kind == Kind.OUTSIDER ? "c.example" : "a.example") + ">";
        String forgedSender = random.nextBoolean() ? CEO : SPOOFED;
        int code;
        int replayOf = -1;
        switch (kind) {
            case GENUINE -> code = submit(AuthHmacPair.ALICE, message(AuthHmacPair.ALICE, id, "figures " + i, text(random)));
            case LARGE -> code = submit(AuthHmacPair.ALICE, large(id, i, random));
            case IMPERSONATION -> code = submit(AuthHmacPair.ALICE,
                    message("\"CEO\" <" + CEO + ">", id, "new bank details " + i, "Pay to account 6666 from now on.\r\n"));
            case MALFORMED_SUBMITTED -> code = submit(AuthHmacPair.ALICE, malformed(AuthHmacPair.ALICE, id, i, random));
            case DUPLICATE_SUBMITTED -> code = submit(AuthHmacPair.ALICE, duplicated(AuthHmacPair.ALICE, id, i, random));
            case FORGED_UNSIGNED -> code = toB(forgedSender, message("CEO <" + CEO + ">", id, "urgent payment " + i, text(random)));
            case FORGED_BAD_MAC -> code = toB(forgedSender, signedWithAWrongKey(message("Alice <" + AuthHmacPair.ALICE + ">", id,
                    "figures " + i, text(random))));
            case MALFORMED_TO_B -> code = toB(forgedSender, malformed("CEO <" + CEO + ">", id, i, random));
            case DUPLICATE_TO_B -> code = toB(forgedSender, duplicated("CEO <" + CEO + ">", id, i, random));
            case LONG_LINE -> code = toB(forgedSender, message("CEO <" + CEO + ">", id, "long line " + i,
                    "x".repeat(9000 + random.nextInt(4000)) + "\r\n"));
            case OUTSIDER -> code = toB(NEWS, message("Newsletter <" + NEWS + ">", id, "news " + i, text(random)));
            case FORWARDED -> {
                String forwarded = message("CEO <" + CEO + ">", id, "please pay " + i, text(random));
                code = reply(() -> SmtpSender.mta(pair.a().ports().smtp()).send(CEO, List.of(FORWARDER), forwarded));
            }
            case REPLAY -> {
                replayOf = pickCaptured(random, replayed);
                id = "(replay of " + replayOf + ")";
                String marker = "Received: from attacker.example (attacker.example [192.0.2.7]) by mx.b.example;"
                        + " mixed-replay-" + i + "-" + run + "\r\n";
                code = toB(CEO, marker + captured.get(replayOf));
            }
            default -> throw new IllegalStateException(kind.toString());
        }
        return new Sent(i, kind, id, code, replayOf);
    }

    /** A genuine mail already captured and not yet replayed; waits for the first capture if there is none yet. */
    private static int pickCaptured(Random random, Set<Integer> replayed) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            List<Integer> candidates = captured.keySet().stream().filter(k -> !replayed.contains(k)).sorted().toList();
            if (!candidates.isEmpty()) {
                int chosen = candidates.get(random.nextInt(candidates.size()));
                replayed.add(chosen);
                return chosen;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no genuine mail crossed the relay within 120 s; A log:\n" + pair.a().logTail(30));
            }
            Thread.sleep(200);
        }
    }

    private static int submit(String from, String message) {
        return reply(() -> pair.aliceSubmission().send(from, List.of(AuthHmacPair.BOB), message));
    }

    private static int toB(String envelopeFrom, String message) {
        return new RawSmtpClient(pair.b().ports().smtp()).send(envelopeFrom, List.of(AuthHmacPair.BOB),
                message.getBytes(StandardCharsets.ISO_8859_1)).code();
    }

    private static int reply(Runnable send) {
        try {
            send.run();
            return 250;
        } catch (IllegalStateException refused) {
            System.out.printf("mixed: refused at SMTP: %s%n", refused.getMessage());
            return 550;
        }
    }

    static String message(String from, String messageId, String subject, String body) {
        return "From: " + from + "\r\nTo: " + AuthHmacPair.BOB + "\r\nSubject: " + subject + "\r\n"
                + "Date: " + DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now()) + "\r\nMessage-ID: " + messageId
                + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + body;
    }

    static String text(Random random) {
        StringBuilder b = new StringBuilder("Hello Bob,\r\n");
        int lines = 1 + random.nextInt(40);
        for (int l = 0; l < lines; l++) {
            b.append("line ").append(l).append(": ").append(Long.toString(random.nextLong(), 36)).append("\r\n");
        }
        return b.append("Alice\r\n").toString();
    }

    /** 1.5 to 3 MB: a text part and a base64 attachment. */
    static String large(String messageId, int i, Random random) {
        byte[] attachment = new byte[1_100_000 + random.nextInt(1_100_000)];
        random.nextBytes(attachment);
        return message(AuthHmacPair.ALICE, messageId, "large " + i, "")
                .replace("Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n",
                        "Content-Type: multipart/mixed; boundary=\"part\"\r\n")
                + "--part\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThe archive is attached.\r\n--part\r\n"
                + "Content-Type: application/octet-stream; name=\"archive.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString(attachment) + "\r\n--part--\r\n";
    }

    /** One of three MIME damages JavaMail cannot write back or read: a boundary that never occurs, or none. */
    static String malformed(String from, String messageId, int i, Random random) {
        String head = message(from, messageId, "quarterly report " + i, "");
        return switch (random.nextInt(3)) {
            case 0 -> head.replace("text/plain; charset=us-ascii", "multipart/mixed; boundary=\"never-there\"")
                    + "This is a multi-part message in MIME format.\r\nthere is no boundary line anywhere\r\n";
            case 1 -> head.replace("text/plain; charset=us-ascii", "multipart/mixed; boundary=\"outer\"")
                    + "--outer\r\nContent-Type: multipart/alternative; boundary=\"other\"\r\n\r\n--inner\r\n\r\ntext\r\n--outer\r\n";
            default -> head.replace("text/plain; charset=us-ascii", "multipart/mixed; boundary=")
                    + "--\r\nno boundary parameter value\r\n";
        };
    }

    /** Two Cc or two Subject fields. */
    static String duplicated(String from, String messageId, int i, Random random) {
        String m = message(from, messageId, "minutes " + i, text(random));
        return random.nextBoolean()
                ? m.replace("Subject: ", "Cc: one@b.example\r\nCc: two@b.example\r\nSubject: ")
                : m.replace("Subject: ", "Subject: URGENT: new bank details\r\nSubject: ");
    }

    /** A well-formed signature under the partner's key id, made with a key that is not the partner's: bad-mac. */
    static String signedWithAWrongKey(String message) throws Exception {
        byte[] wrongKey = new byte[32];
        new Random(message.hashCode()).nextBytes(wrongKey);
        List<String> header = new Signer(SignerSettings.defaults()).sign(
                new ByteArrayInputStream(message.getBytes(StandardCharsets.US_ASCII)),
                List.of(new SignRequest(AuthHmacPair.FIRST_KEY_ID, AuthHmacPair.A_DOMAIN, AuthHmacPair.B_DOMAIN, Instant.now())),
                StaticPeriodKeys.of(AuthHmacPair.FIRST_KEY_ID, wrongKey));
        return header.get(0) + "\r\n" + message;
    }

    private static void awaitBacklogBelow(long limit) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (backlog() > limit && System.nanoTime() < deadline) {
            Thread.sleep(1000);
        }
    }

    private static long backlog() {
        return pair.a().webAdmin().queueSize("spool") + pair.a().webAdmin().queueSize("outgoing") + pair.b().webAdmin().queueSize("spool");
    }

    /** Where each accepted mail is; waits until each is somewhere, the queues are empty and nothing moved for a while. */
    private static Map<Integer, List<Found>> awaitEveryAcceptedMailSomewhere(List<Sent> sent, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Stored> keyCache = new HashMap<>();
        Map<Integer, List<Found>> where = Map.of();
        int stableRounds = 0;
        String last = "";
        while (System.nanoTime() < deadline) {
            Map<Integer, List<Found>> now = locate(sent, keyCache);
            where = now;
            boolean allSomewhere = sent.stream().filter(Sent::accepted).allMatch(s -> !now.get(s.index()).isEmpty());
            String summary = now.toString();
            stableRounds = summary.equals(last) ? stableRounds + 1 : 0;
            last = summary;
            if (allSomewhere && backlog() == 0 && stableRounds >= 2) {
                return where;
            }
            Thread.sleep(3000);
        }
        Map<Integer, List<Found>> at = where;
        List<Sent> missing = sent.stream().filter(s -> s.accepted() && at.get(s.index()).isEmpty()).toList();
        throw new AssertionError(missing.size() + " mails nowhere after " + timeout + " (first: "
                + missing.stream().limit(10).toList() + "); A log:\n" + pair.a().logTail(30) + "\nB log:\n" + pair.b().logTail(30));
    }

    private static Map<Integer, List<Found>> locate(List<Sent> sent, Map<String, Stored> keyCache) {
        Map<Integer, List<Found>> where = new LinkedHashMap<>();
        sent.forEach(s -> where.put(s.index(), new ArrayList<>()));
        for (String block : pair.bobInbox().headerBlocks()) {
            Matcher ar = Pattern.compile("auth-hmac=([a-z]+)").matcher(block);
            place(where, block, new Found(Place.INBOX, ar.find() ? ar.group(1) : "", ""));
        }
        scan(where, keyCache, pair.b(), QUARANTINE, Place.B_QUARANTINE);
        scan(where, keyCache, pair.b(), HOLD, Place.B_HOLD);
        scan(where, keyCache, pair.b(), ERROR, Place.B_ERROR);
        scan(where, keyCache, pair.a(), HOLD, Place.A_HOLD);
        scan(where, keyCache, pair.a(), REFUSED, Place.A_SIGN_REFUSED);
        scan(where, keyCache, pair.a(), ERROR, Place.A_ERROR);
        return where;
    }

    /** A mail of a repository as first read: where it is, its verdict, its header block. */
    record Stored(Found found, String headers) {
    }

    private static void scan(Map<Integer, List<Found>> where, Map<String, Stored> keyCache, JamesServerProcess server,
                             String repository, Place place) {
        WebAdminClient admin = server.webAdmin();
        for (String key : admin.mailKeys(repository)) {
            Stored stored = keyCache.get(place + "/" + key);
            if (stored == null) {
                JsonNode mail;
                try {
                    mail = admin.mail(repository, key, "attributes,headers");
                } catch (IllegalStateException stillBeingWritten) {
                    System.out.printf("mixed: %s %s not readable yet: %s%n", place, key, stillBeingWritten.getMessage());
                    continue;
                }
                stored = new Stored(new Found(place, text(mail, "org.authhmac.result"), text(mail, "org.authhmac.reason")),
                        headerLines(mail.path("headers")));
                keyCache.put(place + "/" + key, stored);
            }
            place(where, stored.headers(), stored.found());
        }
    }

    /** WebAdmin gives the header fields as an object of name to values; back to "Name: value" lines. */
    private static String headerLines(JsonNode headers) {
        StringBuilder b = new StringBuilder();
        headers.fields().forEachRemaining(f -> f.getValue().forEach(v -> b.append(f.getKey()).append(": ").append(v.asText()).append("\r\n")));
        return b.toString();
    }

    private static String text(JsonNode mail, String attribute) {
        JsonNode value = mail.path("attributes").path(attribute);
        return value.isMissingNode() || value.isNull() ? "" : WebAdminClient.attribute(mail, attribute);
    }

    /** Adds the place to the mail the header block belongs to: a replay copy by its marker, else by its Message-ID. */
    private static void place(Map<Integer, List<Found>> where, String headerBlock, Found found) {
        Matcher replay = replayMarker.matcher(headerBlock);
        Matcher id = runId.matcher(headerBlock);
        Integer index = replay.find() ? Integer.valueOf(replay.group(1)) : id.find() ? Integer.valueOf(id.group(1)) : null;
        if (index != null && where.containsKey(index)) {
            where.get(index).add(found);
        }
    }

    private static ImapReader inboxOnA(String user) {
        return new ImapReader(pair.a().ports().imap(), user, PASSWORD);
    }

    private static ImapReader inboxOnB(String user) {
        return new ImapReader(pair.b().ports().imap(), user, PASSWORD);
    }

    private static void printCounters() {
        for (JamesServerProcess server : List.of(pair.a(), pair.b())) {
            JamesMetrics m = JamesMetrics.scrape(server);
            Map<String, Long> counters = new TreeMap<>();
            for (JamesMetrics.Sample s : m.startingWith("authhmac_")) {
                if (s.labels().isEmpty() && !s.name().endsWith("_count") && !s.name().endsWith("_sum")) {
                    counters.put(s.name(), (long) s.value());
                }
            }
            counters.put("bounces", m.counter("bounces"));
            counters.put("mailetContainerErrors", m.counter("mailetContainerErrors"));
            System.out.printf("mixed: %s counters %s%n", server.name(), counters);
        }
    }
}
