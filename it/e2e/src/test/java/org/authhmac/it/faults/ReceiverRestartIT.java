package org.authhmac.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.james.WebAdminClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Faults: the receiving James is SIGKILLed (the whole JVM) in the middle of a mail run and
 * restarted on the same working directory and ports; what it had accepted over SMTP must not be lost.
 *
 * <p>James 3.8.1's memory server keeps its mail queue in the heap, so B here runs the same server with a persistent
 * queue (ActiveMQ with its KahaDB journal under var/, {@code it/james-persistent-runtime}) and file:// repositories:
 * the final delivery is {@code ToRepository file://var/mail/delivered/} instead of LocalDelivery into the in-memory
 * mailbox, and quarantine and error repositories are file:// too. Its users and domains are in memory as well, so
 * b.example is configured in domainlist.xml and local mail is routed by domain (no recipient check at RCPT, no
 * RecipientIsLocal): after the restart B must not need bob's account back. Our mailets and matchers run as
 * james-conf/receiving ships them (only the repository type changes), and A is james-conf/sending as shipped on
 * the plain memory server.
 *
 * <p>A kill between B's enqueue and its "250" makes A send that mail again: the copy B had queued is delivered
 * after the restart, and A's second copy carries the same signature, so B holds it as a replay (at-least-once
 * delivery; the original is delivered, the test checks that). Such a first acceptance may also miss from B's log,
 * which died with the JVM, so the log's "accepted" count is a lower bound.
 *
 * <p>About two minutes (A's RemoteDelivery as shipped retries after 5 s, then 60 s: mails that met B down twice
 * wait a minute). Part of every verify; -Dauthhmac.restart=false leaves it out.
 * -Dauthhmac.restart.mails (default 400); -Dauthhmac.restart.seed replays the kill moment;
 * -Dauthhmac.restart.control=true adds the control run on the memory server's own queue. Needs
 * it/james-persistent-runtime built (the reactor builds it before it/e2e).
 */
@DisabledIfSystemProperty(named = "authhmac.restart", matches = "false")
class ReceiverRestartIT {
    static final String DELIVERED = "file://var/mail/delivered/";
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String ERROR = "file://var/mail/error/";
    static final String PERSISTENT_MAIN = "org.authhmac.it.persistent.PersistentQueueJamesServerMain";
    static final int SESSIONS = 4;
    private static final Pattern MESSAGE_ID_FIELD = Pattern.compile("\"Message-ID\"\\s*:\\s*\\[?\\s*\"\\s*(<[^>\"]*>)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern SPOOLED = Pattern.compile("Successfully spooled mail \\S+ with messageId (<[^>]*>)");

    /** B with the persistent queue (ActiveMQ/KahaDB), or, for the control run, the memory server's own queue. */
    static AuthHmacPair startPair(String dirName, boolean persistentQueue) throws IOException {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), dirName);
        Path bundle = JamesRuntime.javaxBundleJar();
        Path sending = JamesRuntime.repoPath("james-conf/sending");
        Path receiving = JamesRuntime.repoPath("james-conf/receiving");
        JamesRuntime persistentRuntime = persistentQueue ? persistentRuntime() : null;
        String mailetContainer = persistentReceiving(Files.readString(receiving.resolve("mailetcontainer.xml")));
        Path base = JamesRuntime.baseConf();
        String smtp = withoutRecipientCheck(Files.readString(base.resolve("smtpserver.xml")));
        String domains = withConfiguredDomain(Files.readString(base.resolve("domainlist.xml")), AuthHmacPair.B_DOMAIN);
        return AuthHmacPair.start(root, new AuthHmacPair.Layout(sending, receiving), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(bundle),
                b -> {
                    b.extensionJar(bundle)
                            .confFile("mailetcontainer.xml", mailetContainer)
                            .confFile("mailrepositorystore.xml", FILE_REPOSITORIES)
                            .confFile("smtpserver.xml", smtp)
                            .confFile("domainlist.xml", domains);
                    if (persistentQueue) {
                        b.runtime(persistentRuntime).mainClass(PERSISTENT_MAIN);
                    }
                },
                port -> port);
    }


    /** The memory server's class path plus ActiveMQ and our persistent-queue main class, built by it/james-persistent-runtime. */
    static JamesRuntime persistentRuntime() {
        Path lib = Path.of(System.getProperty("authhmac.it.persistentJamesLib",
                JamesRuntime.repoPath("it/james-persistent-runtime/target/james-lib-persistent").toString()));
        if (!Files.exists(lib.resolve("auth-hmac-it-james-persistent-runtime-0.1.0-SNAPSHOT.jar"))) {
            throw new IllegalStateException("No persistent-queue James at " + lib
                    + ": build it with scripts/mvn -B -pl it/james-persistent-runtime install");
        }
        return new JamesRuntime(lib.toAbsolutePath().normalize(), JamesRuntime.fromSystemProperties().javaHome());
    }

    static final String FILE_REPOSITORIES = """
            <?xml version="1.0"?>
            <!-- written by ReceiverRestartIT: file:// repositories (on disk under the working directory) besides memory:// -->
            <mailrepositorystore>
              <defaultProtocol>file</defaultProtocol>
              <mailrepositories>
                <mailrepository class="org.apache.james.mailrepository.memory.MemoryMailRepository">
                  <protocols><protocol>memory</protocol></protocols>
                </mailrepository>
                <mailrepository class="org.apache.james.mailrepository.file.FileMailRepository">
                  <protocols><protocol>file</protocol></protocols>
                  <config FIFO="false" CACHEKEYS="true"/>
                </mailrepository>
              </mailrepositories>
            </mailrepositorystore>
            """;

    /**
     * james-conf/receiving with every repository on disk (memory:// becomes file://), final delivery into a file
     * repository instead of the in-memory mailbox, and local mail recognised by its domain (the users are in memory).
     */
    static String persistentReceiving(String xml) {
        String localDelivery = "<mailet match=\"All\" class=\"LocalDelivery\"/>";
        String recipientIsLocal = "match=\"RecipientIsLocal\"";
        for (String expected : List.of(localDelivery, recipientIsLocal, "file://var/mail/auth-hmac-quarantine/")) {
            if (!xml.contains(expected)) {
                throw new IllegalStateException("james-conf/receiving/mailetcontainer.xml no longer has " + expected);
            }
        }
        return xml.replace("memory://var/mail/", "file://var/mail/")
                .replace(localDelivery, "<mailet match=\"All\" class=\"ToRepository\"><repositoryPath>" + DELIVERED
                        + "</repositoryPath></mailet>")
                .replace(recipientIsLocal, "match=\"HostIsLocal\"");
    }

    static String withoutRecipientCheck(String smtpServer) {
        String handler = "<handler class=\"org.apache.james.smtpserver.fastfail.ValidRcptHandler\"/>";
        if (!smtpServer.contains(handler)) {
            throw new IllegalStateException("base smtpserver.xml no longer has " + handler);
        }
        return smtpServer.replace(handler, "");
    }

    static String withConfiguredDomain(String domainList, String domain) {
        return domainList.replace("</domainlist>",
                "  <domainnames><domainname>" + domain + "</domainname></domainnames>\n</domainlist>");
    }

    @Test
    void killingTheReceivingJamesMidRunLosesNothingItAcceptedAndQuarantinesNoGoodMail() throws Exception {
        try (AuthHmacPair pair = startPair("receiver-restart", true)) {
            Run r = sendKillRestartDrain(pair, "persistent queue");

            assertThat(r.sent()).as("alice submitted every mail").hasSize(r.mails());
            // nothing B accepted over SMTP is lost, before or after the kill, and nothing sent is missing
            assertThat(r.delivered().keySet()).as("delivered Message-IDs")
                    .containsAll(r.accepted().keySet()).containsExactlyInAnyOrderElementsOf(r.sent());
            // the kill found B with accepted mail not yet delivered: the persistent queue was put to the test
            assertThat(r.acceptedBeforeKill()).as("accepted before the kill, more than delivered at the kill")
                    .isGreaterThan(r.deliveredAtKill());
            // no good mail is quarantined. A copy that B had already queued when it died, sent again by A because the
            // 250 never reached it, is the same signature twice: only such a copy may be held, as a replay, and only
            // when the first copy was delivered (the original is never the one held)
            assertThat(r.quarantined()).as("quarantined").allSatisfy(held -> {
                assertThat(WebAdminClient.attribute(held, "org.authhmac.reason")).isEqualTo("replay");
                assertThat(r.delivered()).containsKey(messageId(held));
            });
            // every delivered copy was verified by B: pass
            assertThat(r.deliveredMails()).allSatisfy(m -> assertThat(WebAdminClient.attribute(m, "org.authhmac.result")).isEqualTo("pass"));
            // and nothing is stuck: A's queues, B's spool, both error repositories empty
            WebAdminClient adminA = pair.a().webAdmin();
            WebAdminClient adminB = pair.b().webAdmin();
            assertThat(adminA.queueSize("spool")).as("A spool").isZero();
            assertThat(adminA.queueSize("outgoing")).as("A outgoing").isZero();
            assertThat(adminB.queueSize("spool")).as("B spool").isZero();
            assertThat(adminA.repositorySize("file://var/mail/error/")).as("A error repository").isZero();
            assertThat(adminB.repositorySize(ERROR)).as("B error repository").isZero();
        }
    }

    /**
     * The control: the same run with B on the memory server's own queue (everything else as above, file://
     * repositories included). What B had accepted and not yet delivered when it died is gone, and the checks of the
     * test above see it. Only with -Dauthhmac.restart.control=true.
     */
    @Test
    @EnabledIfSystemProperty(named = "authhmac.restart.control", matches = "true")
    void withTheMemoryQueueTheSameKillLosesAcceptedMail() throws Exception {
        try (AuthHmacPair pair = startPair("receiver-restart-memory-queue", false)) {
            Run r = sendKillRestartDrain(pair, "memory queue (control)");
            List<String> lost = r.sent().stream().filter(id -> !r.delivered().containsKey(id)).sorted().toList();
            System.out.printf("receiver restart, memory queue (control): lost %d of %d sent, all logged as accepted by B "
                    + "before the kill: %s%n", lost.size(), r.sent().size(), r.accepted().keySet().containsAll(lost));
            assertThat(lost).as("mails lost with the memory queue").isNotEmpty();
            assertThat(r.accepted().keySet()).as("the lost mails had been accepted by B over SMTP").containsAll(lost);
        }
    }

    /** What one run measured; Message-ID maps count copies. */
    record Run(int mails, List<String> sent, Map<String, Integer> accepted, long acceptedBeforeKill, long deliveredAtKill,
               Map<String, Integer> delivered, List<JsonNode> deliveredMails, List<JsonNode> quarantined) {
    }

    /**
     * Alice sends -Dauthhmac.restart.mails through A over several SMTP sessions at once; once B has delivered a random
     * 30 to 60 % of them, B is SIGKILLed and restarted at once on the same working directory, ports and swtpm; then the
     * run waits until A and B have nothing left to do, and reads what B delivered, quarantined and logged.
     */
    static Run sendKillRestartDrain(AuthHmacPair pair, String label) throws Exception {
        int mails = Integer.getInteger("authhmac.restart.mails", 400);
        long seed = Long.getLong("authhmac.restart.seed", System.nanoTime());
        Random random = new Random(seed);
        int killAfterDelivered = (int) (mails * (0.30 + 0.30 * random.nextDouble()));
        String run = UUID.randomUUID().toString().substring(0, 8);
        JamesServerProcess b = pair.b();
        WebAdminClient adminA = pair.a().webAdmin();
        WebAdminClient adminB = b.webAdmin();
        Path deliveredDir = b.workDir().resolve("var/mail/delivered");
        System.out.printf("receiver restart, %s: seed %d, %d mails over %d sessions, kill once B has delivered %d%n",
                label, seed, mails, SESSIONS, killAfterDelivered);

        // given alice sending mails to bob through A over several SMTP sessions at once (10 mails per session)
        List<String> sent = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger submitted = new AtomicInteger();
        long runStart = System.nanoTime();
        List<Thread> senders = new ArrayList<>();
        for (int s = 0; s < SESSIONS; s++) {
            int session = s;
            senders.add(Thread.ofPlatform().name("alice-" + s).start(() -> {
                SmtpSender alice = pair.aliceSubmission();
                for (int i = session; i < mails; i += SESSIONS * 10) {
                    List<String> batch = new ArrayList<>();
                    List<String> ids = new ArrayList<>();
                    for (int j = i; j < Math.min(mails, i + SESSIONS * 10); j += SESSIONS) {
                        String id = "restart-" + run + "-" + j + "@a.example";
                        batch.add(SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "restart run " + j, id, "mail " + j + "\n"));
                        ids.add("<" + id + ">");
                    }
                    alice.sendAll(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), batch);
                    sent.addAll(ids);
                    submitted.addAndGet(ids.size());
                }
            }));
        }

        // when B is SIGKILLed in the middle of the run
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (adminB.repositorySize(DELIVERED) < killAfterDelivered) {
            assertThat(System.nanoTime()).as("B delivered %d within 120 s", killAfterDelivered).isLessThan(deadline);
            Thread.sleep(20);
        }
        long spoolBeforeKill = adminB.queueSize("spool");
        b.kill();
        long killMillis = millisSince(runStart);
        int submittedAtKill = submitted.get();
        // B's log up to its death (the restart appends to the same file), and what B had written to its delivered
        // repository when it died, read from disk: the exact state, no race with a WebAdmin call
        long logOffsetAtKill = b.logs().length();
        long deliveredAtKill = filesEndingWith(deliveredDir, ".FileObjectStore");
        // and restarted at once on the same working directory, ports and swtpm
        long restartStart = System.nanoTime();
        b.launch();
        b.awaitHealthy(Duration.ofSeconds(120));
        long restartMillis = millisSince(restartStart);
        for (Thread t : senders) {
            t.join();
        }
        System.out.printf("receiver restart, %s: killed at %d ms (submitted %d, B delivered %d, B spool %d just before), "
                + "healthy again %d ms later%n", label, killMillis, submittedAtKill, deliveredAtKill, spoolBeforeKill, restartMillis);

        // then wait until everything is delivered, or nothing has been left to do anywhere for 15 s (mail was lost)
        long drainDeadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
        long idleSince = -1;
        while (System.nanoTime() < drainDeadline) {
            boolean idle = adminA.queueSize("spool") == 0 && adminA.queueSize("outgoing") == 0 && adminB.queueSize("spool") == 0;
            if (idle && adminB.repositorySize(DELIVERED) >= mails) {
                break;
            }
            idleSince = idle ? (idleSince < 0 ? System.nanoTime() : idleSince) : -1;
            if (idleSince > 0 && System.nanoTime() - idleSince > Duration.ofSeconds(15).toNanos()) {
                break;
            }
            Thread.sleep(1000);
        }
        long drainedMillis = millisSince(runStart);
        List<JsonNode> deliveredMails = mails(adminB, DELIVERED).stream()
                .filter(m -> messageId(m).contains("restart-" + run + "-")).toList();
        Map<String, Integer> delivered = new TreeMap<>();
        deliveredMails.forEach(m -> delivered.merge(messageId(m), 1, Integer::sum));
        int deliveredCopies = delivered.values().stream().mapToInt(Integer::intValue).sum();
        Map<String, Integer> duplicates = new TreeMap<>(delivered);
        duplicates.values().removeIf(copies -> copies < 2);
        String log = b.logs();
        Map<String, Integer> accepted = spooledMessageIds(log, run);
        int acceptances = accepted.values().stream().mapToInt(Integer::intValue).sum();
        long acceptedBeforeKill = spooledMessageIds(log.substring(0, (int) logOffsetAtKill), run).size();
        List<JsonNode> quarantined = mails(adminB, QUARANTINE);
        System.out.printf("receiver restart, %s: sent %d, logged as accepted by B %d (%d SMTP acceptances), accepted before "
                        + "the kill %d (of which %d not yet delivered at the kill), delivered %d (%d copies, %d duplicated: %s), "
                        + "quarantined %d (%s), B error repository %d; done %d ms after the start%n",
                label, sent.size(), accepted.size(), acceptances, acceptedBeforeKill, acceptedBeforeKill - deliveredAtKill,
                delivered.size(), deliveredCopies, duplicates.size(), duplicates, quarantined.size(),
                quarantined.stream().map(q -> messageId(q) + " " + WebAdminClient.attribute(q, "org.authhmac.reason")).toList(),
                adminB.repositorySize(ERROR), drainedMillis);
        return new Run(mails, List.copyOf(sent), accepted, acceptedBeforeKill, deliveredAtKill, delivered, deliveredMails, quarantined);
    }

    static List<JsonNode> mails(WebAdminClient admin, String repository) {
        List<JsonNode> all = new ArrayList<>();
        for (String key : admin.mailKeys(repository)) {
            all.add(admin.mail(repository, key));
        }
        return all;
    }

    /** The Message-ID of a mail as WebAdmin returns it ({"headers": {"Message-ID": ["<...>"]}}, the name spelled as stored). */
    static String messageId(JsonNode mail) {
        Matcher m = MESSAGE_ID_FIELD.matcher(mail.path("headers").toString());
        if (!m.find()) {
            throw new AssertionError("no Message-ID in " + mail.path("headers"));
        }
        return m.group(1);
    }

    /** Message-IDs of this run that B's SMTP server logged as accepted ("Successfully spooled"), with how often. */
    static Map<String, Integer> spooledMessageIds(String log, String run) {
        Map<String, Integer> ids = new TreeMap<>();
        Matcher m = SPOOLED.matcher(log);
        while (m.find()) {
            if (m.group(1).contains("restart-" + run + "-")) {
                ids.merge(m.group(1), 1, Integer::sum);
            }
        }
        return ids;
    }

    static long filesEndingWith(Path dir, String suffix) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(suffix)).count();
        }
    }

    private static long millisSince(long nanoStart) {
        return (System.nanoTime() - nanoStart) / 1_000_000;
    }
}
