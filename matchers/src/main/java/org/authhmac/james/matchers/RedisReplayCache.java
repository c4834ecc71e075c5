package org.authhmac.james.matchers;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.ReplayCacheException;

/**
 * The replay cache in a Redis server that several James share, so that a mail captured on its way to one of them
 * cannot pass again at another, nor after a restart. One script per {@link #record}, atomic in Redis; the key layout is
 * in docs/CONFIGURATION.md ("A replay cache shared by several James") for a second implementation to interoperate.
 * Every failure to get a clear answer (Redis unreachable, slow, refusing the password, answering something else) is a
 * {@link ReplayCacheException}: the verdict is temperror and the mail waits, never passes as fresh.
 */
public final class RedisReplayCache implements ReplayCache, AutoCloseable {
    /**
     * KEYS: the signature's hash, its domain's entries, all entries. ARGV: d, s, n, replay id, maxRecipients, drop time
     * (Unix ms), capacity, domain capacity, attempt token. Answers 0 fresh, 3 fresh (recorded by an earlier attempt
     * with the same token, whose answer was lost), 1 replay, 2 recipient limit, -1 full, -2 domain share full, -3 drop
     * time already past by Redis's clock. Time is Redis's, so that the nodes' clocks need not agree. A signature
     * recorded with replay id "" (scope signature, on a node so configured) is a replay for every mailbox.
     */
    static final String SCRIPT = """
            if #KEYS ~= 3 or #ARGV ~= 9 then return redis.error_reply('auth-hmac replay script: bad arguments') end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local seen = redis.call('HGET', KEYS[1], ARGV[4])
            if seen then
              if seen == ARGV[9] then return 3 end
              return 1
            end
            if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], '') then return 1 end
            if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return 2 end
            local dropAt = tonumber(ARGV[6])
            if dropAt <= now then return -3 end
            redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. now)
            if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[7]) then return -1 end
            redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
            if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[8]) then return -2 end
            redis.call('HSET', KEYS[1], ARGV[4], ARGV[9])
            local ttl = redis.call('PTTL', KEYS[1])
            if ttl < 0 or now + ttl < dropAt then redis.call('PEXPIREAT', KEYS[1], dropAt) end
            redis.call('ZADD', KEYS[2], dropAt, ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[4])
            ttl = redis.call('PTTL', KEYS[2])
            if ttl < 0 or now + ttl < dropAt then redis.call('PEXPIREAT', KEYS[2], dropAt) end
            redis.call('ZADD', KEYS[3], dropAt, ARGV[1] .. ':' .. ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[4])
            ttl = redis.call('PTTL', KEYS[3])
            if ttl < 0 or now + ttl < dropAt then redis.call('PEXPIREAT', KEYS[3], dropAt) end
            return 0
            """;
    static final String SCRIPT_SHA1 = sha1(SCRIPT);

    /**
     * What may go into a key name. The protocol's own grammar (PROTOCOL.md 3.2) is narrower still; these bounds keep a
     * value that reached us some other way from writing another key, a hash tag, or a key of unbounded length.
     */
    private static final Pattern DOMAIN = Pattern.compile("[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?");
    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern NONCE = Pattern.compile("[A-Za-z0-9_-]{16,64}");
    /** A replay id is a set member, not a key name; bounded all the same, far above a mailbox's 64 + 1 + 253. */
    static final int MAX_REPLAY_ID_BYTES = 1024;
    /**
     * Records whose answer was lost (a timeout, a dropped connection: Redis may have run the script after all), by
     * signature and replay id, with the token they wrote; at most this many, each until its drop time.
     */
    static final int MAX_UNANSWERED = 10_000;
    /** After a failed connection, how long record() answers at once instead of trying again. */
    private static final long RECONNECT_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final String where;
    private final String keyPrefix;
    private final int capacity;
    private final int domainCapacity;
    private final long retentionMillis;
    private final Duration timeout;
    private final ClientResources resources;
    private final RedisClient client;
    private final Object connecting = new Object();
    /**
     * A record that timed out may still have run in Redis: the mail's retry would then find its own entry and be held
     * as a replay. So the retry sends the same token, and the script answers fresh when the entry holds it. A token is
     * taken out of this map while its record runs, so one token gives one pass, even to two threads.
     */
    private final ConcurrentHashMap<String, Unanswered> unanswered = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    /** The unanswered records' drop times are Unix ms, as Redis keeps them; the reconnect pause is monotonic. */
    private final Clock clock;
    private final LongSupplier nanoTime;
    private volatile StatefulRedisConnection<String, String> connection;
    /** {@link #nanoTime} of the last answer from Redis (or of the last connection opened); set in the constructor. */
    private volatile long lastAnswerNanos;
    private long nextAttemptNanos;
    private String lastFailure = "not connected yet";

    /**
     * Nothing is connected here: James starts while Redis is down (mail then waits, the health check says why).
     * The password file is read now, so that a missing one stops the start-up.
     */
    public RedisReplayCache(PartnerPolicies.ReplayStore.Redis settings, PartnerPolicies.ReplayCacheSize size,
                            Duration retention) throws IOException {
        this(settings, size, retention, Clock.systemUTC(), System::nanoTime);
    }

    RedisReplayCache(PartnerPolicies.ReplayStore.Redis settings, PartnerPolicies.ReplayCacheSize size, Duration retention,
                     Clock clock, LongSupplier nanoTime) throws IOException {
        Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.lastAnswerNanos = nanoTime.getAsLong();
        if (retention.isNegative()) {
            throw new IllegalArgumentException("retention must not be negative: " + retention);
        }
        this.where = printable(settings.uri());
        this.keyPrefix = settings.keyPrefix();
        this.capacity = size.capacity();
        this.domainCapacity = size.domainCapacity();
        this.retentionMillis = retention.toMillis();
        this.timeout = settings.timeout();
        RedisURI uri = RedisURI.create(settings.uri());
        uri.setTimeout(settings.timeout());
        if (settings.passwordFile().isPresent()) {
            // Not wiped afterwards: lettuce keeps this very array, and sends it again at each reconnection.
            char[] password = password(settings.passwordFile().get());
            if (settings.username().isPresent()) {
                uri.setUsername(settings.username().get());
            }
            uri.setPassword(password);
        }
        // Few threads: one connection, pipelined by lettuce (2 is the least lettuce takes for either pool).
        this.resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
        this.client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                // We reconnect ourselves, on demand: lettuce's own would queue or retry commands behind our back.
                .autoReconnect(false)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                // RESP2: AUTH then SELECT, as every Redis since 6 and its look-alikes speak it.
                .protocolVersion(ProtocolVersion.RESP2)
                .socketOptions(SocketOptions.builder().connectTimeout(settings.connectTimeout()).keepAlive(true).build())
                .timeoutOptions(TimeoutOptions.enabled(settings.timeout()))
                .build());
    }

    @Override
    public Outcome record(SignatureId signature, String replayId, int maxRecipients, Instant expiresAt) throws ReplayCacheException {
        Objects.requireNonNull(signature, "signature");
        Objects.requireNonNull(replayId, "replayId");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (maxRecipients < 1) {
            throw new IllegalArgumentException("maxRecipients must be at least 1: " + maxRecipients);
        }
        String d = signature.domain().toLowerCase(Locale.ROOT);
        String s = signature.keyId();
        String n = signature.nonce();
        if (d.length() > 253 || !DOMAIN.matcher(d).matches() || !KEY_ID.matcher(s).matches() || !NONCE.matcher(n).matches()) {
            throw new ReplayCacheException("replay cache: d=, s= or n= outside the protocol's syntax; not stored in Redis");
        }
        if (replayId.getBytes(StandardCharsets.UTF_8).length > MAX_REPLAY_ID_BYTES) {
            throw new ReplayCacheException("replay cache: a replay id longer than " + MAX_REPLAY_ID_BYTES + " bytes");
        }
        long dropAt;
        try {
            // Whole milliseconds, rounded up: kept a little longer than asked, never shorter.
            long expires = Math.addExact(expiresAt.toEpochMilli(), expiresAt.getNano() % 1_000_000 > 0 ? 1 : 0);
            dropAt = Math.addExact(expires, retentionMillis);
        } catch (ArithmeticException e) {
            throw new ReplayCacheException("replay cache: expiry beyond what Redis can hold: " + expiresAt);
        }
        String[] keys = {sigKey(d, s, n), keyPrefix + "dom:" + d, keyPrefix + "all"};
        String entry = keys[0] + '\n' + replayId;
        // The mail's own token when the matcher verifies a mail (ReplayAttempt): its retry, on any node, finds it; no
        // other copy has it. Else (a caller without a mail) the token of this node's unanswered record, if any.
        Optional<String> mailToken = ReplayAttempt.current();
        Unanswered earlier = mailToken.isPresent() ? null : unanswered.remove(entry);
        String token = mailToken.orElseGet(() -> earlier != null ? earlier.token() : token());
        String[] args = {d, s, n, replayId, Integer.toString(maxRecipients), Long.toString(dropAt),
                Integer.toString(capacity), Integer.toString(domainCapacity), token};
        Object answer;
        try {
            answer = run(keys, args);
            if (!(answer instanceof Long)) {
                throw new ReplayCacheException("Redis " + where + " answered the replay script with " + describe(answer));
            }
        } catch (ReplayCacheException | RuntimeException e) {
            // No answer: the script may have run all the same; the retry of this mail sends the same token (the mail
            // carries it, or else this node remembers it).
            if (mailToken.isEmpty()) {
                remember(entry, new Unanswered(token, Math.max(dropAt, earlier == null ? 0 : earlier.dropAt())));
            }
            throw e;
        }
        long code = (Long) answer;
        return switch (code == (int) code ? (int) code : Integer.MIN_VALUE) {
            case 0, 3 -> Outcome.FRESH;
            case 1 -> Outcome.REPLAY;
            case 2 -> Outcome.RECIPIENT_LIMIT;
            case -1 -> throw new ReplayCacheException("replay cache in Redis " + where + " full: " + capacity + " unexpired entries");
            case -2 -> throw new ReplayCacheException("replay cache share of d=" + d + " in Redis " + where + " full: "
                    + domainCapacity + " unexpired entries");
            case -3 -> throw new ReplayCacheException("replay cache: the signature's entries would already be dropped by "
                    + "Redis's clock (" + where + "): it cannot tell a replay");
            default -> throw new ReplayCacheException("Redis " + where + " answered the replay script with " + code);
        };
    }

    private record Unanswered(String token, long dropAt) {
    }

    private void remember(String entry, Unanswered u) {
        if (unanswered.size() >= MAX_UNANSWERED) {
            long now = clock.millis();
            unanswered.values().removeIf(e -> e.dropAt() <= now);
        }
        if (unanswered.size() < MAX_UNANSWERED) {
            // Beyond the bound, the retry finds its own entry and is held as a replay: stricter, never looser.
            unanswered.putIfAbsent(entry, u);
        }
    }

    /** How many records wait for their retry with the token they wrote. */
    int unansweredCount() {
        return unanswered.size();
    }

    /** 64 random bits, so that two attempts (on any node) never write the same token. */
    private String token() {
        byte[] b = new byte[8];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** The signature's key: the parts, each checked to hold no ':', '{', '}', space or control character. */
    String sigKey(String d, String s, String n) {
        return keyPrefix + "sig:" + d + ":" + s + ":" + n;
    }

    /** Empty when Redis answers PING within {@code limit}; else what is wrong, naming the server without password. */
    public Optional<String> health(Duration limit) {
        try {
            StatefulRedisConnection<String, String> c = connection();
            String pong = c.async().ping().get(limit.toMillis(), TimeUnit.MILLISECONDS);
            answered();
            return "PONG".equals(pong) ? Optional.empty() : Optional.of("Redis " + where + " answered PING with " + describe(pong));
        } catch (ReplayCacheException e) {
            return Optional.of(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while asking Redis " + where);
        } catch (Exception e) {
            return Optional.of("Redis " + where + " did not answer PING within " + limit + ": " + e);
        }
    }

    /** The server, as messages name it: scheme, host, port and database, never a password. */
    public String where() {
        return where;
    }

    private Object run(String[] keys, String[] args) throws ReplayCacheException {
        StatefulRedisConnection<String, String> c = connection();
        RedisCommands<String, String> redis = c.sync();
        try {
            Object answer;
            try {
                answer = redis.evalsha(SCRIPT_SHA1, ScriptOutputType.INTEGER, keys, args);
            } catch (RedisNoScriptException notLoaded) {
                // A restarted or new Redis has no script cache: EVAL loads it, and the next EVALSHA finds it.
                answer = redis.eval(SCRIPT, ScriptOutputType.INTEGER, keys, args);
            }
            answered();
            return answer;
        } catch (RedisCommandTimeoutException e) {
            timedOut(c);
            throw new ReplayCacheException("replay cache in Redis " + where + " did not answer (timeout " + timeout + "): " + e, e);
        } catch (RuntimeException e) {
            // Timeouts, a closed connection, NOAUTH, a script error, a reply lettuce cannot decode: no answer.
            throw new ReplayCacheException("replay cache in Redis " + where + " did not answer (timeout " + timeout + "): " + e, e);
        }
    }

    private void answered() {
        lastAnswerNanos = nanoTime.getAsLong();
    }

    /**
     * A command timed out. When nothing at all has answered on this connection for a whole timeout, the connection is
     * taken as dead and closed, so that the next record connects again: a server that vanished without closing its
     * connections (power lost, a partition, a failover that moved the address to another server) leaves them open
     * and silent, and TCP would take many minutes to give up on them. A server that is merely slow still answers
     * something within a timeout, and keeps its connection.
     */
    private void timedOut(StatefulRedisConnection<String, String> c) {
        if (nanoTime.getAsLong() - lastAnswerNanos > timeout.toNanos()) {
            synchronized (connecting) {
                if (connection == c) {
                    connection = null;
                    c.closeAsync();
                }
            }
        }
    }

    private StatefulRedisConnection<String, String> connection() throws ReplayCacheException {
        StatefulRedisConnection<String, String> c = connection;
        if (c != null && c.isOpen()) {
            return c;
        }
        synchronized (connecting) {
            c = connection;
            if (c != null && c.isOpen()) {
                return c;
            }
            if (c != null) {
                c.closeAsync();
                connection = null;
            }
            long now = nanoTime.getAsLong();
            if (now - nextAttemptNanos < 0) {
                // Redis just failed us: answer at once rather than make every spool thread wait a connect timeout.
                throw new ReplayCacheException("replay cache in Redis " + where + " unreachable: " + lastFailure);
            }
            try {
                c = client.connect();
                c.setTimeout(timeout);
                answered();
                connection = c;
                return c;
            } catch (RuntimeException e) {
                lastFailure = String.valueOf(e.getMessage()) + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")");
                nextAttemptNanos = now + RECONNECT_PAUSE_NANOS;
                throw new ReplayCacheException("replay cache in Redis " + where + " unreachable: " + lastFailure, e);
            }
        }
    }

    @Override
    public void close() {
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    /** Redis takes longer passwords, but a file longer than this is not one password (a log, a key, a device). */
    static final int MAX_PASSWORD_FILE_BYTES = 1024;

    private static char[] password(Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            // Bounded before it is read: the file was checked at start-up, but may have been replaced since.
            bytes = in.readNBytes(MAX_PASSWORD_FILE_BYTES + 1);
        }
        try {
            if (bytes.length > MAX_PASSWORD_FILE_BYTES) {
                throw new IOException(file + " is longer than " + MAX_PASSWORD_FILE_BYTES + " bytes: not one Redis password");
            }
            String text = new String(bytes, StandardCharsets.UTF_8);
            // One line; the newline an editor adds is not part of it.
            String line = text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
                    : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
            if (line.isEmpty() || line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
                throw new IOException(file + " must hold the Redis password on one line");
            }
            return line.toCharArray();
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    private static String printable(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    /** A reply, bounded and without control characters, for a message. */
    private static String describe(Object reply) {
        String text = reply == null ? "nothing" : reply.getClass().getSimpleName() + " " + reply;
        text = text.replaceAll("\\p{Cntrl}", "?");
        return text.length() > 80 ? text.substring(0, 80) + "..." : text;
    }

    private static String sha1(String script) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(script.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
