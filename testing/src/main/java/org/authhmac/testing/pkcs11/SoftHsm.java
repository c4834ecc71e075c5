package org.authhmac.testing.pkcs11;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A new, empty SoftHSM2 token in the directory SOFTHSM2_CONF names, and the vault properties for it. */
public final class SoftHsm {
    public static final String LIBRARY = "/usr/lib/softhsm/libsofthsm2.so";
    private static final String PIN = "1234";

    private SoftHsm() {
    }

    public static boolean available() {
        return System.getenv("SOFTHSM2_CONF") != null && Files.isRegularFile(Path.of(LIBRARY));
    }

    /** Must run before this JVM loads the PKCS#11 library: it reads the configuration once. */
    public static Properties freshToken() throws IOException, InterruptedException {
        if (!available()) {
            throw new IllegalStateException("SoftHSM2 (" + LIBRARY + ") or SOFTHSM2_CONF missing: run through bench/run or Maven");
        }
        Path conf = Path.of(System.getenv("SOFTHSM2_CONF"));
        Path tokens = conf.resolveSibling("tokens");
        if (Files.exists(tokens)) {
            try (Stream<Path> s = Files.walk(tokens)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        Files.createDirectories(tokens);
        Files.writeString(conf, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n");
        Process p = new ProcessBuilder(List.of("softhsm2-util", "--init-token", "--free", "--label", "authhmac-bench",
                "--pin", PIN, "--so-pin", "5678")).redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("softhsm2-util --init-token failed: " + new String(p.getInputStream().readAllBytes()));
        }
        Properties props = new Properties();
        props.setProperty("vault.backend", "pkcs11");
        props.setProperty("pkcs11.library", LIBRARY);
        props.setProperty("pkcs11.slotListIndex", "0");
        props.setProperty("pkcs11.pin", PIN);
        return props;
    }
}
