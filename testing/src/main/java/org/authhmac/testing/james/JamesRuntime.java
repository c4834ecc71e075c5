package org.authhmac.testing.james;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the pieces of an e2e run are on disk: the James 3.8.1 class path resolved by the it/james-runtime module,
 * the JDK that runs James, our drop-in jar and the key CLI. Each can be overridden by a system property, so the
 * harness runs the same from Maven, from an IDE and from scripts/demo.
 */
public record JamesRuntime(Path libDir, Path javaHome) {
    static final List<String> BASE_CONF_FILES = List.of(
            "dnsservice.xml", "domainlist.xml", "imapserver.xml", "jmap.properties", "jmx.properties", "jvm.properties",
            "lmtpserver.xml", "logback.xml", "mailetcontainer.xml", "mailrepositorystore.xml", "managesieveserver.xml",
            "pop3server.xml", "recipientrewritetable.xml", "smtpserver.xml", "usersrepository.xml", "webadmin.properties");
    private static Path baseConf;

    public JamesRuntime {
        if (!Files.isDirectory(libDir) || !Files.exists(libDir.resolve("james-server-memory-app-3.8.1.jar"))) {
            throw new IllegalStateException("No James 3.8.1 class path at " + libDir
                    + ": build it with scripts/mvn -B -pl it,it/james-runtime install (or set -Dauthhmac.it.jamesLib)");
        }
    }

    public static JamesRuntime fromSystemProperties() {
        Path lib = Path.of(System.getProperty("authhmac.it.jamesLib", locate("it/james-runtime/target/james-lib").toString()));
        Path java = Path.of(System.getProperty("authhmac.it.javaHome", System.getProperty("java.home")));
        return new JamesRuntime(lib.toAbsolutePath().normalize(), java);
    }

    public Path javaExecutable() {
        return javaHome.resolve("bin").resolve("java");
    }

    /** The James 3.8 (javax) drop-in jar made by bundle/. */
    public static Path javaxBundleJar() {
        return existing("authhmac.it.bundleJar", "it/e2e/target/e2e-deps/auth-hmac-bundle-javax.jar");
    }

    /** The key-management CLI (an executable jar made by cli/). */
    public static Path cliJar() {
        return existing("authhmac.it.cliJar", "cli/target/auth-hmac-cli.jar");
    }

    /** The harness's loopback base configuration, unpacked once per JVM into a temporary folder. */
    public static synchronized Path baseConf() {
        if (baseConf != null) {
            return baseConf;
        }
        try {
            Path dir = Files.createTempDirectory("james-base-conf-");
            for (String file : BASE_CONF_FILES) {
                try (InputStream in = JamesRuntime.class.getResourceAsStream("base-conf/" + file)) {
                    if (in == null) {
                        throw new IllegalStateException("missing resource base-conf/" + file);
                    }
                    Files.copy(in, dir.resolve(file));
                }
            }
            dir.toFile().deleteOnExit();
            baseConf = dir;
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path existing(String property, String relative) {
        String configured = System.getProperty(property);
        Path path = configured != null ? Path.of(configured) : locate(relative);
        if (!Files.exists(path)) {
            throw new IllegalStateException("missing " + path + " (set -D" + property + " or build it with scripts/mvn)");
        }
        return path.toAbsolutePath().normalize();
    }

    /** A path relative to the repository root, found from the working directory (repo root, it/ or it/e2e/). */
    public static Path locate(String relative) {
        return repositoryRoot().map(root -> root.resolve(relative)).orElse(Path.of(relative).toAbsolutePath());
    }

    /** The same, for tests: a working directory outside the repository is an error. */
    public static Path repoPath(String relative) {
        return repositoryRoot().map(root -> root.resolve(relative)).orElseThrow(() ->
                new IllegalStateException("repository root not found above " + Path.of("").toAbsolutePath()));
    }

    private static java.util.Optional<Path> repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (int up = 0; up < 4 && dir != null; up++, dir = dir.getParent()) {
            if (Files.exists(dir.resolve("it/james-runtime/pom.xml"))) {
                return java.util.Optional.of(dir);
            }
        }
        return java.util.Optional.empty();
    }
}
