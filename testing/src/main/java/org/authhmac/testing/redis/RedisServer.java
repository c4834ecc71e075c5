package org.authhmac.testing.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.authhmac.testing.FreePorts;
import org.junit.jupiter.api.Assumptions;

/**
 * A real redis-server on a free loopback port, which a test can kill (SIGKILL), pause (SIGSTOP: a hung Redis) and start
 * again on the same port. Without persistence ({@code --save "" --appendonly no}) by default, so a restart comes back
 * empty; {@link #startAppendOnly} keeps an append-only file that a restart reloads. With a password it requires AUTH.
 * {@link #startAppendOnlyWithTls} also listens with TLS on a second port ({@link #tls()}), with a certificate for
 * 127.0.0.1 from a test CA made for it: clients trust it through {@link Tls#trustStore}.
 *
 * <p>When redis-server is not installed the test is skipped on a developer machine and fails in CI (environment
 * variable CI=true), so a CI run can never pass without exercising Redis (scripts/ensure-tools installs it).
 */
public final class RedisServer implements AutoCloseable {
    private final int port;
    private final Optional<String> password;
    private final Optional<String> appendFsync;
    private final Optional<Tls> tls;
    private final Path dir;
    private Process process;
    private Thread hook;

    private RedisServer(Optional<String> password, Optional<String> appendFsync, boolean withTls) {
        this.port = FreePorts.next();
        this.password = password;
        this.appendFsync = appendFsync;
        try {
            this.dir = Files.createTempDirectory("redis-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.tls = withTls ? Optional.of(Tls.create(dir.resolve("tls"), FreePorts.next())) : Optional.empty();
    }

    /**
     * The TLS side of a server from {@link #startAppendOnlyWithTls}: its port, and a PKCS#12 trust store (password
     * {@link #TRUST_STORE_PASSWORD}) holding only the test CA that signed its certificate (subjectAltName IP 127.0.0.1).
     */
    public record Tls(int port, Path certificate, Path key, Path caCertificate, Path trustStore) {
        public static final String TRUST_STORE_PASSWORD = "test-trust-store";

        /** {@code rediss://127.0.0.1:<tls port>/0} */
        public String uri() {
            return "rediss://127.0.0.1:" + port + "/0";
        }

        /** The JVM options that make a JVM trust this server (and nothing else). */
        public List<String> jvmOptions() {
            return List.of("-Djavax.net.ssl.trustStore=" + trustStore, "-Djavax.net.ssl.trustStoreType=PKCS12",
                    "-Djavax.net.ssl.trustStorePassword=" + TRUST_STORE_PASSWORD);
        }

        static Tls create(Path dir, int port) {
            try {
                Files.createDirectories(dir);
                Path ext = Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1\n");
                run(dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                        "-days", "2", "-subj", "/CN=auth-hmac test CA");
                run(dir, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "redis.key", "-out", "redis.csr",
                        "-subj", "/CN=127.0.0.1");
                run(dir, "openssl", "x509", "-req", "-in", "redis.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                        "-out", "redis.crt", "-days", "2", "-extfile", ext.toString());
                run(dir, Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-importcert", "-noprompt",
                        "-alias", "test-ca", "-file", "ca.crt", "-keystore", "trust.p12", "-storetype", "PKCS12",
                        "-storepass", TRUST_STORE_PASSWORD);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Tls(port, dir.resolve("redis.crt"), dir.resolve("redis.key"), dir.resolve("ca.crt"), dir.resolve("trust.p12"));
        }

        private static void run(Path dir, String... command) throws IOException {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** The TLS port and trust store of a server from {@link #startAppendOnlyWithTls}. */
    public Tls tls() {
        return tls.orElseThrow(() -> new IllegalStateException("this redis-server has no TLS port"));
    }

    /** Starts a fresh server that needs no password. */
    public static RedisServer start() {
        requireInstalled();
        return new RedisServer(Optional.empty(), Optional.empty(), false).started();
    }

    /**
     * Starts a fresh server that needs no password and writes every change to an append-only file
     * ({@code appendonly yes}) with this {@code appendfsync} policy ({@code always}, {@code everysec}): after a kill,
     * {@link #restart()} reloads it, as a production Redis set up as docs/OPERATIONS.md advises does.
     */
    public static RedisServer startAppendOnly(String appendFsync) {
        requireInstalled();
        return new RedisServer(Optional.empty(), Optional.of(appendFsync), false).started();
    }

    /**
     * As {@link #startAppendOnly}, and also listening with TLS on {@link #tls()}'s port (the plain port stays, for
     * {@link #command}); needs openssl.
     */
    public static RedisServer startAppendOnlyWithTls(String appendFsync) {
        requireInstalled();
        return new RedisServer(Optional.empty(), Optional.of(appendFsync), true).started();
    }

    /** Starts a fresh server whose default user needs this password. */
    public static RedisServer startWithPassword(String password) {
        requireInstalled();
        return new RedisServer(Optional.of(password), Optional.empty(), false).started();
    }

    public static boolean installed() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, "redis-server"))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/bin/redis-server"));
    }

    /** Skips the calling test when redis-server is missing, except in CI, where it fails. */
    public static void requireInstalled() {
        if (installed()) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("redis-server is not installed, and CI=true: the Redis tests must run in CI "
                    + "(apt-get install redis-server)");
        }
        Assumptions.abort("redis-server is not installed (apt-get install redis-server); skipping outside CI");
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** The redis-server process, for a test that measures its CPU time. */
    public synchronized long pid() {
        if (process == null) {
            throw new IllegalStateException("redis-server on port " + port + " is not running");
        }
        return process.pid();
    }

    /** {@code redis://127.0.0.1:<port>/0} */
    public String uri() {
        return "redis://" + host() + ":" + port + "/0";
    }

    private synchronized RedisServer started() {
        if (process != null && process.isAlive()) {
            return this;
        }
        List<String> command = new ArrayList<>(List.of(executable(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--dir", dir.toString(), "--daemonize", "no", "--protected-mode", "yes"));
        if (appendFsync.isPresent()) {
            command.addAll(List.of("--appendonly", "yes", "--appendfsync", appendFsync.get()));
        } else {
            command.addAll(List.of("--appendonly", "no"));
        }
        password.ifPresent(p -> command.addAll(List.of("--requirepass", p)));
        tls.ifPresent(t -> command.addAll(List.of("--tls-port", Integer.toString(t.port()), "--tls-cert-file",
                t.certificate().toString(), "--tls-key-file", t.key().toString(), "--tls-ca-cert-file",
                t.caCertificate().toString(), "--tls-auth-clients", "no")));
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start redis-server (apt-get install redis-server)", e);
        }
        Process started = process;
        hook = new Thread(started::destroyForcibly, "kill-redis-" + port);
        Runtime.getRuntime().addShutdownHook(hook);
        awaitPong(Duration.ofSeconds(10));
        return this;
    }

    private static String executable() {
        return Files.isExecutable(Path.of("/usr/bin/redis-server")) ? "/usr/bin/redis-server" : "redis-server";
    }

    /** SIGKILL: Redis disappears at once, with everything it held in memory only. */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // hook already running
        }
    }

    /** (Re)starts on the same port (empty, or reloading its append-only file) and waits until it answers PING. */
    public void restart() {
        kill();
        started();
    }

    /** SIGSTOP: the process keeps its socket but answers nothing, as a hung server would; {@link #resume()} ends it. */
    public synchronized void pause() {
        signal("STOP");
    }

    public synchronized void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
            kill.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Sends one command (RESP, after AUTH when the server has a password) and returns the reply as text, for tests
     * that look at or change what is stored: {@code command("PTTL", key)}.
     */
    public String command(String... args) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            if (password.isPresent()) {
                write(out, "AUTH", password.get());
                readReply(in);
            }
            write(out, args);
            return readReply(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends one command as an ACL user (AUTH user password first); the reply as {@link #command} gives it. */
    public String commandAs(String user, String userPassword, String... args) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            write(out, "AUTH", user, userPassword);
            String auth = readReply(in);
            if (!"OK".equals(auth)) {
                throw new IllegalStateException("AUTH " + user + ": " + auth);
            }
            write(out, args);
            return readReply(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(OutputStream out, String... args) throws IOException {
        StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The reply: a simple string, error (with its "-"), integer or bulk string as text; an array as its items, one a line. */
    private static String readReply(InputStream in) throws IOException {
        String line = readLine(in);
        char type = line.charAt(0);
        String rest = line.substring(1);
        switch (type) {
            case '+', ':' -> {
                return rest;
            }
            case '-' -> {
                return line;
            }
            case '$' -> {
                int n = Integer.parseInt(rest);
                if (n < 0) {
                    return null;
                }
                byte[] data = in.readNBytes(n + 2);
                return new String(data, 0, n, StandardCharsets.UTF_8);
            }
            case '*' -> {
                int n = Integer.parseInt(rest);
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < n; i++) {
                    b.append(i == 0 ? "" : "\n").append(readReply(in));
                }
                return b.toString();
            }
            default -> throw new IOException("unexpected reply from redis: " + line);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\r') {
                in.read();
                return b.toString();
            }
            b.append((char) c);
        }
        throw new IOException("redis closed the connection");
    }

    private void awaitPong(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited with " + process.exitValue() + ", see " + dir.resolve("redis.log"));
            }
            try {
                String pong = command("PING");
                if ("PONG".equals(pong)) {
                    return;
                }
            } catch (UncheckedIOException notYet) {
                // not listening yet
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("redis-server did not answer PING on 127.0.0.1:" + port + " within " + timeout);
    }

    @Override
    public void close() {
        kill();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temp directory left behind is harmless
        }
    }
}
