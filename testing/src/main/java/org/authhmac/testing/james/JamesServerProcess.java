package org.authhmac.testing.james;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.authhmac.testing.FreePorts;

/**
 * One real James memory server ({@code org.apache.james.MemoryJamesServerMain}) in its own JVM, in a working
 * directory laid out as an operator lays it out: {@code conf/}, {@code extensions-jars/}, {@code var/}.
 *
 * <p>The configuration is built from layers of template folders (later layers win, file by file), then edited the
 * way an operator adapts a sample configuration to a host: every listener is moved to a free port on 127.0.0.1,
 * DNS is pinned to loopback, RemoteDelivery's gateway is pointed at the peer server, the WebAdmin URL that quarantine
 * notices give ({@code webAdminUrl}) is pointed at this server's WebAdmin, and named properties files get their values. Nothing else in the templates is touched, so what runs here is what {@code james-conf/} ships.
 */
public final class JamesServerProcess implements AutoCloseable {
    /** Production port numbers in the templates, and which of our loopback ports replaces each. */
    private static final Map<Integer, String> STANDARD_PORTS = Map.of(
            25, "smtp", 587, "submission", 143, "imap");
    private static final Pattern BIND = Pattern.compile("<bind>([^<]*)</bind>");
    private static final Pattern GATEWAY = Pattern.compile("<gateway>[^<]*</gateway>");
    private static final Pattern REMOTE_DELIVERY_OPEN = Pattern.compile("(<mailet\\s[^>]*class=\"RemoteDelivery\"[^>]*>)");

    private final String name;
    private final Path workDir;
    private final JamesPorts ports;
    private final List<Path> confLayers;
    private final Map<String, String> extraConfFiles;
    private final Map<String, Map<String, String>> propertyEdits;
    private final List<Path> extensionJars;
    private final JamesRuntime runtime;
    private final List<String> jvmOptions;
    private final String mainClass;
    private final Optional<String> webAdminToken;
    private Integer gatewayPort;
    private Process process;
    private Thread shutdownHook;

    private JamesServerProcess(Builder b) {
        this.name = b.name;
        this.workDir = b.workDir;
        this.ports = b.ports;
        this.confLayers = List.copyOf(b.confLayers);
        this.extraConfFiles = new LinkedHashMap<>(b.extraConfFiles);
        this.propertyEdits = new LinkedHashMap<>(b.propertyEdits);
        this.extensionJars = List.copyOf(b.extensionJars);
        this.runtime = b.runtime;
        this.jvmOptions = List.copyOf(b.jvmOptions);
        this.mainClass = b.mainClass;
        this.webAdminToken = b.webAdminToken;
        this.gatewayPort = b.gatewayPort;
    }

    public static Builder builder(String name, Path workDir) {
        return new Builder(name, workDir);
    }

    public String name() {
        return name;
    }

    public JamesPorts ports() {
        return ports;
    }

    public Path workDir() {
        return workDir;
    }

    public Path confDir() {
        return workDir.resolve("conf");
    }

    public Path logFile() {
        return workDir.resolve("james.log");
    }

    /** This server's WebAdmin, with its admin token when {@link Builder#webAdminJwt} turned authentication on. */
    public WebAdminClient webAdmin() {
        return new WebAdminClient(webAdminUrl(), webAdminToken);
    }

    public URI webAdminUrl() {
        return URI.create("http://127.0.0.1:" + ports.webAdmin());
    }

    /** The admin JWT of a WebAdmin with authentication on ({@link Builder#webAdminJwt}), else empty. */
    public Optional<String> webAdminToken() {
        return webAdminToken;
    }

    /** Where RemoteDelivery sends everything (the peer's server-to-server SMTP port). Set before {@link #prepare()}. */
    public JamesServerProcess gatewayTo(int peerSmtpPort) {
        this.gatewayPort = peerSmtpPort;
        return this;
    }

    /** Writes conf/, extensions-jars/ and var/ from scratch. */
    public JamesServerProcess prepare() {
        try {
            deleteRecursively(workDir);
            Path conf = Files.createDirectories(confDir());
            Files.createDirectories(workDir.resolve("extensions-jars"));
            Files.createDirectories(workDir.resolve("var"));
            for (Path layer : confLayers) {
                copyLayer(layer, conf);
            }
            for (Map.Entry<String, String> file : extraConfFiles.entrySet()) {
                Files.writeString(conf.resolve(file.getKey()), file.getValue(), StandardCharsets.UTF_8);
            }
            for (Path jar : extensionJars) {
                Files.copy(jar, workDir.resolve("extensions-jars").resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
            adaptToThisHost(conf);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + workDir, e);
        }
    }

    private static void copyLayer(Path layer, Path conf) throws IOException {
        if (!Files.isDirectory(layer)) {
            throw new IllegalArgumentException("configuration template folder missing: " + layer);
        }
        try (Stream<Path> files = Files.walk(layer)) {
            for (Path source : (Iterable<Path>) files::iterator) {
                Path target = conf.resolve(layer.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private void adaptToThisHost(Path conf) throws IOException {
        for (String file : List.of("smtpserver.xml", "imapserver.xml", "pop3server.xml", "lmtpserver.xml", "managesieveserver.xml")) {
            Path path = conf.resolve(file);
            if (Files.exists(path)) {
                Files.writeString(path, rebind(file, Files.readString(path)));
            }
        }
        setProperties(conf.resolve("webadmin.properties"), Map.of(
                "enabled", "true", "port", Integer.toString(ports.webAdmin()), "host", "127.0.0.1"));
        // A fixed JMX port would collide between two servers on one host; WebAdmin does all we need.
        setProperties(conf.resolve("jmx.properties"), Map.of("jmx.enabled", "false"));
        Files.writeString(conf.resolve("dnsservice.xml"), """
                <?xml version="1.0"?>
                <!-- written by the e2e harness: loopback only, no resolver auto-discovery -->
                <dnsservice>
                  <servers><server>127.0.0.1</server></servers>
                  <autodiscover>false</autodiscover>
                  <authoritative>false</authoritative>
                  <maxcachesize>50000</maxcachesize>
                </dnsservice>
                """);
        Path mailetContainer = conf.resolve("mailetcontainer.xml");
        if (gatewayPort != null && Files.exists(mailetContainer)) {
            Files.writeString(mailetContainer, pointGateway(Files.readString(mailetContainer), gatewayPort));
        }
        if (Files.exists(mailetContainer)) {
            // the link in quarantine notices: this server's WebAdmin, not the template's production port
            Files.writeString(mailetContainer, MailetContainerEdits.webAdminUrl(Files.readString(mailetContainer), webAdminUrl().toString()));
        }
        for (Map.Entry<String, Map<String, String>> edit : propertyEdits.entrySet()) {
            setProperties(conf.resolve(edit.getKey()), edit.getValue());
        }
    }

    /** Moves every listener of one server file to its loopback port; a production port we do not know is an error, not a silent bind. */
    String rebind(String file, String xml) {
        Matcher m = BIND.matcher(xml);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = m.group(1).trim();
            int port = Integer.parseInt(value.substring(value.lastIndexOf(':') + 1).trim());
            String role = STANDARD_PORTS.get(port);
            int newPort;
            if (role == null) {
                // a listener we do not drive (SMTPS 465, IMAPS 993, POP3, LMTP, ManageSieve): keep it on loopback, on a free port
                newPort = FreePorts.next();
            } else {
                newPort = switch (role) {
                    case "smtp" -> ports.smtp();
                    case "submission" -> ports.submission();
                    case "imap" -> ports.imap();
                    default -> throw new IllegalStateException(role);
                };
            }
            m.appendReplacement(out, Matcher.quoteReplacement("<bind>127.0.0.1:" + newPort + "</bind>"));
        }
        m.appendTail(out);
        return out.toString();
    }

    static String pointGateway(String xml, int port) {
        String gateway = "<gateway>127.0.0.1:" + port + "</gateway>";
        if (GATEWAY.matcher(xml).find()) {
            return GATEWAY.matcher(xml).replaceAll(Matcher.quoteReplacement(gateway));
        }
        Matcher open = REMOTE_DELIVERY_OPEN.matcher(xml);
        if (!open.find()) {
            return xml;
        }
        return open.replaceFirst(Matcher.quoteReplacement(open.group(1) + "\n        " + gateway));
    }

    /** Sets keys in a properties file, keeping its comments and the order of the other keys. */
    static void setProperties(Path file, Map<String, String> values) throws IOException {
        List<String> lines = Files.exists(file) ? new ArrayList<>(Files.readAllLines(file)) : new ArrayList<>();
        Map<String, String> pending = new LinkedHashMap<>(values);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.startsWith("#") || line.startsWith("!") || !line.contains("=")) {
                continue;
            }
            String key = line.substring(0, line.indexOf('=')).trim();
            if (pending.containsKey(key)) {
                lines.set(i, key + "=" + pending.remove(key));
            }
        }
        pending.forEach((k, v) -> lines.add(k + "=" + v));
        Files.write(file, lines);
    }

    /** Starts the JVM and waits until WebAdmin reports the server healthy. */
    public JamesServerProcess start(Duration timeout) {
        launch();
        awaitHealthy(timeout);
        return this;
    }

    /** Starts the JVM without waiting, so that two servers boot side by side; follow with {@link #awaitHealthy}. */
    public JamesServerProcess launch() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " already running");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(runtime.javaExecutable().toString());
        cmd.addAll(jvmOptions);
        cmd.add("-Dworking.directory=" + workDir);
        cmd.add("-Dlogback.configurationFile=" + confDir().resolve("logback.xml"));
        cmd.add("-Dextra.props=" + confDir().resolve("jvm.properties"));
        cmd.add("-cp");
        cmd.add(runtime.libDir() + "/*");
        cmd.add(mainClass);
        try {
            process = new ProcessBuilder(cmd)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start James " + name, e);
        }
        Process started = process;
        shutdownHook = new Thread(() -> started.destroyForcibly(), "kill-james-" + name);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        return this;
    }

    public void awaitHealthy(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.webAdmin() + "/healthcheck"))
                .timeout(Duration.ofSeconds(5)).GET().build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("James " + name + " exited with " + process.exitValue() + "\n" + logTail(60));
            }
            if (logs().contains("Fatal error while starting James")) {
                // James 3.8.1 logs this and keeps its JVM alive: do not wait for a WebAdmin that will never come
                kill();
                throw new IllegalStateException("James " + name + " failed to start:\n" + startFailure());
            }
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
            } catch (IOException notYet) {
                last = notYet.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            sleep(Duration.ofMillis(200));
        }
        throw new IllegalStateException("James " + name + " not healthy within " + timeout + " (last: " + last + ")\n" + logTail(60));
    }

    private String startFailure() {
        List<String> lines = logs().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("Fatal error while starting James")) {
                return String.join("\n", lines.subList(i, Math.min(lines.size(), i + 25)));
            }
        }
        return logTail(40);
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** Graceful stop (SIGTERM, as an init system does), forcing it after 30 s. */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        forget();
    }

    /** SIGKILL, as a crash. */
    public void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        forget();
    }

    private void forget() {
        process = null;
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: nothing to remove
            }
            shutdownHook = null;
        }
    }

    public String logs() {
        try {
            return Files.exists(logFile()) ? Files.readString(logFile(), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + logFile() + ": " + e + ")";
        }
    }

    public String logTail(int lines) {
        List<String> all = logs().lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /**
     * Waits (up to 60 s) for a mail whose headers carry this Message-ID to appear in a mail repository of this server,
     * and returns its repository key; fails with the tail of the server's log when none does.
     */
    public String awaitRepositoryMailKey(String repositoryUrl, String messageId) {
        WebAdminClient admin = webAdmin();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (String key : admin.mailKeys(repositoryUrl)) {
                if (admin.mail(repositoryUrl, key, "headers").path("headers").toString().contains(messageId)) {
                    return key;
                }
            }
            sleep(Duration.ofMillis(300));
        }
        throw new AssertionError("nothing in " + repositoryUrl + " with Message-ID " + messageId + "; log:\n" + logTail(60));
    }

    @Override
    public void close() {
        stop();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    public static final class Builder {
        private final String name;
        private final Path workDir;
        private JamesPorts ports = JamesPorts.allocate();
        private final List<Path> confLayers = new ArrayList<>();
        private final Map<String, String> extraConfFiles = new LinkedHashMap<>();
        private final Map<String, Map<String, String>> propertyEdits = new LinkedHashMap<>();
        private final List<Path> extensionJars = new ArrayList<>();
        private JamesRuntime runtime = JamesRuntime.fromSystemProperties();
        private final List<String> jvmOptions = new ArrayList<>(List.of(
                // C1 only: the servers live for minutes, so faster start-up beats peak throughput (3.6 s instead of ~6 s)
                "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx512m", "-XX:+UseSerialGC"));
        private Integer gatewayPort;
        private Optional<String> webAdminToken = Optional.empty();
        private String mainClass = "org.apache.james.MemoryJamesServerMain";

        private Builder(String name, Path workDir) {
            this.name = Objects.requireNonNull(name);
            this.workDir = workDir.toAbsolutePath();
        }

        /** The harness's loopback base configuration first, then each given folder (for example james-conf/receiving). */
        public Builder baseConf() {
            confLayers.add(JamesRuntime.baseConf());
            return this;
        }

        public Builder confLayer(Path folder) {
            confLayers.add(folder);
            return this;
        }

        public Builder confFile(String fileName, String content) {
            extraConfFiles.put(fileName, content);
            return this;
        }

        /** Values for keys of a properties file in conf/ (for example auth-hmac.properties: the TPM port). */
        public Builder properties(String fileName, Map<String, String> values) {
            propertyEdits.computeIfAbsent(fileName, k -> new LinkedHashMap<>()).putAll(values);
            return this;
        }

        /**
         * Turns WebAdmin authentication on with this key pair (its public key in conf/, {@code jwt.enabled=true}); the
         * harness's own WebAdmin calls then carry an admin token for {@code subject}.
         */
        public Builder webAdminJwt(WebAdminJwt jwt, String subject) {
            confFile(WebAdminJwt.PUBLIC_KEY_FILE, jwt.publicKeyPem());
            properties("webadmin.properties", WebAdminJwt.webAdminProperties());
            webAdminToken = Optional.of(jwt.adminToken(subject));
            return this;
        }

        public Builder extensionJar(Path jar) {
            extensionJars.add(jar);
            return this;
        }

        public Builder runtime(JamesRuntime runtime) {
            this.runtime = runtime;
            return this;
        }

        public Builder ports(JamesPorts ports) {
            this.ports = ports;
            return this;
        }

        /** Another main class on {@link #runtime}'s class path (the persistent-queue server of it/james-persistent-runtime). */
        public Builder mainClass(String mainClass) {
            this.mainClass = Objects.requireNonNull(mainClass);
            return this;
        }

        public Builder jvmOption(String option) {
            jvmOptions.add(option);
            return this;
        }

        public Builder gatewayTo(int peerSmtpPort) {
            this.gatewayPort = peerSmtpPort;
            return this;
        }

        public JamesServerProcess build() {
            return new JamesServerProcess(this);
        }
    }
}
