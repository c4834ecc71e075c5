package org.authhmac.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.testing.james.WebAdminClient.attribute;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.KeyCli;
import org.authhmac.testing.james.RelaySmtpServer;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.redis.RedisServer;
import org.authhmac.testing.tpm.SwtpmProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two James 3.8.1 nodes receive for b.example behind one load balancer, as several MX nodes do: B1 and B2, each with its
 * own swtpm holding the same partner key (generated in A's TPM, exported once, imported on each node, the export
 * deleted), and one replay cache in a shared redis-server (append-only file, {@code appendfsync always}) that the
 * nodes reach over TLS ({@code rediss://}, a test CA in their trust store). A signs what
 * alice sends; the balancer (a store-and-forward relay that also keeps what it carried, as an attacker on the path
 * would) hands the transactions to B1 and B2 in turn.
 *
 * <p>{@code -Dauthhmac.cluster.replayStore=memory} gives the nodes their own in-memory caches instead: the replays below
 * then pass, which is what this test exists to catch. Mails in the Redis-kill run: {@code -Dauthhmac.cluster.mails}
 * (default 300; the figure in docs/RELIABILITY.md is 2000).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoReceivingNodesIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final String HOLD = "file://var/mail/auth-hmac-hold/";

    private static RedisServer redis;
    private static RelaySmtpServer balancer;
    private static SwtpmProcess tpmA;
    private static SwtpmProcess tpmB1;
    private static SwtpmProcess tpmB2;
    private static JamesServerProcess a;
    private static JamesServerProcess b1;
    private static JamesServerProcess b2;

    @BeforeAll
    static void startCluster() throws IOException {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "two-nodes").toAbsolutePath();
        JamesServerProcess.deleteRecursively(root);
        Path bundle = JamesRuntime.javaxBundleJar();
        redis = RedisServer.startAppendOnlyWithTls("always");
        // the balancer keeps every transaction it carried (RelaySmtpServer.received): the attacker's capture
        balancer = new RelaySmtpServer(UnaryOperator.identity());
        tpmA = new SwtpmProcess(root.resolve("tpm-a")).start();
        tpmB1 = new SwtpmProcess(root.resolve("tpm-b1")).start();
        tpmB2 = new SwtpmProcess(root.resolve("tpm-b2")).start();
        Map<String, String> sharedCache = new LinkedHashMap<>();
        sharedCache.put("replayCache.store", System.getProperty("authhmac.cluster.replayStore", "redis"));
        if (sharedCache.get("replayCache.store").equals("redis")) {
            sharedCache.put("replayCache.redis.uri", redis.tls().uri());
        }
        a = JamesServerProcess.builder("a", root.resolve("james-a")).baseConf().confLayer(JamesRuntime.repoPath("james-conf/sending"))
                .properties("auth-hmac.properties", AuthHmacPair.vaultProperties(AuthHmacPair.VaultKind.TPM, tpmA))
                .extensionJar(bundle).build();
        b1 = receivingNode("b1", root, tpmB1, sharedCache, bundle);
        b2 = receivingNode("b2", root, tpmB2, sharedCache, bundle);
        a.gatewayTo(balancer.port()).prepare();
        balancer.forwardToEach(b1.ports().smtp(), b2.ports().smtp());
        b1.gatewayTo(a.ports().smtp()).prepare();
        b2.gatewayTo(a.ports().smtp()).prepare();

        // the partner key: generated in A's TPM, its one export imported on each node, then deleted
        KeyCli cli = KeyCli.fromSystemProperties();
        Path export = root.resolve("a-b-k1.secret");
        cli.run(AuthHmacPair.authHmacConfig(a), "keys", "generate", "--keyset", AuthHmacPair.KEYSET, "--key-id",
                AuthHmacPair.FIRST_KEY_ID, "--export", export.toString());
        for (JamesServerProcess node : List.of(b1, b2)) {
            cli.run(AuthHmacPair.authHmacConfig(node), "keys", "import", "--from", export.toString(), "--keyset", AuthHmacPair.KEYSET);
        }
        Files.delete(export);

        for (JamesServerProcess server : List.of(a, b1, b2)) {
            server.launch();
        }
        for (JamesServerProcess server : List.of(a, b1, b2)) {
            server.awaitHealthy(Duration.ofSeconds(180));
        }
        a.webAdmin().addDomain(AuthHmacPair.A_DOMAIN);
        a.webAdmin().addUser(AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD);
        a.webAdmin().addUser("postmaster@" + AuthHmacPair.A_DOMAIN, AuthHmacPair.POSTMASTER_PASSWORD);
        for (JamesServerProcess node : List.of(b1, b2)) {
            addAccounts(node);
        }
    }

    /** b.example, bob and the postmaster: a memory James forgets them when it stops (its mail repositories stay on disk). */
    private static void addAccounts(JamesServerProcess node) {
        node.webAdmin().addDomain(AuthHmacPair.B_DOMAIN);
        node.webAdmin().addUser(AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD);
        node.webAdmin().addUser("postmaster@" + AuthHmacPair.B_DOMAIN, AuthHmacPair.POSTMASTER_PASSWORD);
    }

    private static JamesServerProcess receivingNode(String name, Path root, SwtpmProcess tpm, Map<String, String> cache, Path bundle) {
        JamesServerProcess.Builder node = JamesServerProcess.builder(name, root.resolve("james-" + name)).baseConf()
                .confLayer(JamesRuntime.repoPath("james-conf/receiving"))
                .properties("auth-hmac.properties", AuthHmacPair.vaultProperties(AuthHmacPair.VaultKind.TPM, tpm))
                .properties("auth-hmac-partners.properties", cache)
                .extensionJar(bundle);
        // the nodes reach Redis over TLS (rediss://), trusting the test CA as a JVM option, as an operator would
        redis.tls().jvmOptions().forEach(node::jvmOption);
        return node.build();
    }

    @AfterAll
    static void stopCluster() {
        List<Thread> stops = new ArrayList<>();
        for (JamesServerProcess server : new JamesServerProcess[] {a, b1, b2}) {
            if (server != null) {
                stops.add(Thread.ofPlatform().start(server::stop));
            }
        }
        for (Thread t : stops) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (AutoCloseable c : new AutoCloseable[] {tpmA, tpmB1, tpmB2, redis, balancer}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // keep stopping the others
            }
        }
    }

    @Test
    @Order(0)
    void keysListShowsTheSameFingerprintOfThePartnerKeyOnEveryNode() {
        KeyCli cli = KeyCli.fromSystemProperties();
        List<String> fingerprints = new ArrayList<>();
        for (JamesServerProcess server : List.of(a, b1, b2)) {
            String listing = cli.run(AuthHmacPair.authHmacConfig(server), "keys", "list");
            String line = listing.lines().filter(l -> l.startsWith(AuthHmacPair.FIRST_KEY_ID + " ")).findFirst()
                    .orElseThrow(() -> new AssertionError(server.name() + " lists no " + AuthHmacPair.FIRST_KEY_ID + ":\n" + listing));
            Matcher fingerprint = Pattern.compile("([0-9a-f]{4}(?:-[0-9a-f]{4}){7})").matcher(line);
            assertThat(fingerprint.find()).as(server.name() + ": " + line).isTrue();
            fingerprints.add(fingerprint.group(1));
        }
        // the sender and both receiving nodes hold one key: one fingerprint, from each node's own TPM
        assertThat(fingerprints).as("fingerprints of a, b1, b2").containsOnly(fingerprints.get(0));
    }

    @Test
    @Order(1)
    void aMailDeliveredThroughOneNodeAndReplayedToTheOtherIsHeldAsAReplayThere() {
        // given two mails from alice, which the balancer hands to the two nodes in turn
        String first = sendFromAlice("cluster first");
        String second = sendFromAlice("cluster second");
        JamesServerProcess firstNode = awaitDelivered(first);
        JamesServerProcess secondNode = awaitDelivered(second);
        assertThat(List.of(firstNode, secondNode)).as("one mail through each node").containsExactlyInAnyOrder(b1, b2);

        // when each captured mail is replayed to the node that did not deliver it
        replay(first, other(firstNode));
        replay(second, other(secondNode));

        // then each is held there as a replay, and bob has each mail once, on the node that delivered it
        for (String id : List.of(first, second)) {
            assertHeldAsReplay(other(deliveredBy(id)), id);
            assertThat(inbox(deliveredBy(id)).findByMessageId(id)).hasSize(1);
            assertThat(inbox(other(deliveredBy(id))).findByMessageId(id)).isEmpty();
        }
    }

    @Test
    @Order(2)
    void afterANodeRestartsAReplayOfMailEitherNodeDeliveredIsStillHeld() {
        // given one mail delivered through each node
        String first = sendFromAlice("before restart one");
        String second = sendFromAlice("before restart two");
        assertThat(java.util.Set.of(awaitDelivered(first), awaitDelivered(second))).as("one mail through each node").hasSize(2);

        // when B2 restarts (its memory gone: an in-memory cache would have forgotten every pass)
        b2.stop();
        b2.launch();
        b2.awaitHealthy(Duration.ofSeconds(180));
        addAccounts(b2);

        // then both mails replayed to B2, the one it delivered itself and the one B1 delivered, are held as replays
        for (String id : List.of(first, second)) {
            replay(id, b2);
            assertHeldAsReplay(b2, id);
        }
        // and a new mail through B2 after its restart still passes
        String after = sendFromAlice("after restart");
        String another = sendFromAlice("after restart two");
        assertThat(List.of(awaitDelivered(after), awaitDelivered(another))).contains(b2);
    }

    /** Milliseconds from the run's start. */
    record Outage(long startMillis, long endMillis) {
        boolean overlaps(Outage o, long marginMillis) {
            return startMillis < o.endMillis + marginMillis && o.startMillis < endMillis + marginMillis;
        }
    }

    static List<Outage> drawOutages(Random random, long runMillis) {
        List<Outage> outages = new ArrayList<>();
        while (outages.size() < 3) {
            long start = 2000 + (long) random.nextInt((int) (runMillis - 10_000));
            Outage candidate = new Outage(start, start + 2000 + random.nextInt(3000));
            if (outages.stream().noneMatch(o -> o.overlaps(candidate, 3000))) {
                outages.add(candidate);
            }
        }
        outages.sort((x, y) -> Long.compare(x.startMillis, y.startMillis));
        return outages;
    }

    @Test
    @Order(3)
    void threeRedisKillsDuringAMailRunLoseNothingPassNothingTwiceAndHoldNoGoodMail() throws Exception {
        int mails = Integer.getInteger("authhmac.cluster.mails", 300);
        long seed = Long.getLong("authhmac.cluster.seed", System.nanoTime());
        long runMillis = Math.max(40_000, mails * 25L);
        long pauseMillis = runMillis / mails;
        String run = UUID.randomUUID().toString().substring(0, 8);
        Map<JamesServerProcess, Long> quarantinedBefore = Map.of(b1, quarantined(b1), b2, quarantined(b2));
        long temperrorsBefore = temperrorLines();
        List<Outage> outages = drawOutages(new Random(seed), runMillis);
        System.out.printf("redis kills: seed %d, %d mails over %d ms, outages (ms from start) %s%n", seed, mails, runMillis, outages);

        // given a steady stream of mail from alice to bob, spread over both nodes
        List<String> sent = Collections.synchronizedList(new ArrayList<>());
        long runStart = System.currentTimeMillis();
        Thread sender = Thread.ofPlatform().name("alice-stream").start(() -> {
            SmtpSender alice = SmtpSender.submission(a.ports().submission(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD);
            for (int i = 0; i < mails; i++) {
                String id = "cluster-" + run + "-" + i + "@a.example";
                alice.send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                        SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "cluster run " + i, id, "mail " + i + "\n"));
                sent.add("<" + id + ">");
                sleep(runStart + (i + 1) * pauseMillis - System.currentTimeMillis());
            }
        });

        // when the shared Redis is SIGKILLed three times and restarted (it reloads its append-only file)
        boolean unhealthySeen = false;
        for (Outage o : outages) {
            sleep(runStart + o.startMillis - System.currentTimeMillis());
            redis.kill();
            if (!unhealthySeen) {
                // (the first outage only: the health probe waits up to its limit on a dead Redis)
                var health = b1.webAdmin().healthcheck();
                assertThat(health.statusCode()).as("b1's health with Redis down").isEqualTo(503);
                assertThat(health.body()).contains("AuthHmacReplayCache", redis.tls().uri());
                unhealthySeen = true;
            }
            sleep(runStart + o.endMillis - System.currentTimeMillis());
            redis.restart();
        }
        sender.join();
        assertThat(b1.webAdmin().healthcheck().statusCode()).as("b1's health with Redis back").isEqualTo(200);

        // then every mail reaches bob through one of the nodes (waiting while mail still moves: a temperror waits 15 s)
        long lastProgress = System.nanoTime();
        long accounted = -1;
        Map<JamesServerProcess, List<String>> delivered = Map.of();
        while (System.nanoTime() - lastProgress < Duration.ofSeconds(120).toNanos()) {
            delivered = Map.of(b1, ofRun(b1, run), b2, ofRun(b2, run));
            long now = delivered.get(b1).size() + delivered.get(b2).size() + heldSince(quarantinedBefore);
            if (now >= sent.size()) {
                break;
            }
            if (now > accounted) {
                accounted = now;
                lastProgress = System.nanoTime();
            }
            Thread.sleep(2000);
        }
        List<String> all = new ArrayList<>(delivered.get(b1));
        all.addAll(delivered.get(b2));
        long temperrors = temperrorLines() - temperrorsBefore;
        System.out.printf("redis kills: sent %d, delivered by b1 %d, by b2 %d, quarantined %d, temperror lines %d, %d s after the run%n",
                sent.size(), delivered.get(b1).size(), delivered.get(b2).size(), heldSince(quarantinedBefore), temperrors,
                (System.currentTimeMillis() - runStart - runMillis) / 1000);
        // none lost, none passed twice (on one node or on both)
        assertThat(all).as("each mail delivered exactly once, over both nodes").doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(sent);
        // no good mail held
        assertThat(heldSince(quarantinedBefore)).as("good mail quarantined").isZero();
        // every temperror retried to a verdict: nothing waiting, nothing given up on
        for (JamesServerProcess server : List.of(a, b1, b2)) {
            assertThat(server.webAdmin().queueSize("spool")).as(server.name() + " spool").isZero();
            assertThat(server.webAdmin().queueSize("outgoing")).as(server.name() + " outgoing").isZero();
            assertThat(server.webAdmin().repositorySize("file://var/mail/error/")).as(server.name() + " error").isZero();
        }
        for (JamesServerProcess node : List.of(b1, b2)) {
            assertThat(node.webAdmin().repositorySize(HOLD)).as(node.name() + " hold").isZero();
        }
        // and the kills met mail: at least one verdict was temperror while Redis was down
        assertThat(temperrors).as("mail verified while Redis was down").isPositive();

        // and what passed before, between and after the kills is still a replay on either node (the AOF kept it)
        List<String> sample = new ArrayList<>();
        for (int i = 0; i < sent.size(); i += Math.max(1, sent.size() / 10)) {
            sample.add(sent.get(i));
        }
        sample.add(sent.get(sent.size() - 1));
        for (String id : sample) {
            replay(id, b1);
            replay(id, b2);
        }
        for (String id : sample) {
            assertHeldAsReplay(b1, id);
            assertHeldAsReplay(b2, id);
        }
        System.out.printf("redis kills: %d replays held as replay across the two nodes%n", sample.size() * 2);
        List<String> after = new ArrayList<>(ofRun(b1, run));
        after.addAll(ofRun(b2, run));
        assertThat(after).as("still each mail once after the replays").doesNotHaveDuplicates().hasSize(sent.size());
    }

    private static String sendFromAlice(String subject) {
        String id = "<" + UUID.randomUUID() + "@a.example>";
        SmtpSender.submission(a.ports().submission(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD)
                .send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                        SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, subject, id.substring(1, id.length() - 1), subject + "\n"));
        return id;
    }

    /** Waits (up to 120 s) until one node delivered this mail to bob, and returns that node. */
    private static JamesServerProcess awaitDelivered(String id) {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            JamesServerProcess node = deliveredBy(id);
            if (node != null) {
                return node;
            }
            sleep(500);
        }
        throw new AssertionError(id + " reached neither node's INBOX; b1:\n" + b1.logTail(30) + "\nb2:\n" + b2.logTail(30));
    }

    private static JamesServerProcess deliveredBy(String id) {
        for (JamesServerProcess node : List.of(b1, b2)) {
            if (!inbox(node).findByMessageId(id).isEmpty()) {
                return node;
            }
        }
        return null;
    }

    private static JamesServerProcess other(JamesServerProcess node) {
        return node == b1 ? b2 : b1;
    }

    private static ImapReader inbox(JamesServerProcess node) {
        return new ImapReader(node.ports().imap(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD);
    }

    /** Sends the bytes the balancer carried for this mail straight to a node's MX port, as an attacker would. */
    private static void replay(String id, JamesServerProcess node) {
        String message = balancer.received().stream().map(RelaySmtpServer.Transaction::message)
                .filter(m -> m.lines().anyMatch(l -> l.regionMatches(true, 0, "Message-ID:", 0, 11) && l.contains(id)))
                .findFirst().orElseThrow(() -> new AssertionError("the balancer carried no " + id));
        SmtpSender.mta(node.ports().smtp()).send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB), message);
    }

    private static void assertHeldAsReplay(JamesServerProcess node, String id) {
        String key = node.awaitRepositoryMailKey(QUARANTINE, id);
        JsonNode held = node.webAdmin().mail(QUARANTINE, key);
        assertThat(attribute(held, "org.authhmac.reason")).as(node.name() + " holds " + id + " as").isEqualTo("replay");
    }

    private static long quarantined(JamesServerProcess node) {
        return node.webAdmin().repositorySize(QUARANTINE);
    }

    private static long heldSince(Map<JamesServerProcess, Long> before) {
        return quarantined(b1) - before.get(b1) + quarantined(b2) - before.get(b2);
    }

    private static List<String> ofRun(JamesServerProcess node, String run) {
        return inbox(node).messageIds().stream().filter(m -> m.contains("cluster-" + run + "-")).toList();
    }

    private static long temperrorLines() {
        return List.of(b1, b2).stream().mapToLong(n -> n.logs().lines().filter(l -> l.contains("auth-hmac: temperror for mail")).count()).sum();
    }

    private static void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
