package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.SecretsLedger;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Secrets left behind: after the whole e2e suite, every file any James server of the suite wrote (logs, conf, vault
 * files, mail repositories, mailboxes on disk) is searched for every key secret the suite met outside a vault
 * ({@link SecretsLedger}: the keys the CLI exported, the mailbox keys the WebAdmin route issued) and for every
 * period key those derive over the suite's run, raw and in hex (both cases), base64 and base64url.
 *
 * <p>Runs last: src/test/resources/junit-platform.properties orders test classes by {@link Order}, and classes
 * without one come before {@code Integer.MAX_VALUE}. Run alone, the ledger is empty and the test fails on purpose:
 * it only means something after the other tests.
 */
@Order(Integer.MAX_VALUE)
class SecretsLeftBehindIT {
    /** The signing domains the suite's servers use (d=): a.example signs server to server, b.example for mailboxes. */
    static final List<String> DOMAINS = List.of(AuthHmacPair.A_DOMAIN, AuthHmacPair.B_DOMAIN);
    /** The period lengths the suite configures: the default, and the protocol's minimum (fault tests). */
    static final List<Integer> PERIOD_SECONDS = List.of(900, 60);
    private static final int MARGIN_PERIODS = 2;

    /** The primaries and every period key they derive, from each one's first sighting (minus a margin) to now plus a margin. */
    static List<KeyNeedles.Key> secrets(Instant now) {
        List<KeyNeedles.Key> out = new ArrayList<>();
        for (SecretsLedger.Primary p : SecretsLedger.primaries()) {
            out.add(new KeyNeedles.Key(p.label() + " primary " + p.keyId(), p.secret()));
            for (int seconds : PERIOD_SECONDS) {
                long first = KdfContext.periodOf(p.firstSeen().getEpochSecond(), seconds) - MARGIN_PERIODS;
                long last = KdfContext.periodOf(now.getEpochSecond(), seconds) + MARGIN_PERIODS;
                for (String domain : DOMAINS) {
                    for (long period = first; period <= last; period++) {
                        out.add(new KeyNeedles.Key(p.label() + " " + p.keyId() + "/" + domain + "/p=" + seconds + "/" + period,
                                Kdf.derive(p.secret(), new KdfContext(p.keyId(), domain, seconds, period))));
                    }
                }
            }
        }
        return out;
    }

    @Test
    void noFileAnyJamesServerOfTheSuiteWroteContainsAPrimaryOrAPeriodKey() throws IOException {
        Path workRoot = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work")).toAbsolutePath();
        List<KeyNeedles.Key> secrets = secrets(Instant.now());
        assertThat(SecretsLedger.primaries()).as("key secrets met by the suite (run this test after the others, not alone)")
                .isNotEmpty();
        KeyNeedles needles = new KeyNeedles(secrets);

        // the search finds what it looks for, in any of the forms, inside other bytes
        KeyNeedles.Key probe = secrets.get(secrets.size() - 1);
        for (String form : KeyNeedles.forms(probe.bytes())) {
            byte[] planted = ("log line " + form + " end").getBytes(StandardCharsets.ISO_8859_1);
            assertThat(needles.find(planted)).as("the search finds a planted key").contains(probe.label());
        }

        List<Path> serverFiles;
        List<Path> tpmFiles;
        try (Stream<Path> walk = Files.walk(workRoot)) {
            List<Path> all = walk.filter(Files::isRegularFile).toList();
            serverFiles = all.stream().filter(f -> under(workRoot, f, "james-")).toList();
            tpmFiles = all.stream().filter(f -> under(workRoot, f, "tpm")).toList();
        }
        KeyNeedles.Search search = needles.search(serverFiles, f -> workRoot.relativize(f).toString());
        List<String> hits = search.hits();
        long bytes = search.bytes();
        long servers;
        try (Stream<Path> walk = Files.walk(workRoot, 3)) {
            servers = walk.filter(d -> Files.isDirectory(d.resolve("conf")) && d.getFileName().toString().startsWith("james-")).count();
        }
        // swtpm's state files are the TPM's inside, not files James wrote: reported, not asserted (a software TPM
        // without state encryption may keep a loaded key in clear, which a hardware TPM keeps on the chip)
        long tpmHits = 0;
        for (Path f : tpmFiles) {
            tpmHits += needles.find(Files.readAllBytes(f)).size();
        }
        System.out.printf("secrets: %d James servers, %d files, %,d bytes searched for %d forms of %d keys (%d primaries "
                        + "and their period keys): %d hits; swtpm state: %d files, %d hits (reported only)%n",
                servers, serverFiles.size(), bytes, needles.count(), secrets.size(), SecretsLedger.primaries().size(),
                hits.size(), tpmFiles.size(), tpmHits);

        assertThat(serverFiles).as("the servers' logs are among the files").anyMatch(f -> f.toString().endsWith(".log"));
        assertThat(hits).isEmpty();
    }

    private static boolean under(Path root, Path file, String dirPrefix) {
        Path rel = root.relativize(file);
        for (int i = 0; i < rel.getNameCount() - 1; i++) {
            if (rel.getName(i).toString().startsWith(dirPrefix)) {
                return true;
            }
        }
        return false;
    }
}
