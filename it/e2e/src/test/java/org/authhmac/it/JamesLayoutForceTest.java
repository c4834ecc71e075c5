package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/james-layout --force over a conf/ that holds the key vault: the backup keeps the files the layout replaced,
 * never the vault's, which stay in conf/. Runs the script in a copy of the checkout's layout with stand-in jars.
 */
class JamesLayoutForceTest {
    static final Path CHECKOUT = Path.of("../..").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    @Test
    void theBackupOfForceHoldsTheReplacedFilesAndNoneOfTheKeyVaults() throws Exception {
        Path src = standInCheckout();
        Path root = tmp.resolve("james-a");
        assertThat(layout(src, "sending", root.toString())).isZero();
        Path conf = root.resolve("conf");
        Files.writeString(conf.resolve("auth-hmac-keyset.properties"), "key.k1.status=ACTIVE\n");
        Files.createDirectories(conf.resolve("auth-hmac-keys"));
        Files.writeString(conf.resolve("auth-hmac-keys/k1.blob"), "blob");
        Files.writeString(conf.resolve("auth-hmac-keys.p12"), "keystore");
        Files.writeString(conf.resolve("mailetcontainer.xml"), "<edited/>");

        assertThat(layout(src, "--force", "sending", root.toString())).isZero();

        List<Path> backups;
        try (Stream<Path> s = Files.list(root)) {
            backups = s.filter(p -> p.getFileName().toString().startsWith("conf.bak-")).toList();
        }
        assertThat(backups).hasSize(1);
        Path backup = backups.get(0);
        assertThat(Files.readString(backup.resolve("mailetcontainer.xml"))).isEqualTo("<edited/>");
        assertThat(backup.resolve("auth-hmac-keyset.properties")).doesNotExist();
        assertThat(backup.resolve("auth-hmac-keys")).doesNotExist();
        assertThat(backup.resolve("auth-hmac-keys.p12")).doesNotExist();
        assertThat(conf.resolve("auth-hmac-keyset.properties")).exists();
        assertThat(conf.resolve("auth-hmac-keys/k1.blob")).exists();
        assertThat(Files.readString(conf.resolve("mailetcontainer.xml"))).isNotEqualTo("<edited/>");
    }

    /** scripts/james-layout and james-conf/ of the checkout, an empty javax jar, a James lib/ of one empty jar. */
    Path standInCheckout() throws IOException {
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("scripts"));
        Files.copy(CHECKOUT.resolve("scripts/james-layout"), src.resolve("scripts/james-layout"));
        Files.writeString(src.resolve("scripts/find-jdk"), "#!/bin/sh\necho /usr\n");
        src.resolve("scripts/find-jdk").toFile().setExecutable(true);
        copyTree(CHECKOUT.resolve("james-conf"), src.resolve("james-conf"));
        Files.createDirectories(src.resolve("bundle/target"));
        Files.write(src.resolve("bundle/target/auth-hmac-bundle-0-javax.jar"), new byte[0]);
        Files.createDirectories(src.resolve("it/james-runtime/target/james-lib"));
        Files.write(src.resolve("it/james-runtime/target/james-lib/james-server-memory-app-3.8.1.jar"), new byte[0]);
        return src;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    int layout(Path src, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", src.resolve("scripts/james-layout").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("layout.log").toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        if (p.exitValue() != 0) {
            System.out.println(Files.readString(tmp.resolve("layout.log")));
        }
        return p.exitValue();
    }
}
