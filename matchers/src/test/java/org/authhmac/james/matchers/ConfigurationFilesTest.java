package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.KeyVaultHealthCheck;
import org.authhmac.james.NeededKeysets;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicy;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.SelfRelease;
import org.authhmac.james.mailets.AuthHmacHold;
import org.authhmac.james.mailets.AuthHmacQuarantine;
import org.authhmac.james.mailets.AuthHmacRelease;
import org.authhmac.james.mailets.SignForMailbox;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Repositories;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** The shipped james-conf files start: every auth-hmac mailet and matcher in them accepts its parameters. */
class ConfigurationFilesTest {
    static final Path CONF = locate("james-conf");

    /** The repository's james-conf/, found upwards from the working directory (module or check directory). */
    static Path locate(String name) {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve(name))) {
                return p.resolve(name);
            }
        }
        throw new IllegalStateException(name + " not found above " + Path.of("").toAbsolutePath());
    }

    InMemoryKeyVault vault = new InMemoryKeyVault()
            .add("ka1", "a-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("a"))
            .add("kc1", "c-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("c"));

    @TempDir
    Path dir;

    /** A managed vault (PKCS#12), as AuthHmacRelease needs: its release tokens draw their own key in it. */
    DefaultKeyVault managedVault() {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        return KeyVaults.open(p, dir, java.time.Clock.systemUTC(), false);
    }

    /** The role's auth-hmac-partners.properties, read as James reads it from its conf/ folder. */
    static PartnerPolicyFile partnerFile(String role) {
        return new PartnerPolicyFile(TestPartners.provider(CONF.resolve(role)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sending", "receiving"})
    void everyAuthHmacMailetAndMatcherInMailetcontainerInitialises(String role) throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(CONF.resolve(role).resolve("mailetcontainer.xml").toFile());
        PartnerPolicyFile partners = partnerFile(role);
        NodeList mailets = doc.getElementsByTagName("mailet");
        List<String> initialised = new ArrayList<>();
        for (int i = 0; i < mailets.getLength(); i++) {
            Element mailet = (Element) mailets.item(i);
            String cls = mailet.getAttribute("class");
            String match = mailet.getAttribute("match");
            if (match.startsWith("org.authhmac.james.matchers.AuthHmacFailed")) {
                AuthHmacFailed matcher = new AuthHmacFailed(vault, new SharedReplayCache(partners), new RecordingMetricFactory(), partners, new NeededKeysets());
                // a condition, were one left, would stop the start-up
                matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed")
                        .condition(match.contains("=") ? match.substring(match.indexOf('=') + 1) : null)
                        .mailetContext(FakeMailContext.defaultContext()).build());
                initialised.add("AuthHmacFailed");
                assertThat(parameters(mailet).getProperty("onMatchException")).isEqualTo("auth-hmac-verify-retry");
                assertThat(processorExists(doc, "auth-hmac-verify-retry")).isTrue();
            }
            if (cls.equals(SignWithAuthHmac.class.getName())) {
                new SignWithAuthHmac(vault, new RecordingMetricFactory(), partners, new NeededKeysets()).init(config(mailet));
                initialised.add("SignWithAuthHmac");
                assertThat(processorExists(doc, parameters(mailet).getProperty("onMailetException"))).isTrue();
                assertThat(processorExists(doc, parameters(mailet).getProperty("refusedProcessor", "error"))).isTrue();
            }
            if (cls.equals(SignForMailbox.class.getName())) {
                new SignForMailbox(vault, new RecordingMetricFactory()).init(config(mailet));
                initialised.add("SignForMailbox");
                assertThat(processorExists(doc, parameters(mailet).getProperty("onMailetException"))).isTrue();
            }
            if (cls.equals(AuthHmacQuarantine.class.getName())) {
                // the recipient rewrite table is consulted per notice, never at start-up
                try (DefaultKeyVault managed = managedVault()) {
                    new AuthHmacQuarantine(Repositories.memoryStore("memory", "file"), new RecordingMetricFactory(), null, managed)
                            .init(config(mailet));
                }
                initialised.add("AuthHmacQuarantine");
            }
            if (cls.equals(AuthHmacRelease.class.getName())) {
                try (DefaultKeyVault managed = managedVault()) {
                    // like the quarantine, it asks the recipient rewrite table per request, never at start-up
                    new AuthHmacRelease(Repositories.memoryStore("memory", "file"), new RecordingMetricFactory(), partners, null, managed)
                            .init(config(mailet));
                }
                RecipientIsReleaseAddress releaseAddresses = new RecipientIsReleaseAddress();
                releaseAddresses.init(FakeMatcherConfig.builder().matcherName("RecipientIsReleaseAddress")
                        .mailetContext(FakeMailContext.defaultContext()).build());
                assertThat(match).as("AuthHmacRelease's matcher").isEqualTo(RecipientIsReleaseAddress.class.getName());
                initialised.add("AuthHmacRelease");
            }
            if (cls.equals(AuthHmacHold.class.getName())) {
                new AuthHmacHold(Repositories.memoryStore("memory", "file"), new RecordingMetricFactory()).init(config(mailet));
                initialised.add("AuthHmacHold");
            }
            if (cls.startsWith("org.authhmac.")) {
                String onException = parameters(mailet).getProperty("onMailetException");
                assertThat(onException).as(cls + " names its onMailetException").isNotBlank();
                assertThat(onException.equals("propagate") || processorExists(doc, onException))
                        .as(cls + ": onMailetException " + onException + " is propagate or a processor").isTrue();
            }
        }
        assertThat(initialised).isNotEmpty();
        if (role.equals("sending")) {
            assertThat(initialised).contains("SignWithAuthHmac", "AuthHmacHold");
        } else {
            assertThat(initialised).contains("AuthHmacFailed", "AuthHmacQuarantine", "SignForMailbox", "AuthHmacHold", "AuthHmacRelease");
        }
    }

    @Test
    void theTwoServersAgreeOnTheKeysetAndPeriodOfTheirRelationship() throws Exception {
        PartnerPolicies sending = partnerFile("sending").policies();
        PartnerPolicies receiving = partnerFile("receiving").policies();

        // a.example sends to b.example, which verifies a.example's mail with the same keyset name and period length
        PartnerPolicy toB = sending.partners().get("b.example");
        PartnerPolicy fromA = receiving.partners().get("a.example");
        assertThat(toB).isNotNull();
        assertThat(fromA).isNotNull();
        assertThat(fromA.keyset()).isEqualTo(toB.keyset());
        assertThat(fromA.periodSeconds()).isEqualTo(toB.periodSeconds());
        assertThat(receiving.authservId()).contains("mx.b.example");
    }

    @Test
    void releaseByReplyReadsTheQuarantineWhoseNoticesOfferItAndAllowsEveryReasonTheyOfferItFor() throws Exception {
        Document doc = document("receiving");
        Element quarantine = null;
        Element release = null;
        for (Element mailet : elements(doc.getDocumentElement(), "mailet")) {
            if (mailet.getAttribute("class").equals(AuthHmacQuarantine.class.getName())) {
                quarantine = mailet;
            }
            if (mailet.getAttribute("class").equals(AuthHmacRelease.class.getName())) {
                release = mailet;
            }
        }
        assertThat(quarantine).isNotNull();
        assertThat(release).isNotNull();
        Properties held = parameters(quarantine);
        Properties requests = parameters(release);

        assertThat(requests.getProperty("repositoryPath")).isEqualTo(held.getProperty("repositoryPath"));
        assertThat(SelfRelease.reasons("selfRelease", requests.getProperty("selfRelease")))
                .containsAll(SelfRelease.reasons("selfRelease", held.getProperty("selfRelease")));
        assertThat(processorExists(doc, requests.getProperty("releaseProcessor"))).isTrue();
        assertThat(processorExists(doc, requests.getProperty("replyProcessor"))).isTrue();
        // first in root: a release address is a request, never a recipient for transport or a relay
        Element root = elements(doc.getDocumentElement(), "processor").stream()
                .filter(p -> p.getAttribute("state").equals("root")).findFirst().orElseThrow();
        List<Element> rootMailets = elements(root, "mailet");
        assertThat(rootMailets.indexOf(release)).as("AuthHmacRelease's place in root")
                .isLessThan(rootMailets.stream().map(m -> m.getAttribute("class")).toList().indexOf("ToProcessor"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sending", "receiving"})
    void everyRetryProcessorGivesUpAfterABoundAndHoldsTheMail(String role) throws Exception {
        Document doc = document(role);
        List<String> retryProcessors = new ArrayList<>();
        for (Element processor : elements(doc.getDocumentElement(), "processor")) {
            List<Element> mailets = elements(processor, "mailet");
            for (int i = 0; i < mailets.size(); i++) {
                if (mailets.get(i).getAttribute("class").equals("Requeue")) {
                    retryProcessors.add(processor.getAttribute("state"));
                    assertThat(mailets.get(i).getAttribute("match")).as(processor.getAttribute("state") + ": Requeue is bounded")
                            .matches("AtMost=org\\.authhmac\\.attempts\\.[a-z]+:[1-9][0-9]*");
                    assertThat(mailets).as("after the bound").hasSizeGreaterThan(i + 1);
                    assertThat(parameters(mailets.get(i + 1)).getProperty("processor")).isEqualTo("auth-hmac-hold");
                }
            }
        }
        assertThat(retryProcessors).isNotEmpty();
        assertThat(processorExists(doc, "auth-hmac-hold")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sending", "receiving"})
    void noProcessorBouncesToASenderWhoDidNotAuthenticate(String role) throws Exception {
        Document doc = document(role);
        // every processor one of our mailets or matchers can send a mail to, and the error processor
        List<String> reachable = new ArrayList<>(List.of("error"));
        for (Element mailet : elements(doc.getDocumentElement(), "mailet")) {
            if (mailet.getAttribute("class").startsWith("org.authhmac.") || mailet.getAttribute("match").startsWith("org.authhmac.")) {
                Properties p = parameters(mailet);
                for (String key : List.of("onMailetException", "onMatchException", "errorProcessor", "noticeProcessor", "replyProcessor")) {
                    if (p.getProperty(key) != null && processorExists(doc, p.getProperty(key))) {
                        reachable.add(p.getProperty(key));
                    }
                }
            }
        }
        for (Element processor : elements(doc.getDocumentElement(), "processor")) {
            if (reachable.contains(processor.getAttribute("state"))) {
                for (Element mailet : elements(processor, "mailet")) {
                    if (List.of("Bounce", "DSNBounce", "NotifySender").contains(mailet.getAttribute("class"))) {
                        assertThat(mailet.getAttribute("match")).as(processor.getAttribute("state") + ": " + mailet.getAttribute("class"))
                                .isEqualTo("SMTPAuthSuccessful");
                    }
                }
            }
        }
        assertThat(reachable).contains("auth-hmac-hold");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sending", "receiving"})
    void heldMailIsOnDisk(String role) throws Exception {
        Document doc = document(role);
        for (Element mailet : elements(doc.getDocumentElement(), "mailet")) {
            String repository = parameters(mailet).getProperty("repositoryPath");
            if (mailet.getAttribute("class").startsWith("org.authhmac.") && repository != null) {
                assertThat(repository).as(mailet.getAttribute("class")).startsWith("file://");
            }
        }
        assertThat(Files.readString(CONF.resolve(role).resolve("mailrepositorystore.xml")))
                .contains("org.apache.james.mailrepository.file.FileMailRepository", "<protocol>file</protocol>");
    }

    static Document document(String role) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(CONF.resolve(role).resolve("mailetcontainer.xml").toFile());
    }

    static List<Element> elements(Element parent, String tag) {
        List<Element> out = new ArrayList<>();
        NodeList nodes = parent.getElementsByTagName(tag);
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add((Element) nodes.item(i));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sending", "receiving"})
    void extensionsAndHealthCheckNameExistingClasses(String role) throws Exception {
        Properties ext = load(CONF.resolve(role).resolve("extensions.properties"));
        Properties health = load(CONF.resolve(role).resolve("healthcheck.properties"));

        assertThat(Class.forName(ext.getProperty("guice.extension.module"))).isNotNull();
        List<Class<?>> checks = new ArrayList<>();
        for (String name : health.getProperty("additional.healthchecks").split(",")) {
            checks.add(Class.forName(name.strip()));
        }
        // both check the vault; the receiving server also its replay cache (Redis when shared)
        assertThat(checks).containsExactlyElementsOf(role.equals("receiving")
                ? List.of(KeyVaultHealthCheck.class, ReplayCacheHealthCheck.class, org.authhmac.james.PartnerHealthCheck.class)
                : List.of(KeyVaultHealthCheck.class));
        assertThat(Files.readString(CONF.resolve(role).resolve("dnsservice.xml"))).contains("<autodiscover>false</autodiscover>");
    }

    static FakeMailetConfig config(Element mailet) {
        FakeMailetConfig.Builder b = FakeMailetConfig.builder().mailetName(mailet.getAttribute("class"))
                .mailetContext(FakeMailContext.defaultContext());
        parameters(mailet).forEach((k, v) -> b.setProperty((String) k, (String) v));
        return b.build();
    }

    static Properties parameters(Element mailet) {
        Properties p = new Properties();
        for (Node n = mailet.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) {
                p.setProperty(e.getTagName(), e.getTextContent().trim());
            }
        }
        return p;
    }

    static boolean processorExists(Document doc, String state) {
        NodeList processors = doc.getElementsByTagName("processor");
        for (int i = 0; i < processors.getLength(); i++) {
            if (((Element) processors.item(i)).getAttribute("state").equals(state)) {
                return true;
            }
        }
        return false;
    }

    static Properties load(Path file) throws Exception {
        Properties p = new Properties();
        try (InputStream in = new FileInputStream(file.toFile())) {
            p.load(in);
        }
        return p;
    }
}
