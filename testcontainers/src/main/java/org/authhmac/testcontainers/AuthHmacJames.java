package org.authhmac.testcontainers;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.ContainerNetwork;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.authhmac.cli.AuthHmacCli;
import org.authhmac.testing.james.WebAdminClient;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;
import picocli.CommandLine;

/**
 * A James server in a container with the X-Auth-HMAC drop-in jar, one role of james-conf/, its own swtpm sidecar and a
 * partner key provisioned in that TPM by the operator's CLI before James starts; ready when WebAdmin's
 * {@code /healthcheck} answers 200. For an integrator's JUnit tests, as James's own {@code server/testing} helps its
 * users:
 *
 * <pre>{@code
 * @Container static AuthHmacJames bob = AuthHmacJames.receiving("b.example").withPartner("a.example", "a-b");
 * @Container static AuthHmacJames alice = AuthHmacJames.sending("a.example").relayingTo(bob);
 * }</pre>
 *
 * The container owns its sidecar and, unless it relays to a peer or is given a network, the network they share;
 * {@link #stop()} stops all three, so nothing depends on Testcontainers' Ryuk.
 */
public class AuthHmacJames extends GenericContainer<AuthHmacJames> {
    /** The image scripts/images builds from containers/james: James 3.8.1 on Java 11, the official image's layout. */
    public static final DockerImageName DEFAULT_IMAGE = DockerImageName.parse("localhost/auth-hmac/james:memory-3.8.1");
    public static final int SMTP_PORT = 25;
    public static final int SUBMISSION_PORT = 587;
    public static final int IMAP_PORT = 143;
    public static final int WEBADMIN_PORT = 8000;
    /** Where the drop-in jar is looked for when {@link #withBundleJar} was not called. */
    public static final String BUNDLE_JAR_PROPERTY = "authhmac.bundleJar";
    /** The key id of the key a container generates for its partner. */
    public static final String KEY_ID = "k1";

    private static final String CONF = "/root/conf/";
    private static final String EXTENSIONS = "/root/extensions-jars/";
    private static final Pattern GATEWAY = Pattern.compile("<gateway>[^<]*</gateway>");

    /**
     * A james-conf/ role: its files, and the domains they are written for (its own and its partner's), which
     * {@link #configure()} replaces with the container's.
     */
    public enum Role {
        SENDING("sending", "a.example", "b.example"),
        RECEIVING("receiving", "b.example", "a.example");

        /** The files of james-conf/sending and james-conf/receiving (the same names in both). */
        static final List<String> FILES = List.of("auth-hmac-partners.properties", "auth-hmac.properties", "dnsservice.xml",
                "extensions.properties", "healthcheck.properties", "mailetcontainer.xml", "mailrepositorystore.xml");

        final String folder;
        final String shippedDomain;
        final String shippedPartner;

        Role(String folder, String shippedDomain, String shippedPartner) {
            this.folder = folder;
            this.shippedDomain = shippedDomain;
            this.shippedPartner = shippedPartner;
        }

        String file(String name) {
            return resource("org/authhmac/testcontainers/james-conf/" + folder + "/" + name);
        }
    }

    private static String resource(String resource) {
        try (InputStream in = AuthHmacJames.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private final Role role;
    private final String domain;
    private final SwtpmContainer tpm;
    private final Map<String, String> users = new LinkedHashMap<>();
    private SharedNetwork network;
    private boolean joined;
    private Path bundleJar;
    private String partnerDomain;
    private String keyset;
    private AuthHmacJames peer;
    private PartnerKey partnerKey;

    public AuthHmacJames(DockerImageName image, Role role, String domain) {
        super(image);
        this.role = Objects.requireNonNull(role, "role");
        this.domain = Objects.requireNonNull(domain, "domain");
        this.tpm = new SwtpmContainer();
        this.network = new SharedNetwork(Network.newNetwork(), true);
        withNetwork(network.network);
        withNetworkAliases(domain);
        withExposedPorts(SMTP_PORT, SUBMISSION_PORT, IMAP_PORT, WEBADMIN_PORT);
        waitingFor(new JamesHealthy().withStartupTimeout(Duration.ofMinutes(3)));
    }

    /** A server of james-conf/receiving: verifies its partner's mail, quarantines failures. */
    public static AuthHmacJames receiving(String domain) {
        return new AuthHmacJames(DEFAULT_IMAGE, Role.RECEIVING, domain);
    }

    /** A server of james-conf/sending: signs what its users send to its partner. */
    public static AuthHmacJames sending(String domain) {
        return new AuthHmacJames(DEFAULT_IMAGE, Role.SENDING, domain);
    }

    /**
     * The partner domain and the keyset of that relationship. The container's vault gets a new key in that keyset
     * ({@link #KEY_ID}), whose secret {@link #exportedKey(String)} returns once the container has started.
     */
    public AuthHmacJames withPartner(String partnerDomain, String keyset) {
        this.partnerDomain = Objects.requireNonNull(partnerDomain, "partnerDomain");
        this.keyset = Objects.requireNonNull(keyset, "keyset");
        return this;
    }

    /**
     * Makes this (sending) server the peer's partner: on the peer's network, RemoteDelivery's gateway is the peer's
     * SMTP port, and the peer's partner key (the peer's partner must be this domain) is imported into this
     * container's vault. The peer starts first.
     */
    public AuthHmacJames relayingTo(AuthHmacJames peer) {
        this.peer = Objects.requireNonNull(peer, "peer");
        if (!domain.equals(peer.partnerDomain)) {
            throw new IllegalArgumentException(peer.domain + " has partner " + peer.partnerDomain + ", not " + domain
                    + ": call withPartner(\"" + domain + "\", keyset) on it");
        }
        this.partnerDomain = peer.domain;
        this.keyset = peer.keyset;
        this.network = peer.network;
        withNetwork(peer.network.network);
        dependsOn(peer);
        return this;
    }

    /** The drop-in jar for /root/extensions-jars: the javax one for James 3.8, the jakarta one for 3.9. */
    public AuthHmacJames withBundleJar(Path jar) {
        this.bundleJar = Objects.requireNonNull(jar, "jar");
        return this;
    }

    /** A mailbox, created through WebAdmin once James is up (its domain must be this server's). */
    public AuthHmacJames withUser(String address, String password) {
        users.put(address, password);
        return this;
    }

    public Role role() {
        return role;
    }

    public String domain() {
        return domain;
    }

    /** The TPM sidecar holding this server's keys. */
    public SwtpmContainer tpm() {
        return tpm;
    }

    public int smtpPort() {
        return getMappedPort(SMTP_PORT);
    }

    public int submissionPort() {
        return getMappedPort(SUBMISSION_PORT);
    }

    public int imapPort() {
        return getMappedPort(IMAP_PORT);
    }

    public URI webAdminUrl() {
        return URI.create("http://" + getHost() + ":" + getMappedPort(WEBADMIN_PORT));
    }

    public WebAdminClient webAdmin() {
        return new WebAdminClient(webAdminUrl());
    }

    /** The partner key of {@code keyset} as provisioned in this container's vault; there once it has started. */
    public PartnerKey exportedKey(String keyset) {
        if (partnerKey == null) {
            throw new IllegalStateException("no key yet: " + domain + " provisions its key when it starts");
        }
        if (!partnerKey.keyset().equals(keyset)) {
            throw new IllegalArgumentException(domain + " holds keyset " + partnerKey.keyset() + ", not " + keyset);
        }
        return partnerKey;
    }

    @Override
    public void start() {
        try {
            super.start();
        } catch (RuntimeException e) {
            // a James that never became healthy, or whose users could not be added, is stopped with its sidecar
            stop();
            throw e;
        }
    }

    @Override
    public void stop() {
        try {
            super.stop();
        } finally {
            stopSidecarAndNetwork();
        }
    }

    private void stopSidecarAndNetwork() {
        tpm.stop();
        if (joined) {
            joined = false;
            network.leave();
        }
    }

    /** Starts the sidecar, provisions the key through it, and puts the configuration and the jar into the container. */
    @Override
    protected void configure() {
        if (partnerDomain == null) {
            throw new IllegalStateException(domain + ": call withPartner(domain, keyset) or relayingTo(peer) before start");
        }
        if (getNetwork() != network.network) {
            network = new SharedNetwork(getNetwork(), false);  // the integrator's own network: theirs to close
        }
        network.join();
        joined = true;
        tpm.withNetwork(getNetwork()).start();
        provisionKey();
        Map<String, String> files = new LinkedHashMap<>();
        for (String name : Role.FILES) {
            files.put(name, adapted(name, role.file(name)));
        }
        files.put("auth-hmac.properties", withProperties(files.get("auth-hmac.properties"),
                Map.of("tpm.host", addressOn(tpm), "tpm.port", Integer.toString(SwtpmContainer.TPM_PORT))));
        // WebAdmin on every interface of the container, as containers/james has it; on localhost only (as some images
        // ship it) the health wait could never reach it through the mapped port
        files.put("webadmin.properties", resource("org/authhmac/testcontainers/docker-conf/webadmin.properties"));
        files.forEach((name, text) -> withCopyToContainer(Transferable.of(text), CONF + name));
        Path jar = bundleJar != null ? bundleJar : defaultBundleJar();
        withCopyToContainer(MountableFile.forHostPath(jar), EXTENSIONS + jar.getFileName());
    }

    /** The role's file with this container's domains, keyset and gateway in place of the shipped ones. */
    String adapted(String name, String text) {
        String own = "\u0000own\u0000";
        String partner = "\u0000partner\u0000";
        String out = text.replace(role.shippedDomain, own).replace(role.shippedPartner, partner)
                .replace(own, domain).replace(partner, partnerDomain);
        if (name.equals("auth-hmac-partners.properties")) {
            out = out.replace(".keyset=a-b", ".keyset=" + keyset);
        }
        if (name.equals("mailetcontainer.xml") && peer != null) {
            // an address, not the peer's name: podman's CNI networks here resolve no container names
            out = GATEWAY.matcher(out).replaceAll(Matcher.quoteReplacement("<gateway>" + addressOn(peer) + ":" + SMTP_PORT + "</gateway>"));
        }
        return out;
    }

    /**
     * Runs the CLI in this JVM against the sidecar's mapped port, in a scratch conf/ whose vault files (the keyset
     * file and the TPM-wrapped blobs, bound to this sidecar's TPM) are then copied into the container.
     */
    private void provisionKey() {
        Path work = null;
        try {
            work = Files.createTempDirectory("auth-hmac-vault-");
            Path config = work.resolve("auth-hmac.properties");
            Files.writeString(config, withProperties(role.file("auth-hmac.properties"),
                    Map.of("tpm.host", tpm.getHost(), "tpm.port", Integer.toString(tpm.tpmPort()))));
            Path export = work.resolve("partner.secret");
            if (peer != null) {
                Files.writeString(export, peer.exportedKey(keyset).exportText());
                cli(config, "keys", "import", "--keyset", keyset, "--from", export.toString());
                partnerKey = peer.exportedKey(keyset);
            } else {
                cli(config, "keys", "generate", "--keyset", keyset, "--key-id", KEY_ID, "--export", export.toString());
                partnerKey = PartnerKey.fromExport(Files.readString(export));
            }
            Files.delete(export);
            try (Stream<Path> vaultFiles = Files.walk(work)) {
                for (Path file : vaultFiles.filter(Files::isRegularFile).filter(f -> !f.equals(config)).toList()) {
                    withCopyToContainer(Transferable.of(Files.readAllBytes(file)), CONF + work.relativize(file));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot provision the key of " + domain, e);
        } finally {
            deleteRecursively(work);
        }
    }

    private void cli(Path config, String... args) {
        List<String> all = new ArrayList<>(List.of("-c", config.toString()));
        all.addAll(List.of(args));
        StringWriter output = new StringWriter();
        CommandLine cli = AuthHmacCli.commandLine();
        cli.setOut(new PrintWriter(output, true));
        cli.setErr(new PrintWriter(output, true));
        int exit = cli.execute(all.toArray(String[]::new));
        if (exit != 0) {
            throw new IllegalStateException("auth-hmac " + String.join(" ", args) + " exited " + exit + " for " + domain + ":\n" + output);
        }
    }

    @Override
    protected void containerIsStarted(InspectContainerResponse info) {
        WebAdminClient admin = webAdmin();
        admin.addDomain(domain);
        // quarantine notices go to the postmaster too (james-conf: notifyPostmaster)
        admin.addUser("postmaster@" + domain, UUID.randomUUID().toString());
        users.forEach(admin::addUser);
    }

    /** The address of a started container on the network this one is on. */
    private String addressOn(GenericContainer<?> container) {
        Map<String, ContainerNetwork> networks = container.getContainerInfo().getNetworkSettings().getNetworks();
        String id = getNetwork().getId();
        Optional<ContainerNetwork> on = networks.values().stream().filter(n -> id.equals(n.getNetworkID())).findFirst();
        if (on.isEmpty() && networks.size() == 1) {
            on = networks.values().stream().findFirst();
        }
        return on.map(ContainerNetwork::getIpAddress).filter(ip -> !ip.isEmpty())
                .orElseThrow(() -> new IllegalStateException(container.getContainerName() + " is not on network " + id));
    }

    /**
     * The javax jar of this source tree: -D{@value #BUNDLE_JAR_PROPERTY}, else bundle/target/auth-hmac-bundle-*-javax.jar
     * in the working directory or a folder above it.
     */
    static Path defaultBundleJar() {
        String configured = System.getProperty(BUNDLE_JAR_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            Path jar = Path.of(configured);
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException("-D" + BUNDLE_JAR_PROPERTY + "=" + jar + ": no such file (build it: scripts/mvn -B -pl bundle -am package -DskipTests)");
            }
            return jar;
        }
        List<Path> looked = new ArrayList<>();
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path target = dir.resolve("bundle/target");
            looked.add(target);
            if (Files.isDirectory(target)) {
                try (Stream<Path> files = Files.list(target)) {
                    Optional<Path> jar = files.filter(f -> f.getFileName().toString().matches("auth-hmac-bundle-.*-javax\\.jar"))
                            .max(Comparator.comparing(Path::toString));
                    if (jar.isPresent()) {
                        return jar.get();
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        throw new IllegalStateException("no drop-in jar: call withBundleJar(path) or set -D" + BUNDLE_JAR_PROPERTY
                + "; looked for auth-hmac-bundle-*-javax.jar in " + looked);
    }

    /** Sets keys of a properties text, keeping its comments and the order of the other keys. */
    static String withProperties(String text, Map<String, String> values) {
        Map<String, String> pending = new LinkedHashMap<>(values);
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            String trimmed = line.trim();
            int eq = trimmed.indexOf('=');
            if (!trimmed.startsWith("#") && eq > 0 && pending.containsKey(trimmed.substring(0, eq).trim())) {
                String key = trimmed.substring(0, eq).trim();
                line = key + "=" + pending.remove(key);
            }
            lines.add(line);
        }
        StringBuilder out = new StringBuilder(String.join("\n", lines));
        pending.forEach((k, v) -> out.append(k).append('=').append(v).append('\n'));
        return out.toString();
    }

    private static void deleteRecursively(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a scratch folder left in /tmp holds only TPM-wrapped blobs, useless without the sidecar
        }
    }

    /** One network for the containers of a test; the last container that leaves removes it, if it was ours. */
    private static final class SharedNetwork {
        final Network network;
        final boolean owned;
        int members;

        SharedNetwork(Network network, boolean owned) {
            this.network = network;
            this.owned = owned;
        }

        synchronized void join() {
            members++;
        }

        synchronized void leave() {
            if (--members == 0 && owned) {
                network.close();
            }
        }
    }
}
