package org.authhmac.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.apache.james.core.MailAddress;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.api.Protocol;
import org.apache.james.mailrepository.memory.MailRepositoryStoreConfiguration;
import org.apache.james.mailrepository.memory.MemoryMailRepository;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryUrlStore;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.rrt.api.RecipientRewriteTable;
import org.apache.james.rrt.memory.MemoryRecipientRewriteTable;
import org.apache.james.server.core.configuration.Configuration.ConfigurationPath;
import org.apache.james.utils.ClassName;
import org.apache.james.utils.ExtendedClassLoader;
import org.apache.james.utils.ExtensionConfiguration;
import org.apache.james.utils.GuiceGenericLoader;
import org.apache.james.utils.GuiceLoader;
import org.apache.james.utils.GuiceMailetLoader;
import org.apache.james.utils.GuiceMatcherLoader;
import org.apache.james.utils.PropertiesProvider;
import org.apache.mailet.Mail;
import org.apache.mailet.Mailet;
import org.apache.mailet.Matcher;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The James 3.9 (jakarta) drop-in jar, loaded the way a James 3.9.0 server loads it, with the James 3.9.0 artifacts
 * Maven Central has: the jar sits in extensions-jars/ and is reached only through James's ExtendedClassLoader; the
 * vault module comes from extensions.properties' list through GuiceGenericLoader (Guice 7); the mailets and matcher
 * are created by James's own GuiceMailetLoader / GuiceMatcherLoader from their configured names, and run on
 * apache-mailet-test 3.9.0 mails. No full 3.9 server can run here (Central lacks its SMTP and mailet modules).
 */
class JamesThreeNineLoadsTheJakartaJarIT {
    static final String SIGN = "org.authhmac.james.mailets.SignWithAuthHmac";
    static final String QUARANTINE = "org.authhmac.james.mailets.AuthHmacQuarantine";
    static final String VERIFY = "org.authhmac.james.matchers.AuthHmacFailed";

    @TempDir
    static Path root;
    private static GuiceMailetLoader mailets;
    private static GuiceMatcherLoader matchers;
    private static MemoryMailRepositoryStore repositories;

    @BeforeAll
    static void jamesLikeContainer() throws Exception {
        // given a server root with the jar in extensions-jars/ and a provisioned vault in conf/
        Path jar = Path.of(System.getProperty("authhmac.bundle.jar"));
        Files.createDirectories(root.resolve("extensions-jars"));
        Files.copy(jar, root.resolve("extensions-jars").resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        Path conf = Files.createDirectories(root.resolve("conf"));
        Path config = conf.resolve("auth-hmac.properties");
        Files.writeString(config, "vault.backend=pkcs12\npkcs12.file=keys.p12\npkcs12.password=test-only\n");
        provision(config);
        System.setProperty("authhmac.config", config.toString());
        // one server plays both sides: it signs for b.example and verifies mail from a.example, with keyset a-b
        Files.writeString(conf.resolve("auth-hmac-partners.properties"),
                "authservId=mx.b.example\npartner.a.example.keyset=a-b\npartner.b.example.keyset=a-b\n");
        PropertiesProvider properties = propertiesProvider(conf);

        repositories = new MemoryMailRepositoryStore(new MemoryMailRepositoryUrlStore(), (className, url) -> new MemoryMailRepository(),
                MailRepositoryStoreConfiguration.forItems(new MailRepositoryStoreConfiguration.Item(
                        List.of(new Protocol("memory")), MemoryMailRepository.class.getName(), new BaseHierarchicalConfiguration())));
        repositories.init();
        Injector james = Guice.createInjector(new AbstractModule() {
            @Override
            protected void configure() {
                bind(MetricFactory.class).toInstance(new RecordingMetricFactory());
                // the partners' health and the signing side's clock check publish gauges
                bind(org.apache.james.metrics.api.GaugeRegistry.class).toInstance(new org.apache.james.metrics.api.NoopGaugeRegistry());
                bind(PropertiesProvider.class).toInstance(properties);
                bind(MailRepositoryStore.class).toInstance(repositories);
                // a provider, so that Guice leaves the table's own James wiring (domain list, validators) alone
                RecipientRewriteTable aliases = new MemoryRecipientRewriteTable();
                bind(RecipientRewriteTable.class).toProvider((com.google.inject.Provider<RecipientRewriteTable>) () -> aliases);
            }
        });
        ExtendedClassLoader extensions = new ExtendedClassLoader(serverRoot(root));
        GuiceLoader loader = new GuiceGenericLoader(james, extensions,
                new ExtensionConfiguration(List.of(new ClassName("org.authhmac.vault.guice.AuthHmacVaultModule")), List.of()));
        mailets = new GuiceMailetLoader(loader, Set.of());
        matchers = new GuiceMatcherLoader(loader);
    }

    /** James's PropertiesProvider over {@code conf}, as the server builds it from its configuration folder. */
    private static PropertiesProvider propertiesProvider(Path conf) {
        FileSystem files = new FileSystem() {
            @Override
            public InputStream getResource(String url) throws IOException {
                return Files.newInputStream(getFile(url).toPath());
            }

            @Override
            public File getFile(String path) {
                return new File(path);
            }

            @Override
            public File getBasedir() {
                return conf.toFile();
            }
        };
        return new PropertiesProvider(files, new ConfigurationPath(conf.toAbsolutePath() + File.separator));
    }

    @Test
    void ourClassesAreNotOnTheTestClassPathSoTheyCanOnlyComeFromTheJar() {
        assertThatThrownBy(() -> Class.forName(SIGN)).isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void shipsNoClassThatTheJames390ClassPathHere() throws IOException {
        // the James 3.9.0 modules Central has (Guice 7, Bouncy Castle 1.81, mailet API, mail repositories, metrics...)
        List<String> duplicates = new java.util.ArrayList<>();
        try (var jar = new java.util.jar.JarFile(System.getProperty("authhmac.bundle.jar"))) {
            jar.stream().map(java.util.zip.ZipEntry::getName).filter(n -> n.endsWith(".class") && !n.startsWith("META-INF/"))
                    .filter(n -> getClass().getClassLoader().getResource(n) != null).forEach(duplicates::add);
        }
        assertThat(duplicates).isEmpty();
    }

    @Test
    void namesNoJavaxMailOrInjectPackageThatJames39NoLongerHas() throws IOException {
        List<String> offenders = new java.util.ArrayList<>();
        try (var jar = new java.util.jar.JarFile(System.getProperty("authhmac.bundle.jar"))) {
            for (var e : java.util.Collections.list(jar.entries())) {
                if (e.getName().endsWith(".class")) {
                    try (InputStream in = jar.getInputStream(e)) {
                        String bytes = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                        if (bytes.matches("(?s).*javax/(mail|inject|activation|annotation)/.*")) {
                            offenders.add(e.getName());
                        }
                    }
                }
            }
        }
        assertThat(offenders).isEmpty();
    }

    @Test
    void signsThenVerifiesPassOnJames390() throws Exception {
        // given the signing mailet and the validating matcher, created by James 3.9.0's loaders
        FakeMailContext context = FakeMailContext.defaultContext();
        Mailet sign = mailets.getMailet(FakeMailetConfig.builder().mailetName(SIGN).mailetContext(context)
                .setProperty("signingDomain", "a.example").build());
        Matcher verify = matchers.getMatcher(FakeMatcherConfig.builder().matcherName(VERIFY).mailetContext(context).build());
        assertThat(sign.getClass().getClassLoader()).as("loaded from extensions-jars/").isNotEqualTo(getClass().getClassLoader());

        // when alice's mail is signed, then verified
        Mail mail = mail("hello bob\r\n");
        sign.service(mail);
        assertThat(mail.getMessage().getHeader("X-Auth-HMAC")).singleElement().asString().contains("d=a.example").contains("s=k1");
        var failing = verify.match(mail);

        // then nobody fails, and the verdict is recorded for later mailets and for the reader
        assertThat(failing).isEmpty();
        assertThat(mail.getAttribute(org.apache.mailet.AttributeName.of("org.authhmac.result")))
                .hasValueSatisfying(a -> assertThat(a.getValue().value()).isEqualTo("pass"));
        assertThat(mail.getMessage().getHeader("Authentication-Results")).anySatisfy(h -> assertThat(h).contains("auth-hmac=pass"));
    }

    @Test
    void quarantinesAMailWhoseBodyChangedAfterSigning() throws Exception {
        // given a signed mail whose body is then altered
        FakeMailContext context = FakeMailContext.defaultContext();
        Mailet sign = mailets.getMailet(FakeMailetConfig.builder().mailetName(SIGN).mailetContext(context)
                .setProperty("signingDomain", "a.example").build());
        Mail signed = mail("Pay 100 EUR\r\n");
        sign.service(signed);
        String tampered = raw(signed.getMessage()).replace("Pay 100 EUR", "Pay 900 EUR");
        Mail received = FakeMail.builder().name("tampered").sender("alice@a.example").recipient("bob@b.example")
                .mimeMessage(new MimeMessage(null, new ByteArrayInputStream(tampered.getBytes(StandardCharsets.UTF_8)))).build();

        // when B's matcher and quarantine mailet, made by James 3.9.0's loaders, handle it
        Matcher verify = matchers.getMatcher(FakeMatcherConfig.builder().matcherName(VERIFY).mailetContext(context).build());
        Mailet quarantine = mailets.getMailet(FakeMailetConfig.builder().mailetName(QUARANTINE).mailetContext(context)
                .setProperty("repositoryPath", "memory://var/mail/auth-hmac-quarantine/").build());
        var failing = verify.match(received);
        quarantine.service(received);

        // then bob fails with body-changed, and the mail sits in the quarantine repository
        assertThat(failing).containsExactly(new MailAddress("bob@b.example"));
        assertThat(received.getAttribute(org.apache.mailet.AttributeName.of("org.authhmac.reason")))
                .hasValueSatisfying(a -> assertThat(a.getValue().value()).isEqualTo("body-changed"));
        assertThat(repositories.select(MailRepositoryUrl.from("memory://var/mail/auth-hmac-quarantine/")).size()).isEqualTo(1);
        assertThat(received.getState()).isEqualTo(Mail.GHOST);
    }

    private static Mail mail(String body) throws Exception {
        String text = "From: alice@a.example\r\nTo: bob@b.example\r\nSubject: hi\r\nDate: Sun, 22 Nov 2026 02:00:00 +0000\r\n"
                + "Message-ID: <" + System.nanoTime() + "@a.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" + body;
        // submitted by alice with SMTP AUTH: the signing mailet signs only its users' own mail
        return FakeMail.builder().name("m" + System.nanoTime()).sender("alice@a.example").recipient("bob@b.example")
                .attribute(new org.apache.mailet.Attribute(Mail.SMTP_AUTH_USER, org.apache.mailet.AttributeValue.of("alice@a.example")))
                .mimeMessage(new MimeMessage(null, new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)))).build();
    }

    private static String raw(MimeMessage message) throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        message.writeTo(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The key CLI, as an operator runs it: a primary for keyset a-b in this vault. */
    private static void provision(Path config) throws IOException, InterruptedException {
        Path cli = Path.of(System.getProperty("authhmac.cli.jar"));
        assertThat(cli).as("cli/target/auth-hmac-cli.jar (build cli first)").exists();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", cli.toString(),
                "-c", config.toString(), "keys", "generate", "--keyset", "a-b", "--key-id", "k1",
                "--export", config.resolveSibling("a-b-k1.secret").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    /** James's FileSystem for a server root: just what ExtendedClassLoader asks of it. */
    private static FileSystem serverRoot(Path root) {
        return new FileSystem() {
            @Override
            public InputStream getResource(String url) throws IOException {
                return Files.newInputStream(getFile(url).toPath());
            }

            @Override
            public File getFile(String fileURL) throws FileNotFoundException {
                if (!fileURL.startsWith(FILE_PROTOCOL)) {
                    throw new FileNotFoundException(fileURL);
                }
                return root.resolve(fileURL.substring(FILE_PROTOCOL.length())).toFile();
            }

            @Override
            public File getBasedir() {
                return root.toFile();
            }
        };
    }
}
