package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes on one vault (James and the command line, or two command lines): every key either of them imported is
 * in the keyset afterwards and loads with the secret it was imported with. Real JVMs, because the danger is a
 * process that rewrites the keyset or the keystore from its own stale copy.
 */
class ConcurrentKeysetWritesTest {
    static final int KEYS_PER_PROCESS = 25;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void twoProcessesImportingKeysInALoopLoseNone() throws Exception {
        // given a PKCS#12 vault, and two processes that each opened it before the other wrote anything
        Path config = dir.resolve("auth-hmac.properties");
        Files.writeString(config, "vault.backend=pkcs12\npkcs12.file=keys.p12\npkcs12.password=test-password\n");
        Path go = dir.resolve("go");
        CountDownLatch ready = new CountDownLatch(2);
        List<String> lines = new CopyOnWriteArrayList<>();
        List<Process> processes = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        for (String prefix : List.of("a", "b")) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), ImportLoop.class.getName(),
                    config.toString(), prefix, Integer.toString(KEYS_PER_PROCESS), go.toString())
                    .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve(prefix + ".err").toFile()))
                    .start();
            processes.add(p);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = r.readLine(); line != null; line = r.readLine()) {
                        if (line.equals("ready")) {
                            ready.countDown();
                        }
                        lines.add(line);
                    }
                } catch (java.io.IOException e) {
                    lines.add("reader failed " + e);
                }
            });
            reader.start();
            readers.add(reader);
        }
        assertThat(ready.await(2, TimeUnit.MINUTES)).as("both processes opened the vault").isTrue();

        // when both import at the same time
        Files.createFile(go);
        for (Process p : processes) {
            assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(dir.resolve("a.err")) + Files.readString(dir.resolve("b.err"))).isZero();
        }
        for (Thread reader : readers) {
            reader.join();
        }

        // then every key each one reported is in the keyset and derives what it derived there
        Map<String, String> reported = new LinkedHashMap<>();
        for (String line : lines) {
            if (line.startsWith("imported ")) {
                String[] parts = line.split(" ");
                reported.put(parts[1], parts[2]);
            }
        }
        assertThat(lines).filteredOn(l -> l.startsWith("failed")).isEmpty();
        assertThat(reported).hasSize(2 * KEYS_PER_PROCESS);
        try (ManagedKeyVault fresh = KeyVaults.openManaged(config)) {
            assertThat(fresh.keys()).extracting(KeyInfo::keyId).containsAll(reported.keySet());
            for (Map.Entry<String, String> key : reported.entrySet()) {
                assertThat(ImportLoop.digest(fresh, key.getKey())).as(key.getKey()).isEqualTo(key.getValue());
            }
        }
    }
}
