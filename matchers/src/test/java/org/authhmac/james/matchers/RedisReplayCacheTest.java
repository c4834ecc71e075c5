package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.protocol.ReplayCache.Outcome;
import org.authhmac.protocol.ReplayCache.SignatureId;
import org.authhmac.protocol.ReplayCacheException;
import org.authhmac.testing.redis.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replay cache in a real redis-server, one per test class: its answers, its bounds, and its failures. */
class RedisReplayCacheTest {
    private static final AtomicInteger PREFIXES = new AtomicInteger();
    private static final SignatureId SIG = new SignatureId("a.example", "k1", "nonce-0123456789ab");

    private static RedisServer redis;
    private final List<RedisReplayCache> opened = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start();
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void closeCaches() {
        opened.forEach(RedisReplayCache::close);
    }

    private String prefix = "t" + PREFIXES.incrementAndGet() + ":";

    private RedisReplayCache cache(int capacity, int sharePercent, Duration retention) throws IOException {
        return cache(URI.create(redis.uri()), Optional.empty(), Duration.ofSeconds(2), capacity, sharePercent, retention);
    }

    private RedisReplayCache cache(URI uri, Optional<Path> passwordFile, Duration timeout, int capacity, int sharePercent,
                                   Duration retention) throws IOException {
        RedisReplayCache c = new RedisReplayCache(new PartnerPolicies.ReplayStore.Redis(uri, Optional.empty(), passwordFile,
                timeout, Duration.ofSeconds(2), prefix), new PartnerPolicies.ReplayCacheSize(capacity, sharePercent), retention);
        opened.add(c);
        return c;
    }

    /** A cache with its own clock and monotonic time, and a short connect timeout. */
    private RedisReplayCache cache(URI uri, Optional<Path> passwordFile, Duration timeout, Duration connectTimeout, Clock clock,
                                   LongSupplier nanoTime) throws IOException {
        RedisReplayCache c = new RedisReplayCache(new PartnerPolicies.ReplayStore.Redis(uri, Optional.empty(), passwordFile,
                timeout, connectTimeout, prefix), new PartnerPolicies.ReplayCacheSize(100, 100), Duration.ZERO, clock, nanoTime);
        opened.add(c);
        return c;
    }

    private static Instant inAnHour() {
        return Instant.now().plus(Duration.ofHours(1));
    }

    private static SignatureId sig(String domain, int i) {
        return new SignatureId(domain, "k1", String.format("nonce-%016d", i));
    }

    @Test
    void aSecondSightingForTheSameMailboxIsAReplay() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ZERO);
        assertThat(cache.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
    }

    @Test
    void aSecondNodeOnTheSameRedisSeesTheFirstNodesPass() throws Exception {
        RedisReplayCache node1 = cache(100, 100, Duration.ZERO);
        RedisReplayCache node2 = cache(100, 100, Duration.ZERO);
        assertThat(node1.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(node2.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
    }

    @Test
    void aSignaturePassesForAtMostRcMailboxes() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ZERO);
        assertThat(cache.record(SIG, "bob@b.example", 2, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(SIG, "carol@b.example", 2, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(SIG, "dave@b.example", 2, inAnHour())).isEqualTo(Outcome.RECIPIENT_LIMIT);
        // a mailbox already recorded is a replay, even at the limit
        assertThat(cache.record(SIG, "bob@b.example", 2, inAnHour())).isEqualTo(Outcome.REPLAY);
    }

    @Test
    void aSignatureRecordedWithScopeSignatureIsAReplayForEveryMailboxOfANodeWithScopeRecipient() throws Exception {
        RedisReplayCache scopeSignature = cache(100, 100, Duration.ZERO);
        RedisReplayCache scopeRecipient = cache(100, 100, Duration.ZERO);
        assertThat(scopeSignature.record(SIG, "", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(scopeRecipient.record(SIG, "bob@b.example", 3, inAnHour())).isEqualTo(Outcome.REPLAY);
    }

    @Test
    void replayIdsWithSpacesAndLineEndsAreTheirOwnMembers() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ZERO);
        assertThat(cache.record(SIG, "\"a b\r\nc\"@b.example", 3, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(SIG, "\"a b\"@b.example", 3, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(SIG, "\"a b\r\nc\"@b.example", 3, inAnHour())).isEqualTo(Outcome.REPLAY);
    }

    @Test
    void entriesAreKeptUntilExpiryPlusRetention() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ofHours(1));
        Instant expires = Instant.now().plusSeconds(10);
        cache.record(SIG, "bob@b.example", 1, expires);
        long pttl = Long.parseLong(redis.command("PTTL", cache.sigKey("a.example", "k1", SIG.nonce())));
        assertThat(pttl).isBetween(3_600_000L + 8_000L, 3_600_000L + 10_001L);
    }

    @Test
    void anExpiredEntryLeavesRoomForANewOne() throws Exception {
        RedisReplayCache cache = cache(1, 100, Duration.ZERO);
        assertThat(cache.record(sig("a.example", 1), "bob@b.example", 1, Instant.now().plusMillis(300))).isEqualTo(Outcome.FRESH);
        assertThatThrownBy(() -> cache.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("full");
        Thread.sleep(600);
        assertThat(cache.record(sig("a.example", 2), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(redis.command("EXISTS", cache.sigKey("a.example", "k1", sig("a.example", 1).nonce()))).isEqualTo("0");
    }

    @Test
    void anEntryWhoseTimeIsAlreadyPastByRedisClockIsNoAnswer() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ZERO);
        assertThatThrownBy(() -> cache.record(SIG, "bob@b.example", 1, Instant.now().minusSeconds(5)))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("cannot tell a replay");
    }

    @Test
    void aFullCacheRefusesAndForgetsNothing() throws Exception {
        RedisReplayCache cache = cache(2, 100, Duration.ZERO);
        assertThat(cache.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(sig("b.example", 2), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThatThrownBy(() -> cache.record(sig("c.example", 3), "bob@b.example", 1, inAnHour()))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("full: 2 unexpired entries");
        assertThat(cache.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
    }

    @Test
    void aDomainThatHoldsItsShareWaitsAlone() throws Exception {
        RedisReplayCache cache = cache(4, 50, Duration.ZERO); // 2 entries per domain
        assertThat(cache.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(sig("a.example", 2), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThatThrownBy(() -> cache.record(sig("a.example", 3), "bob@b.example", 1, inAnHour()))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("share of d=a.example");
        assertThat(cache.record(sig("c.example", 4), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(sig("a.example", 2), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
    }

    @Test
    void manyThreadsOnTwoNodesPassEachMailboxOnceAndNoMoreThanRc() throws Exception {
        RedisReplayCache node1 = cache(10_000, 100, Duration.ZERO);
        RedisReplayCache node2 = cache(10_000, 100, Duration.ZERO);
        int rc = 5;
        List<String> mailboxes = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            mailboxes.add("user" + i + "@b.example");
        }
        Map<String, AtomicInteger> fresh = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            RedisReplayCache node = t % 2 == 0 ? node1 : node2;
            List<String> order = new ArrayList<>(mailboxes);
            Collections.shuffle(order);
            done.add(pool.submit(() -> {
                go.await();
                for (String m : order) {
                    if (node.record(SIG, m, rc, inAnHour()) == Outcome.FRESH) {
                        fresh.computeIfAbsent(m, k -> new AtomicInteger()).incrementAndGet();
                    }
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(fresh).hasSize(rc);
        assertThat(fresh.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
        assertThat(redis.command("HLEN", node1.sigKey("a.example", "k1", SIG.nonce()))).isEqualTo(Integer.toString(rc));
    }

    @Test
    void aKilledRedisIsNoAnswerAndARestartedOneAnswersAgain() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            RedisReplayCache cache = cache(URI.create(own.uri()), Optional.empty(), Duration.ofSeconds(2), 100, 100, Duration.ZERO);
            assertThat(cache.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
            own.kill();
            assertThatThrownBy(() -> cache.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))
                    .isInstanceOf(ReplayCacheException.class).hasMessageContaining(own.uri());
            assertThatThrownBy(() -> cache.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))
                    .isInstanceOf(ReplayCacheException.class);
            assertThat(cache.health(Duration.ofSeconds(1))).hasValueSatisfying(p -> assertThat(p).contains(own.uri()));
            own.restart();
            assertThat(eventually(() -> cache.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))).isEqualTo(Outcome.FRESH);
            assertThat(cache.health(Duration.ofSeconds(1))).isEmpty();
        }
    }

    @Test
    void aHungRedisIsNoAnswerWithinTheTimeout() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            RedisReplayCache cache = cache(URI.create(own.uri()), Optional.empty(), Duration.ofMillis(300), 100, 100, Duration.ZERO);
            assertThat(cache.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
            own.pause();
            try {
                long start = System.nanoTime();
                assertThatThrownBy(() -> cache.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))
                        .isInstanceOf(ReplayCacheException.class);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
            } finally {
                own.resume();
            }
            assertThat(eventually(() -> cache.record(sig("a.example", 1), "bob@b.example", 1, inAnHour()))).isEqualTo(Outcome.REPLAY);
        }
    }

    @Test
    void aRecordWhoseAnswerWasLostPassesItsRetryOnceAndNoOtherCopy() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            URI uri = URI.create(own.uri());
            RedisReplayCache node1 = cache(uri, Optional.empty(), Duration.ofMillis(300), 100, 100, Duration.ZERO);
            RedisReplayCache node2 = cache(uri, Optional.empty(), Duration.ofSeconds(2), 100, 100, Duration.ZERO);
            assertThat(node1.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
            own.pause();
            try {
                // sent, but Redis runs it only after the timeout: the verdict was temperror, the mail waits
                assertThatThrownBy(() -> node1.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))
                        .isInstanceOf(ReplayCacheException.class);
            } finally {
                own.resume();
            }
            // a copy at the other node: the lost record stands, so this one is a replay
            assertThat(eventually(() -> node2.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))).isEqualTo(Outcome.REPLAY);
            // the retry of the mail that waited passes (it never passed), once
            assertThat(node1.record(sig("a.example", 2), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
            assertThat(node1.record(sig("a.example", 2), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
            assertThat(node2.record(sig("a.example", 2), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
        }
    }

    @Test
    void aLostRecordsPassBelongsToItsMailNotToAnotherCopyAndFollowsTheMailToAnotherNode() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            URI uri = URI.create(own.uri());
            RedisReplayCache node1 = cache(uri, Optional.empty(), Duration.ofMillis(300), 100, 100, Duration.ZERO);
            RedisReplayCache node2 = cache(uri, Optional.empty(), Duration.ofSeconds(2), 100, 100, Duration.ZERO);
            String genuine = "0123456789abcdef";
            String captured = "fedcba9876543210";
            assertThat(node1.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
            own.pause();
            try {
                // the genuine mail's record is sent, Redis runs it after the timeout: temperror, the mail waits
                assertThatThrownBy(() -> ReplayAttempt.during(genuine,
                        () -> node1.record(sig("a.example", 2), "bob@b.example", 1, inAnHour())))
                        .isInstanceOf(ReplayCacheException.class);
            } finally {
                own.resume();
            }
            // a captured copy delivered to the same node while the genuine mail waits: a replay, not the lost pass
            assertThat(eventually(() -> ReplayAttempt.during(captured,
                    () -> node1.record(sig("a.example", 2), "bob@b.example", 1, inAnHour())))).isEqualTo(Outcome.REPLAY);
            assertThat(node1.record(sig("a.example", 2), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
            // the genuine mail's retry, taken from a shared spool by the other node (or after a restart): it passes
            assertThat(ReplayAttempt.during(genuine,
                    () -> node2.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))).isEqualTo(Outcome.FRESH);
            assertThat(ReplayAttempt.during(captured,
                    () -> node2.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))).isEqualTo(Outcome.REPLAY);
        }
    }

    @Test
    void aConnectionThatWentSilentIsDroppedSoThatTheNextRecordReachesTheServerNowAtTheAddress() throws Exception {
        // OPERATIONS.md: the nodes reach the primary through a VIP that a failover moves. A primary that dies without
        // closing its connections (power, partition) leaves them open and silent: every command times out.
        try (RedisServer first = RedisServer.start(); RedisServer second = RedisServer.start();
             Vip vip = new Vip(first.port())) {
            RedisReplayCache cache = cache(URI.create("redis://127.0.0.1:" + vip.port() + "/0"), Optional.empty(),
                    Duration.ofMillis(300), 100, 100, Duration.ZERO);
            assertThat(cache.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);

            vip.failOverTo(second.port());

            assertThatThrownBy(() -> cache.record(sig("a.example", 2), "bob@b.example", 1, inAnHour()))
                    .isInstanceOf(ReplayCacheException.class);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            Outcome outcome = null;
            while (outcome == null && System.nanoTime() < deadline) {
                try {
                    outcome = cache.record(sig("a.example", 3), "bob@b.example", 1, inAnHour());
                } catch (ReplayCacheException e) {
                    Thread.sleep(100);
                }
            }
            assertThat(outcome).as("a record within 5 s of the failover").isEqualTo(Outcome.FRESH);
            assertThat(second.command("EXISTS", prefix + "sig:a.example:k1:" + sig("a.example", 3).nonce())).contains("1");
        }
    }

    /** A TCP forwarder standing for a VIP: after {@link #failOverTo} its old connections stay open but carry nothing. */
    private static final class Vip implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private volatile int target;
        private volatile int generation;
        private final java.util.List<java.net.Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

        Vip(int target) throws IOException {
            this.target = target;
            Thread accept = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        java.net.Socket client = socket.accept();
                        java.net.Socket server = new java.net.Socket(InetAddress.getLoopbackAddress(), this.target);
                        sockets.add(client);
                        sockets.add(server);
                        int born = generation;
                        pump(client, server, born);
                        pump(server, client, born);
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            accept.setDaemon(true);
            accept.start();
        }

        private void pump(java.net.Socket from, java.net.Socket to, int born) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try {
                    int n;
                    while ((n = from.getInputStream().read(buf)) >= 0) {
                        if (generation == born) {
                            to.getOutputStream().write(buf, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // closed
                }
            });
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        void failOverTo(int port) {
            target = port;
            generation++;
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (java.net.Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void aWrongPasswordIsNoAnswerAndTheRightOneIs() throws Exception {
        try (RedisServer own = RedisServer.startWithPassword("right-password")) {
            RedisReplayCache wrong = cache(URI.create(own.uri()), Optional.of(password("wrong-password")), Duration.ofSeconds(2),
                    100, 100, Duration.ZERO);
            assertThatThrownBy(() -> wrong.record(SIG, "bob@b.example", 1, inAnHour()))
                    .isInstanceOf(ReplayCacheException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("wrong-password"));
            RedisReplayCache none = cache(URI.create(own.uri()), Optional.empty(), Duration.ofSeconds(2), 100, 100, Duration.ZERO);
            assertThatThrownBy(() -> none.record(SIG, "bob@b.example", 1, inAnHour())).isInstanceOf(ReplayCacheException.class);
            RedisReplayCache right = cache(URI.create(own.uri()), Optional.of(password("right-password")), Duration.ofSeconds(2),
                    100, 100, Duration.ZERO);
            assertThat(right.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        }
    }

    @Test
    void aPasswordFileLongerThanAPasswordIsRefusedUnread() throws Exception {
        Path big = password("p".repeat(1025));
        assertThatThrownBy(() -> cache(URI.create(redis.uri()), Optional.of(big), Duration.ofSeconds(2), 100, 100, Duration.ZERO))
                .isInstanceOf(IOException.class).hasMessageContaining("longer than");
        Path longest = password("p".repeat(1023));
        assertThat(cache(URI.create(redis.uri()), Optional.of(longest), Duration.ofSeconds(2), 100, 100, Duration.ZERO)).isNotNull();
    }

    /** The ACL user docs/OPERATIONS.md ("Running several nodes") gives James, as written there. */
    private static List<String> documentedAclRules(String password) throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "OPERATIONS.md")).replaceAll("\\s*\\n\\s*", " ");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:ACL SETUSER|user) james-mx ([^`]+)`").matcher(doc);
        assertThat(m.find()).as("the ACL user in docs/OPERATIONS.md").isTrue();
        List<String> rules = new ArrayList<>();
        for (String rule : m.group(1).trim().split(" +")) {
            rules.add(rule.startsWith(">") ? ">" + password : rule);
        }
        return rules;
    }

    @Test
    void overTlsTheCacheWorksWithACertificateTheJvmTrustsAndIsTemperrorWithOneItDoesNot() throws Exception {
        try (RedisServer own = RedisServer.startAppendOnlyWithTls("everysec")) {
            URI tls = URI.create(own.tls().uri());
            // the JVM's own trust store does not hold the test CA: no connection, temperror, never a pass
            RedisReplayCache untrusted = cache(tls, Optional.empty(), Duration.ofSeconds(2), 100, 100, Duration.ZERO);
            assertThatThrownBy(() -> untrusted.record(SIG, "bob@b.example", 1, inAnHour()))
                    .isInstanceOf(ReplayCacheException.class).hasMessageContaining("unreachable");
            assertThat(untrusted.health(Duration.ofSeconds(2))).isPresent();
            assertThat(own.command("EXISTS", untrusted.sigKey("a.example", "k1", SIG.nonce()))).isEqualTo("0");

            // with the test CA in the trust store (as -Djavax.net.ssl.trustStore gives a James): it records
            Map<String, String> before = new java.util.HashMap<>();
            List<String> keys = List.of("javax.net.ssl.trustStore", "javax.net.ssl.trustStoreType", "javax.net.ssl.trustStorePassword");
            keys.forEach(k -> before.put(k, System.getProperty(k)));
            try {
                System.setProperty("javax.net.ssl.trustStore", own.tls().trustStore().toString());
                System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
                System.setProperty("javax.net.ssl.trustStorePassword", RedisServer.Tls.TRUST_STORE_PASSWORD);
                RedisReplayCache trusted = cache(tls, Optional.empty(), Duration.ofSeconds(2), 100, 100, Duration.ZERO);
                assertThat(trusted.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
                assertThat(trusted.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
                // the certificate names 127.0.0.1, not localhost: a name it does not carry is refused
                RedisReplayCache wrongName = cache(URI.create("rediss://localhost:" + own.tls().port() + "/0"), Optional.empty(),
                        Duration.ofSeconds(2), 100, 100, Duration.ZERO);
                assertThatThrownBy(() -> wrongName.record(SIG, "carol@b.example", 2, inAnHour()))
                        .isInstanceOf(ReplayCacheException.class);
            } finally {
                before.forEach((k, v) -> {
                    if (v == null) {
                        System.clearProperty(k);
                    } else {
                        System.setProperty(k, v);
                    }
                });
            }
            assertThat(own.command("HLEN", untrusted.sigKey("a.example", "k1", SIG.nonce()))).isEqualTo("1");
        }
    }

    @Test
    void theDocumentedAclUserRunsTheCacheAndCannotWipeOrReadBeyondIt() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            List<String> setuser = new ArrayList<>(List.of("ACL", "SETUSER", "james-mx"));
            setuser.addAll(documentedAclRules("acl-password"));
            assertThat(own.command(setuser.toArray(String[]::new))).isEqualTo("OK");
            assertThat(own.command("SET", "other:app", "precious")).isEqualTo("OK");
            RedisReplayCache cache = new RedisReplayCache(new PartnerPolicies.ReplayStore.Redis(URI.create(own.uri()),
                    Optional.of("james-mx"), Optional.of(password("acl-password")), Duration.ofSeconds(2), Duration.ofSeconds(2),
                    PartnerPolicies.ReplayStore.Redis.DEFAULT_KEY_PREFIX), new PartnerPolicies.ReplayCacheSize(100, 100), Duration.ZERO);
            opened.add(cache);
            assertThat(cache.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
            assertThat(cache.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
            assertThat(cache.health(Duration.ofSeconds(1))).isEmpty();
            // a leaked password or a compromised node: no wiping every pass at once, no listing the entries
            for (String[] command : List.of(new String[] {"FLUSHALL"}, new String[] {"FLUSHDB"}, new String[] {"SWAPDB", "0", "1"},
                    new String[] {"KEYS", "*"}, new String[] {"ZRANGE", "authhmac:rc:all", "0", "-1"},
                    new String[] {"DEL", cache.sigKey("a.example", "k1", SIG.nonce())}, new String[] {"SCRIPT", "FLUSH"},
                    new String[] {"EVAL", "return redis.call('ZRANGE', KEYS[1], 0, -1)", "1", "authhmac:rc:all"})) {
                assertThat(own.commandAs("james-mx", "acl-password", command)).as(String.join(" ", command))
                        .containsPattern("^-(NOPERM|ERR The user executing the script can't run this command)");
            }
            assertThat(own.command("GET", "other:app")).isEqualTo("precious");
            assertThat(cache.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
        }
    }

    @Test
    void aScriptCacheFlushedByARestartIsLoadedAgain() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ZERO);
        assertThat(cache.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        redis.command("SCRIPT", "FLUSH");
        assertThat(cache.record(sig("a.example", 1), "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.REPLAY);
        assertThat(redis.command("SCRIPT", "EXISTS", RedisReplayCache.SCRIPT_SHA1)).isEqualTo("1");
    }

    @Test
    void aKeyOfAnotherTypeWhereTheSignatureGoesIsNoAnswer() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ZERO);
        redis.command("SET", cache.sigKey("a.example", "k1", SIG.nonce()), "garbage");
        assertThatThrownBy(() -> cache.record(SIG, "bob@b.example", 1, inAnHour()))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("WRONGTYPE");
    }

    @Test
    void valuesThatCouldMakeOtherKeysAreRefusedBeforeRedis() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ZERO);
        for (SignatureId bad : List.of(
                new SignatureId("a.example\r\nFLUSHALL", "k1", SIG.nonce()),
                new SignatureId("a.example", "k1:x", SIG.nonce()),
                new SignatureId("a.example", "{k1}", SIG.nonce()),
                new SignatureId("a.example", "k 1", SIG.nonce()),
                new SignatureId("a.example", "k1", "short"),
                new SignatureId("a.example", "k1", "n".repeat(65)),
                new SignatureId("a".repeat(254), "k1", SIG.nonce()))) {
            assertThatThrownBy(() -> cache.record(bad, "bob@b.example", 1, inAnHour()))
                    .as(bad.toString()).isInstanceOf(ReplayCacheException.class);
        }
        assertThatThrownBy(() -> cache.record(SIG, "b".repeat(1025), 1, inAnHour())).isInstanceOf(ReplayCacheException.class);
        assertThat(redis.command("KEYS", prefix + "*")).isEmpty();
    }

    @Test
    void aDomainInUpperCaseIsTheSameSignature() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ZERO);
        assertThat(cache.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(new SignatureId("A.Example", "k1", SIG.nonce()), "bob@b.example", 1, inAnHour()))
                .isEqualTo(Outcome.REPLAY);
    }

    @Test
    void aServerThatAnswersSomethingElseIsNoAnswer() throws Exception {
        for (String reply : List.of(":7\r\n", "+OK\r\n", "$3\r\nfoo\r\n", "*0\r\n")) {
            try (FakeServer fake = new FakeServer(reply)) {
                RedisReplayCache cache = cache(URI.create("redis://127.0.0.1:" + fake.port() + "/0"), Optional.empty(),
                        Duration.ofMillis(500), 100, 100, Duration.ZERO);
                assertThatThrownBy(() -> cache.record(SIG, "bob@b.example", 1, inAnHour()))
                        .as(reply).isInstanceOf(ReplayCacheException.class);
            }
        }
    }

    @Test
    void afterAFailedConnectionRecordsAnswerAtOnceForHalfASecondThenConnectAgain() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            own.kill();
            AtomicLong nanos = new AtomicLong(TimeUnit.SECONDS.toNanos(1_000));
            RedisReplayCache cache = cache(URI.create(own.uri()), Optional.empty(), Duration.ofSeconds(2), Duration.ofSeconds(2),
                    Clock.systemUTC(), nanos::get);
            // the operator reads why: the refused connection, not only that there was one
            assertThatThrownBy(() -> cache.record(SIG, "bob@b.example", 1, inAnHour()))
                    .isInstanceOf(ReplayCacheException.class).hasMessageContaining("unreachable").hasMessageContaining("refused");
            own.restart();

            nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(500) - 1);
            assertThatThrownBy(() -> cache.record(SIG, "bob@b.example", 1, inAnHour()))
                    .isInstanceOf(ReplayCacheException.class).hasMessageContaining("unreachable").hasMessageContaining("refused");
            assertThat(cache.health(Duration.ofSeconds(1))).hasValueSatisfying(p -> assertThat(p).contains("unreachable"));

            nanos.incrementAndGet();
            assertThat(cache.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
            assertThat(cache.health(Duration.ofSeconds(1))).isEmpty();
        }
    }

    @Test
    void aServerThatAcceptsNoConnectionIsNoAnswerWithinTheConnectTimeout() throws Exception {
        // a listening socket whose accept queue is full: the kernel drops further SYNs, as an unreachable host would
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> queued = new ArrayList<>();
            try {
                while (true) {
                    Socket s = new Socket();
                    try {
                        s.connect(full.getLocalSocketAddress(), 200);
                        queued.add(s);
                    } catch (IOException timedOut) {
                        s.close();
                        break;
                    }
                    assertThat(queued).as("connections queued without accept").hasSizeLessThan(1_000);
                }
                RedisReplayCache cache = cache(URI.create("redis://127.0.0.1:" + full.getLocalPort() + "/0"), Optional.empty(),
                        Duration.ofSeconds(2), Duration.ofMillis(300), Clock.systemUTC(), System::nanoTime);
                long start = System.nanoTime();
                assertThatThrownBy(() -> cache.record(SIG, "bob@b.example", 1, inAnHour()))
                        .isInstanceOf(ReplayCacheException.class).hasMessageContaining("unreachable");
                // lettuce's own connect timeout is 10 s
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
            } finally {
                for (Socket s : queued) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aServerThatHangsWhileTheConnectionIsSetUpIsNoAnswerWithinTheTimeout() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            // database 1: the connection is ready only after SELECT, which a stopped server never answers
            URI db1 = URI.create("redis://127.0.0.1:" + own.port() + "/1");
            RedisReplayCache cache = cache(db1, Optional.empty(), Duration.ofMillis(300), Duration.ofSeconds(2), Clock.systemUTC(),
                    System::nanoTime);
            own.pause();
            try {
                long start = System.nanoTime();
                assertThatThrownBy(() -> cache.record(SIG, "bob@b.example", 1, inAnHour())).isInstanceOf(ReplayCacheException.class);
                // lettuce's own is 60 s
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
            } finally {
                own.resume();
            }
            assertThat(own.command("EXISTS", cache.sigKey("a.example", "k1", SIG.nonce()))).isEqualTo("0");
        }
    }

    @Test
    void healthSaysWhenAHungServerDidNotAnswerPingAndWhenTheAskingThreadWasInterrupted() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            RedisReplayCache cache = cache(URI.create(own.uri()), Optional.empty(), Duration.ofSeconds(2), Duration.ofSeconds(2),
                    Clock.systemUTC(), System::nanoTime);
            assertThat(cache.health(Duration.ofSeconds(2))).isEmpty();
            own.pause();
            try {
                assertThat(cache.health(Duration.ofMillis(200))).hasValueSatisfying(p -> assertThat(p)
                        .contains("did not answer PING within PT0.2S").contains(own.uri()));
                Thread.currentThread().interrupt();
                Optional<String> interrupted = cache.health(Duration.ofSeconds(5));
                // the interrupt is kept for the caller to see
                assertThat(Thread.interrupted()).isTrue();
                assertThat(interrupted).hasValueSatisfying(p -> assertThat(p).isEqualTo("interrupted while asking Redis " + own.uri()));
            } finally {
                Thread.interrupted();
                own.resume();
            }
        }
    }

    @Test
    void healthNamesWhatAServerAnsweredPingWithBoundedAndWithoutControlCharacters() throws Exception {
        String eighty = "x".repeat(80 - "String ".length());
        Map<String, String> expected = Map.of(
                "+" + eighty + "\r\n", "String " + eighty,
                "+" + eighty + "y\r\n", "String " + eighty + "...",
                "$6\r\nPO\r\nNG\r\n", "String PO??NG");
        for (Map.Entry<String, String> reply : expected.entrySet()) {
            try (FakeServer fake = new FakeServer(reply.getKey())) {
                RedisReplayCache cache = cache(URI.create("redis://127.0.0.1:" + fake.port() + "/0"), Optional.empty(),
                        Duration.ofMillis(500), 100, 100, Duration.ZERO);
                assertThat(cache.health(Duration.ofSeconds(2))).as(reply.getKey())
                        .contains("Redis " + cache.where() + " answered PING with " + reply.getValue());
            }
        }
    }

    @Test
    void closeEndsTheConnectionAtTheServer() throws Exception {
        try (RedisServer own = RedisServer.start()) {
            RedisReplayCache cache = cache(URI.create(own.uri()), Optional.empty(), Duration.ofSeconds(2), 100, 100, Duration.ZERO);
            // CLIENT LIST counts the asking connection too
            assertThat(clients(own)).isEqualTo(1);
            assertThat(cache.record(SIG, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
            assertThat(clients(own)).isEqualTo(2);
            cache.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (clients(own) > 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(clients(own)).isEqualTo(1);
            assertThatThrownBy(() -> cache.record(SIG, "carol@b.example", 2, inAnHour())).isInstanceOf(ReplayCacheException.class);
        }
    }

    private static int clients(RedisServer server) {
        return (int) server.command("CLIENT", "LIST").lines().filter(l -> !l.isBlank()).count();
    }

    @Test
    void theUnansweredRecordsAreBoundedAndThoseAlreadyDroppedMakeRoomAtTheBound() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        // monotonic time stands still: one connection attempt, then every record fails at once
        RedisReplayCache cache = cache(URI.create("redis://127.0.0.1:" + port + "/0"), Optional.empty(), Duration.ofSeconds(2),
                Duration.ofSeconds(2), Clock.fixed(now, ZoneOffset.UTC), () -> 0L);
        int max = RedisReplayCache.MAX_UNANSWERED;
        for (int i = 0; i < max; i++) {
            // two records whose entries Redis drops right now, the rest in an hour
            Instant expires = i < 2 ? now : now.plus(Duration.ofHours(1));
            noAnswer(cache, sig("a.example", i), expires);
        }
        assertThat(cache.unansweredCount()).isEqualTo(max);

        // at the bound, the two already dropped go, and the new one takes a place
        noAnswer(cache, sig("a.example", max), now.plus(Duration.ofHours(1)));
        assertThat(cache.unansweredCount()).isEqualTo(max - 1);
        noAnswer(cache, sig("a.example", max + 1), now.plus(Duration.ofHours(1)));
        assertThat(cache.unansweredCount()).isEqualTo(max);
        // nothing more to drop: the next one is not kept (its retry is then held as a replay, never passed)
        noAnswer(cache, sig("a.example", max + 2), now.plus(Duration.ofHours(1)));
        assertThat(cache.unansweredCount()).isEqualTo(max);
    }

    private static void noAnswer(RedisReplayCache cache, SignatureId signature, Instant expires) {
        assertThatThrownBy(() -> cache.record(signature, "bob@b.example", 1, expires)).isInstanceOf(ReplayCacheException.class);
    }

    @Test
    void entriesAreDroppedAtTheExpiryRoundedUpToTheMillisecond() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ofHours(1));
        Instant whole = Instant.ofEpochMilli(Instant.now().plus(Duration.ofHours(1)).toEpochMilli());
        Map<Instant, Long> dropAt = Map.of(
                whole, whole.toEpochMilli() + 3_600_000L,
                whole.plusNanos(1), whole.toEpochMilli() + 1 + 3_600_000L,
                whole.plusNanos(999_999), whole.toEpochMilli() + 1 + 3_600_000L);
        int i = 0;
        for (Map.Entry<Instant, Long> e : dropAt.entrySet()) {
            SignatureId signature = sig("a.example", i++);
            assertThat(cache.record(signature, "bob@b.example", 1, e.getKey())).isEqualTo(Outcome.FRESH);
            // the drop time the script was given, as the set of all entries holds it (PEXPIRETIME needs Redis 7)
            String member = "a.example:k1:" + signature.nonce() + ":bob@b.example";
            assertThat(Long.parseLong(redis.command("ZSCORE", prefix + "all", member))).as(e.getKey().toString()).isEqualTo(e.getValue());
        }
    }

    @Test
    void theLongestDomainAndReplayIdTheBoundsAllowAreRecorded() throws Exception {
        RedisReplayCache cache = cache(100, 100, Duration.ZERO);
        SignatureId longestDomain = new SignatureId("a".repeat(253), "k1", SIG.nonce());
        assertThat(cache.record(longestDomain, "bob@b.example", 1, inAnHour())).isEqualTo(Outcome.FRESH);
        // bytes, not characters: 512 two-byte characters
        assertThat(cache.record(SIG, "\u00e9".repeat(512), 1, inAnHour())).isEqualTo(Outcome.FRESH);
        assertThatThrownBy(() -> cache.record(SIG, "\u00e9".repeat(513), 2, inAnHour())).isInstanceOf(ReplayCacheException.class);
        assertThat(cache.record(sig("a.example", 7), "b".repeat(1024), 1, inAnHour())).isEqualTo(Outcome.FRESH);
    }

    @Test
    void aPasswordFileMayEndInAnyLineEndOrNone() throws Exception {
        try (RedisServer own = RedisServer.startWithPassword("right-password")) {
            for (String content : List.of("right-password", "right-password\n", "right-password\r\n")) {
                Path file = Files.createTempFile(dir, "redis", ".pw");
                Files.writeString(file, content);
                RedisReplayCache cache = cache(URI.create(own.uri()), Optional.of(file), Duration.ofSeconds(2), 100, 100, Duration.ZERO);
                assertThat(cache.health(Duration.ofSeconds(2))).as(content).isEmpty();
            }
        }
    }

    @Test
    void aPasswordFileThatIsNotOnePasswordOnOneLineIsRefusedAtStartUp() throws Exception {
        for (String content : List.of("", "\n", "\r\n", "\nright-password\n", "\rright-password\n", "right\npassword\n",
                "right\rpassword", "right-password\n\n")) {
            Path file = Files.createTempFile(dir, "redis", ".pw");
            Files.writeString(file, content);
            assertThatThrownBy(() -> cache(URI.create(redis.uri()), Optional.of(file), Duration.ofSeconds(2), 100, 100, Duration.ZERO))
                    .as(content).isInstanceOf(IOException.class).hasMessageContaining("on one line");
        }
        Path exactly = Files.createTempFile(dir, "redis", ".pw");
        Files.writeString(exactly, "p".repeat(RedisReplayCache.MAX_PASSWORD_FILE_BYTES));
        assertThat(cache(URI.create(redis.uri()), Optional.of(exactly), Duration.ofSeconds(2), 100, 100, Duration.ZERO)).isNotNull();
        Path oneMore = Files.createTempFile(dir, "redis", ".pw");
        Files.writeString(oneMore, "p".repeat(RedisReplayCache.MAX_PASSWORD_FILE_BYTES + 1));
        assertThatThrownBy(() -> cache(URI.create(redis.uri()), Optional.of(oneMore), Duration.ofSeconds(2), 100, 100, Duration.ZERO))
                .isInstanceOf(IOException.class).hasMessageContaining("longer than");
    }

    private Path password(String text) throws IOException {
        Path f = Files.createTempFile(dir, "redis", ".pw");
        Files.writeString(f, text + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    interface Attempt {
        Outcome run() throws ReplayCacheException;
    }

    /** The first answer within 10 s: the cache waits a moment after a failed connection before it tries again. */
    private static Outcome eventually(Attempt attempt) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return attempt.run();
            } catch (ReplayCacheException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    /** A server that answers every command, whatever it is, with the same bytes. */
    private static final class FakeServer implements AutoCloseable {
        private final ServerSocket socket;
        private final Thread thread;

        FakeServer(String reply) throws IOException {
            socket = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket s = socket.accept()) {
                        InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream();
                        byte[] buf = new byte[8192];
                        while (in.read(buf) > 0) {
                            out.write(reply.getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        }
                    } catch (IOException closed) {
                        // next connection, or the end
                    }
                }
            }, "fake-redis");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
