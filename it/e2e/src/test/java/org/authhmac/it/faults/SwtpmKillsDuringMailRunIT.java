package org.authhmac.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.SmtpSender;
import org.authhmac.testing.tpm.SwtpmProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Faults: while alice streams mail to bob, the signing side's swtpm (A) and the verifying side's (B) are each
 * SIGKILLed three times at random moments, on schedules of their own in the same run, and restarted each time. The
 * vault caches period keys, so a dead TPM only matters when a derivation is due: this pair signs with p=60 (the
 * protocol's minimum) and no prefetch on either side, and one outage of each side is placed across a period boundary,
 * so at least one outage on each side meets a derivation (asserted from that side's log: A's signing mailet reports
 * "key vault unavailable", B's matcher a temperror); the other two land wherever the random draw puts them. A's outages
 * delay signing, B's delay verification (the mail waits in auth-hmac-verify-retry): neither may send unsigned mail nor
 * quarantine good mail. Mails per run: -Dauthhmac.faults.mails (default 300; the figure in docs/RELIABILITY.md is 2000).
 */
class SwtpmKillsDuringMailRunIT {
    static final String QUARANTINE = "file://var/mail/auth-hmac-quarantine/";
    static final int PERIOD_SECONDS = 60;
    private static AuthHmacPair pair;

    @BeforeAll
    static void startPair() throws IOException {
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "swtpm-kills");
        Path bundle = JamesRuntime.javaxBundleJar();
        Path sending = JamesRuntime.repoPath("james-conf/sending");
        Path receiving = JamesRuntime.repoPath("james-conf/receiving");
        // no prefetch: the next period's key is derived when the first mail needs it, so a TPM outage at that moment shows
        Map<String, String> noPrefetch = Map.of("cache.prefetchSeconds", "0");
        // james-conf as shipped, with both sides' period for the partner shortened to the protocol's minimum
        String period = String.valueOf(PERIOD_SECONDS);
        pair = AuthHmacPair.start(root, new AuthHmacPair.Layout(sending, receiving), AuthHmacPair.VaultKind.TPM,
                a -> a.extensionJar(bundle).properties("auth-hmac.properties", noPrefetch)
                        .properties("auth-hmac-partners.properties", Map.of("partner.b.example.periodSeconds", period)),
                b -> b.extensionJar(bundle).properties("auth-hmac.properties", noPrefetch)
                        .properties("auth-hmac-partners.properties", Map.of("partner.a.example.periodSeconds", period)),
                port -> port);
    }

    @AfterAll
    static void stopPair() {
        if (pair != null) {
            pair.close();
        }
    }

    /** Milliseconds from the run's start; the outage across the period boundary lasts until it has met a derivation. */
    record Outage(long startMillis, long endMillis, boolean acrossBoundary) {
        boolean overlaps(Outage o, long marginMillis) {
            return startMillis < o.endMillis + marginMillis && o.startMillis < endMillis + marginMillis;
        }
    }

    /** Three outages inside the run; the first one spans the next period boundary, the other two are random. */
    static List<Outage> drawOutages(Random random, long runStartEpochMillis, long runMillis) {
        long periodMillis = PERIOD_SECONDS * 1000L;
        long boundary = (runStartEpochMillis / periodMillis + 1) * periodMillis - runStartEpochMillis;
        List<Outage> outages = new ArrayList<>();
        outages.add(new Outage(Math.max(500, boundary - 1000 - random.nextInt(2000)), boundary + 3000 + random.nextInt(3000), true));
        while (outages.size() < 3) {
            long start = 500 + (long) random.nextInt((int) (runMillis - 6000));
            Outage candidate = new Outage(start, start + 2000 + random.nextInt(3000), false);
            if (outages.stream().noneMatch(o -> o.overlaps(candidate, 2000))) {
                outages.add(candidate);
            }
        }
        outages.sort((x, y) -> Long.compare(x.startMillis, y.startMillis));
        return outages;
    }

    /** Whose TPM is killed, and the log line that shows an outage met a derivation on that side. */
    enum Side {
        SIGNING_A("key vault unavailable"), VERIFYING_B("auth-hmac: temperror for mail");

        final String outageLogLine;

        Side(String outageLogLine) {
            this.outageLogLine = outageLogLine;
        }

        SwtpmProcess tpm(AuthHmacPair pair) {
            return this == SIGNING_A ? pair.tpmA() : pair.tpmB();
        }

        JamesServerProcess server(AuthHmacPair pair) {
            return this == SIGNING_A ? pair.a() : pair.b();
        }
    }

    @Test
    void threeSwtpmKillsOnEachSideDuringAMailRunLoseNothingSendNothingUnsignedAndQuarantineNothing() throws Exception {
        int mails = Integer.getInteger("authhmac.faults.mails", 300);
        long seed = Long.getLong("authhmac.faults.seed", System.nanoTime());
        // the run lasts at least one period plus a margin, so that the boundary outages fall inside it
        long runMillis = Math.max(PERIOD_SECONDS * 1000L + 10_000, mails * 25L);
        long pauseMillis = runMillis / mails;
        String run = UUID.randomUUID().toString().substring(0, 8);
        long quarantinedBefore = pair.b().webAdmin().repositorySize(QUARANTINE);
        long runStart = System.currentTimeMillis();
        Random random = new Random(seed);
        Map<Side, List<Outage>> outages = new EnumMap<>(Side.class);
        Map<Side, Long> outageLinesBefore = new EnumMap<>(Side.class);
        for (Side side : Side.values()) {
            outages.put(side, drawOutages(random, runStart, runMillis));
            outageLinesBefore.put(side, outageLines(side));
        }
        System.out.printf("swtpm kills: seed %d, %d mails over %d ms, outages (ms from start) %s%n", seed, mails, runMillis, outages);

        // given a steady stream of mail from alice to bob
        List<String> sent = Collections.synchronizedList(new ArrayList<>());
        Thread sender = Thread.ofPlatform().name("alice-stream").start(() -> {
            SmtpSender alice = pair.aliceSubmission();
            for (int i = 0; i < mails; i++) {
                String id = "kill-" + run + "-" + i + "@a.example";
                alice.send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                        SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "fault run " + i, id, "mail " + i + "\n"));
                sent.add("<" + id + ">");
                sleep(runStart + (i + 1) * pauseMillis - System.currentTimeMillis());
            }
        });

        // when each side's swtpm is SIGKILLed three times and restarted (same state, same port), A's and B's
        // outages on schedules of their own
        ExecutorService killers = Executors.newFixedThreadPool(Side.values().length);
        try {
            List<Future<?>> schedules = new ArrayList<>();
            for (Side side : Side.values()) {
                schedules.add(killers.submit(() -> killAndRestart(side, outages.get(side), runStart, outageLinesBefore.get(side))));
            }
            for (Future<?> schedule : schedules) {
                schedule.get();
            }
        } finally {
            killers.shutdownNow();
        }
        sender.join();

        // then every mail is delivered or held: delivered + quarantined == sent
        // (waiting while mail still moves: on a loaded machine B can be minutes behind A; stuck means no progress)
        ImapReader bob = pair.bobInbox();
        long quarantined = 0;
        long accounted = -1;
        long lastProgress = System.nanoTime();
        while (System.nanoTime() - lastProgress < Duration.ofSeconds(90).toNanos()) {
            long arrived = bob.messageIds().stream().filter(m -> m.contains("kill-" + run + "-")).count();
            quarantined = pair.b().webAdmin().repositorySize(QUARANTINE) - quarantinedBefore;
            if (arrived + quarantined >= sent.size()) {
                break;
            }
            if (arrived + quarantined > accounted) {
                accounted = arrived + quarantined;
                lastProgress = System.nanoTime();
            }
            Thread.sleep(2000);
        }
        System.out.printf("swtpm kills: waited until %d s after the end of the sending run%n",
                (System.currentTimeMillis() - runStart - runMillis) / 1000);
        List<ImapReader.Received> delivered = ofRun(bob.readAll(), run);
        Set<String> deliveredIds = new HashSet<>();
        delivered.forEach(m -> deliveredIds.add(m.header("Message-ID").get(0).trim()));
        System.out.printf("swtpm kills: sent %d, delivered %d, quarantined %d%n", sent.size(), deliveredIds.size(), quarantined);
        assertThat(deliveredIds.size() + quarantined).as("delivered + quarantined == sent").isEqualTo(sent.size());
        // and no good mail was quarantined (every mail here is good)
        assertThat(quarantined).as("good mail quarantined").isZero();
        assertThat(deliveredIds).as("each mail exactly once").hasSize(delivered.size()).containsExactlyInAnyOrderElementsOf(sent);
        // and none left A unsigned: each carries A's signature and B's pass
        assertThat(delivered).allSatisfy(m -> {
            assertThat(m.header("X-Auth-HMAC")).singleElement().asString().contains("d=a.example").contains("p=" + PERIOD_SECONDS + ";");
            assertThat(m.header("Authentication-Results")).anySatisfy(ar -> assertThat(ar).contains("auth-hmac=pass"));
        });
        // and nothing is stuck in A or B: queues and error repositories empty
        for (JamesServerProcess server : List.of(pair.a(), pair.b())) {
            assertThat(server.webAdmin().queueSize("spool")).as(server.name() + " spool").isZero();
            assertThat(server.webAdmin().queueSize("outgoing")).as(server.name() + " outgoing").isZero();
            assertThat(server.webAdmin().repositorySize("file://var/mail/error/")).as(server.name() + " error repository").isZero();
        }
        // and on each side the outage across the period boundary met a derivation: that side retried at least once
        for (Side side : Side.values()) {
            long retries = outageLines(side) - outageLinesBefore.get(side);
            System.out.printf("swtpm kills: %d '%s' lines in %s's log%n", retries, side.outageLogLine, side.server(pair).name());
            assertThat(retries).as("%s: the kills exercised a derivation with the TPM down", side).isPositive();
        }
    }

    /**
     * Kills one side's swtpm at each outage's start and restarts it at its end. The outage across the period boundary
     * is kept up until that side has met it: when mail queues up, the first mail of the new period reaches A's signer
     * or B's matcher later than the clock says (B's only once A has signed it), up to minutes on a busy machine.
     */
    private static void killAndRestart(Side side, List<Outage> outages, long runStart, long outageLinesBefore) {
        for (Outage o : outages) {
            sleep(runStart + o.startMillis - System.currentTimeMillis());
            side.tpm(pair).kill();
            sleep(runStart + o.endMillis - System.currentTimeMillis());
            long keepUntil = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (o.acrossBoundary() && outageLines(side) == outageLinesBefore && System.nanoTime() < keepUntil) {
                sleep(500);
            }
            side.tpm(pair).start();
        }
    }

    private static long outageLines(Side side) {
        return side.server(pair).logs().lines().filter(l -> l.contains(side.outageLogLine)).count();
    }

    private static List<ImapReader.Received> ofRun(List<ImapReader.Received> all, String run) {
        return all.stream().filter(m -> m.header("Message-ID").stream().anyMatch(id -> id.contains("kill-" + run + "-"))).toList();
    }

    private static void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
