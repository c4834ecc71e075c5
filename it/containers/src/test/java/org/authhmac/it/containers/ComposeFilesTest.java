package org.authhmac.it.containers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The files in bundle/docker/ that stand in for james-conf/ files in the containers are those files with only the
 * container's edits: a change to james-conf/ that is not made to the copy fails here, not in a container.
 */
class ComposeFilesTest {
    private static final Path REPO = Path.of(System.getProperty("authhmac.it.repoRoot", "../..")).toAbsolutePath().normalize();
    private static final Path DOCKER = REPO.resolve("bundle/docker");

    @Test
    void sendingMailetContainerIsJamesConfsWithBAsGateway() throws IOException {
        String original = read("james-conf/sending/mailetcontainer.xml");
        String expected = withHeader(original, "sending")
                .replace("                <gateway>127.0.0.1:2525</gateway>\n",
                        "                <!-- compose: B on the compose network (its name is in extra_hosts of docker-compose.yml) -->\n"
                                + "                <gateway>james-b:25</gateway>\n");

        assertThat(expected).as("james-conf/sending still has the gateway line the copy replaces").isNotEqualTo(withHeader(original, "sending"));
        assertThat(Files.readString(DOCKER.resolve("mailetcontainer-a.xml"))).isEqualTo(expected);
    }

    @Test
    void receivingMailetContainerIsJamesConfsWithAAsGatewayAndThePublishedWebAdmin() throws IOException {
        String original = read("james-conf/receiving/mailetcontainer.xml");
        String expected = withHeader(original, "receiving")
                .replace("                <webAdminUrl>http://127.0.0.1:8000</webAdminUrl>\n",
                        "                <!-- compose: B's WebAdmin as docker-compose.yml publishes it on the host -->\n"
                                + "                <webAdminUrl>http://127.0.0.1:28000</webAdminUrl>\n")
                .replace("                <gateway>127.0.0.1:2525</gateway>\n",
                        "                <!-- compose: A on the compose network (its name is in extra_hosts of docker-compose.yml) -->\n"
                                + "                <gateway>james-a:25</gateway>\n");

        assertThat(expected).contains("<webAdminUrl>http://127.0.0.1:28000</webAdminUrl>", "<gateway>james-a:25</gateway>");
        assertThat(Files.readString(DOCKER.resolve("mailetcontainer-b.xml"))).isEqualTo(expected);
    }

    @Test
    void serverAndCliVaultFilesDifferFromJamesConfsOnlyInWhereTheTpmAndTheKeyFilesAre() throws IOException {
        for (String[] server : new String[][] {{"a", "sending", "2321"}, {"b", "receiving", "2331"}}) {
            Properties original = properties(REPO.resolve("james-conf/" + server[1] + "/auth-hmac.properties"));
            Properties inContainer = properties(DOCKER.resolve("auth-hmac-" + server[0] + ".properties"));
            Properties onHost = properties(DOCKER.resolve("cli-" + server[0] + ".properties"));

            assertThat(inContainer).as("auth-hmac-%s.properties", server[0]).isEqualTo(with(original,
                    "tpm.host", "tpm-" + server[0], "tpm.port", "2321",
                    "vault.keysetFile", "/keys/auth-hmac-keyset.properties", "vault.blobDir", "/keys/auth-hmac-keys"));
            // the same TPM (published on the host's loopback) and the same files (the folder mounted at /keys)
            assertThat(onHost).as("cli-%s.properties", server[0]).isEqualTo(with(original,
                    "tpm.host", "127.0.0.1", "tpm.port", server[2],
                    "vault.keysetFile", "keys-" + server[0] + "/auth-hmac-keyset.properties",
                    "vault.blobDir", "keys-" + server[0] + "/auth-hmac-keys"));
        }
    }

    @Test
    void composeFileMountsEveryFileOfEachRole() throws IOException {
        String compose = Files.readString(DOCKER.resolve("docker-compose.yml"));
        for (String[] server : new String[][] {{"a", "sending"}, {"b", "receiving"}}) {
            try (var files = Files.list(REPO.resolve("james-conf/" + server[1]))) {
                for (Path file : files.toList()) {
                    String name = file.getFileName().toString();
                    String mount = switch (name) {
                        case "mailetcontainer.xml" -> "./mailetcontainer-" + server[0] + ".xml:/root/conf/mailetcontainer.xml:ro";
                        case "auth-hmac.properties" -> "./auth-hmac-" + server[0] + ".properties:/root/conf/auth-hmac.properties:ro";
                        default -> "../../james-conf/" + server[1] + "/" + name + ":/root/conf/" + name + ":ro";
                    };
                    assertThat(compose).as("james-%s mounts %s", server[0], name).contains(mount);
                }
            }
        }
    }

    private static String withHeader(String mailetContainer, String role) {
        return mailetContainer.replaceFirst("^(<\\?xml[^>]*>\n)", "$1<!-- docker-compose.yml's copy of james-conf/" + role
                + "/mailetcontainer.xml: the same file but for the lines after each \"compose:\"\n"
                + "     comment (it/containers ComposeFilesTest holds the two to that). -->\n");
    }

    private static Properties with(Properties original, String... keyValues) {
        Properties p = new Properties();
        p.putAll(original);
        for (int i = 0; i < keyValues.length; i += 2) {
            assertThat(original).as("james-conf names %s", keyValues[i]).containsKey(keyValues[i]);
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    private static Properties properties(Path file) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(Files.readString(file)));
        return p;
    }

    private static String read(String path) throws IOException {
        return Files.readString(REPO.resolve(path));
    }
}
