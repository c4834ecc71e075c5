package org.authhmac.it.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.ImapReader;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.JamesServerProcess;
import org.authhmac.testing.james.SmtpSender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Soak: alice sends to bob at a steady rate for 10 minutes (-Dauthhmac.soak.seconds, -Dauthhmac.soak.rate
 * mails per second, default 5) through the pair as shipped, while bob's mail client takes what arrives (IMAP FETCH,
 * STORE \Deleted, EXPUNGE every few seconds), so that B's in-memory mailbox does not grow with the run. Errors must be
 * zero and every mail delivered with pass. The live heap of both servers (jcmd GC.class_histogram, which runs a full
 * GC first) is sampled after the warm-up mail and then every -Dauthhmac.soak.sampleSeconds (30) until the end.
 *
 * <p>What may grow on B by design: the replay cache keeps one entry per passed signature until t + maxAge (30 min
 * for p=900) + its 1 h retention, so in any run shorter than 90 min it grows linearly (about 350 bytes an entry;
 * the entry count is read from the histogram). The heap assertion: after the first -Dauthhmac.soak.settleSeconds
 * (120), the last sample of A's live heap, and of B's live heap minus its replay entries, may not lie more than
 * -Dauthhmac.soak.heapToleranceMiB (1) above the lowest sample since. Growth at any point after the lowest sample
 * shows, while a one-time release (both servers dropped about 6 MiB together 5.5 min into a run) cannot drag a
 * fitted trend below zero and hide a leak. The least-squares trend is printed too. Not part of CI: runs only with
 * -Dauthhmac.soak=true.
 */
@EnabledIfSystemProperty(named = "authhmac.soak", matches = "true")
class SoakIT {
    /**
     * The replay cache's record of one signature that passed, counted in B's histogram: one per entry here, since
     * every soak mail has one recipient.
     */
    static final String REPLAY_ENTRY_CLASS = "org.authhmac.protocol.InMemoryReplayCache$Seen";
    /**
     * Live bytes one replay-cache entry holds (compressed oops): the SignatureId record 24, its three Strings
     * (domain, key id, 22-char nonce) about 170, the Seen record 24 with its replay id String about 60, the HashMap
     * node 32, table and bucket-list slots about 12, rounded up. An estimate, stated rather than fitted, so that a
     * leak that also grows per mail cannot hide in it.
     */
    static final long REPLAY_ENTRY_BYTES = 350;

    /** One heap sample: seconds since the warm-up, live bytes after a full GC on A and B, replay entries on B. */
    record Sample(double seconds, long heapA, long heapB, long replayEntriesB, long delivered, String load, Histogram a, Histogram b) {
        long heapBWithoutReplay() {
            return heapB - replayEntriesB * REPLAY_ENTRY_BYTES;
        }
    }

    @Test
    void tenMinutesAtASteadyRateWithoutErrorsOrHeapGrowth() throws Exception {
        int seconds = Integer.getInteger("authhmac.soak.seconds", 600);
        int rate = Integer.getInteger("authhmac.soak.rate", 5);
        int sampleSeconds = Integer.getInteger("authhmac.soak.sampleSeconds", 30);
        int settleSeconds = Integer.getInteger("authhmac.soak.settleSeconds", 120);
        double toleranceMiB = Double.parseDouble(System.getProperty("authhmac.soak.heapToleranceMiB", "1"));
        Path root = Path.of(System.getProperty("authhmac.it.workRoot", "target/e2e-work"), "soak");
        Path bundle = JamesRuntime.javaxBundleJar();
        try (AuthHmacPair pair = AuthHmacPair.start(root, new AuthHmacPair.Layout(
                        JamesRuntime.repoPath("james-conf/sending"), JamesRuntime.repoPath("james-conf/receiving")),
                AuthHmacPair.VaultKind.TPM, a -> a.extensionJar(bundle), b -> b.extensionJar(bundle), port -> port)) {
            String run = UUID.randomUUID().toString().substring(0, 8);
            SmtpSender alice = pair.aliceSubmission();
            ImapReader bob = pair.bobInbox();
            alice.send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                    SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "warm-up", "soak-warm-" + run + "@a.example", "warm\n"));

            // bob's client takes (reads, deletes, expunges) what has arrived, every few seconds, for the whole run; it
            // also waits for the warm-up mail, because ImapReader's other calls end with CLOSE, and on James 3.8.1 each
            // CLOSE leaves a listener behind that records every later mail (see ImapReader.takeAll)
            String ours = "<soak-" + run + "-";
            Map<String, String> taken = new ConcurrentHashMap<>();
            AtomicLong imapErrors = new AtomicLong();
            AtomicReference<Throwable> lastImapError = new AtomicReference<>();
            Runnable take = () -> {
                try {
                    for (Map<String, String> m : bob.takeAll("Message-ID", "Authentication-Results")) {
                        taken.put(m.get("Message-ID"), m.get("Authentication-Results"));
                    }
                } catch (RuntimeException e) {
                    imapErrors.incrementAndGet();
                    lastImapError.set(e);
                }
            };
            long warmDeadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!taken.containsKey("<soak-warm-" + run + "@a.example>")) {
                assertThat(System.nanoTime()).as("warm-up mail in bob's INBOX within 60 s").isLessThan(warmDeadline);
                Thread.sleep(250);
                take.run(); // the warm-up mail goes first, so the baseline sample has an empty mailbox
            }
            List<Sample> samples = new CopyOnWriteArrayList<>();
            long t0 = System.nanoTime();
            Runnable sample = () -> {
                try {
                    samples.add(sample(pair, t0, countOurs(taken, ours)));
                } catch (IOException | InterruptedException | RuntimeException e) {
                    lastImapError.set(e);
                    imapErrors.incrementAndGet();
                }
            };
            sample.run();

            ScheduledExecutorService client = Executors.newSingleThreadScheduledExecutor();
            ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
            client.scheduleWithFixedDelay(take, 5, 5, TimeUnit.SECONDS);
            sampler.scheduleAtFixedRate(sample, sampleSeconds, sampleSeconds, TimeUnit.SECONDS);

            // when alice sends at a steady rate for the whole period
            long mails = (long) seconds * rate;
            AtomicLong errors = new AtomicLong();
            long sendStart = System.nanoTime();
            for (long i = 0; i < mails; i++) {
                try {
                    alice.send(AuthHmacPair.ALICE, List.of(AuthHmacPair.BOB),
                            SmtpSender.message(AuthHmacPair.ALICE, AuthHmacPair.BOB, "soak " + i, "soak-" + run + "-" + i + "@a.example", "mail " + i + "\n"));
                } catch (RuntimeException e) {
                    errors.incrementAndGet();
                }
                long next = sendStart + (i + 1) * 1_000_000_000L / rate;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            double sendSeconds = (System.nanoTime() - sendStart) / 1e9;
            sampler.shutdown();
            sampler.awaitTermination(2, TimeUnit.MINUTES);
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (countOurs(taken, ours) < mails - errors.get() && System.nanoTime() < deadline) {
                Thread.sleep(1000);
            }
            client.shutdown();
            client.awaitTermination(1, TimeUnit.MINUTES);
            take.run();
            long delivered = countOurs(taken, ours);
            long passed = taken.entrySet().stream()
                    .filter(e -> e.getKey().startsWith(ours) && e.getValue().contains("auth-hmac=pass")).count();
            long quarantined = pair.b().webAdmin().repositorySize(SwtpmKillsDuringMailRunIT.QUARANTINE);
            samples.add(sample(pair, t0, delivered));
            int leftInInbox = bob.count();

            System.out.printf("soak: %d mails in %.1f s = %.2f mails/s, SMTP errors %d, delivered %d (auth-hmac=pass %d), quarantined %d, "
                            + "taken by bob's client (IMAP STORE \\Deleted + EXPUNGE) %d, left in INBOX %d, IMAP errors %d; loadavg %s%n",
                    mails, sendSeconds, mails / sendSeconds, errors.get(), delivered, passed, quarantined, taken.size(), leftInInbox,
                    imapErrors.get(), load());
            System.out.println("soak heap (live bytes after full GC, jcmd GC.class_histogram): t[s], A KiB, B KiB, B replay entries, "
                    + "B minus replay KiB, delivered, loadavg");
            for (Sample s : samples) {
                System.out.printf("soak heap %6.0f %8d %8d %7d %8d %6d  %s | B: SelectedMailboxImpl %d, TreeMap$Entry %d%n", s.seconds(), s.heapA() / 1024, s.heapB() / 1024,
                        s.replayEntriesB(), s.heapBWithoutReplay() / 1024, s.delivered(), s.load(),
                        s.b().instances("org.apache.james.imap.processor.base.SelectedMailboxImpl"), s.b().instances("java.util.TreeMap$Entry"));
            }
            List<Sample> settled = samples.stream().filter(s -> s.seconds() >= settleSeconds).toList();
            double span = settled.get(settled.size() - 1).seconds() - settled.get(0).seconds();
            double growthA = slope(settled, Sample::heapA) * span / (1024 * 1024);
            double growthB = slope(settled, Sample::heapB) * span / (1024 * 1024);
            double growthBWithoutReplay = slope(settled, Sample::heapBWithoutReplay) * span / (1024 * 1024);
            Sample first = settled.get(0);
            Sample last = samples.get(samples.size() - 1);
            for (String server : List.of("A", "B")) {
                System.out.printf("soak heap: classes grown most on %s from %.0f s to %.0f s:%n", server, first.seconds(), last.seconds());
                Histogram from = server.equals("A") ? first.a() : first.b();
                Histogram to = server.equals("A") ? last.a() : last.b();
                to.grownSince(from, 15).forEach(line -> System.out.println("  " + line));
            }
            System.out.printf("soak heap trend over %.0f s after the first %d s (%d samples, least squares): A %+.2f MiB, B %+.2f MiB, "
                            + "B minus replay entries x %d bytes %+.2f MiB%n",
                    span, settleSeconds, settled.size(), growthA, growthB, REPLAY_ENTRY_BYTES, growthBWithoutReplay);
            double aboveLowestA = aboveLowest(settled, Sample::heapA);
            double aboveLowestB = aboveLowest(settled, Sample::heapB);
            double aboveLowestBWithoutReplay = aboveLowest(settled, Sample::heapBWithoutReplay);
            System.out.printf("soak heap: last sample above the lowest since %d s: A %+.2f MiB, B %+.2f MiB, B minus replay entries %+.2f MiB; "
                            + "tolerance %.1f MiB%n", settleSeconds, aboveLowestA, aboveLowestB, aboveLowestBWithoutReplay, toleranceMiB);

            // then no error, nothing lost, nothing held, and no heap growth beyond what the replay window holds
            assertThat(errors.get()).as("SMTP errors").isZero();
            assertThat(imapErrors.get()).as("IMAP or jcmd errors (last: %s)", lastImapError.get()).isZero();
            assertThat(delivered).as("delivered").isEqualTo(mails);
            assertThat(passed).as("delivered with auth-hmac=pass").isEqualTo(mails);
            assertThat(quarantined).as("quarantined").isZero();
            assertThat(settled).as("heap samples after the settle time").hasSizeGreaterThanOrEqualTo(3);
            assertThat(aboveLowestA).as("A's live heap at the end above its lowest sample after warm-up, MiB").isLessThanOrEqualTo(toleranceMiB);
            assertThat(aboveLowestBWithoutReplay).as("B's live heap minus the replay cache at the end above its lowest sample after warm-up, MiB")
                    .isLessThanOrEqualTo(toleranceMiB);
        }
    }

    private static long countOurs(Map<String, String> taken, String prefix) {
        return taken.keySet().stream().filter(id -> id.startsWith(prefix)).count();
    }

    private static Sample sample(AuthHmacPair pair, long t0, long delivered) throws IOException, InterruptedException {
        double at = (System.nanoTime() - t0) / 1e9;
        Histogram a = Histogram.of(pair.a());
        Histogram b = Histogram.of(pair.b());
        return new Sample(at, a.totalBytes(), b.totalBytes(), b.instances(REPLAY_ENTRY_CLASS), delivered, load(), a, b);
    }

    /** How far the last sample lies above the lowest one, in MiB. */
    static double aboveLowest(List<Sample> samples, java.util.function.ToLongFunction<Sample> y) {
        long lowest = samples.stream().mapToLong(y).min().orElseThrow();
        return (y.applyAsLong(samples.get(samples.size() - 1)) - lowest) / (1024.0 * 1024.0);
    }

    /** Least-squares slope of y over the samples' seconds, in bytes per second. */
    static double slope(List<Sample> samples, java.util.function.ToLongFunction<Sample> y) {
        double n = samples.size();
        double mx = samples.stream().mapToDouble(Sample::seconds).sum() / n;
        double my = samples.stream().mapToDouble(s -> y.applyAsLong(s)).sum() / n;
        double sxy = 0;
        double sxx = 0;
        for (Sample s : samples) {
            sxy += (s.seconds() - mx) * (y.applyAsLong(s) - my);
            sxx += (s.seconds() - mx) * (s.seconds() - mx);
        }
        return sxx == 0 ? 0 : sxy / sxx;
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    /**
     * HotSpot fills unused heap gaps with filler arrays, which the histogram lists as jdk.internal.vm.FillerElement[]
     * (on A they made a 5 MiB sawtooth); they are not live data, so they are left out of the total.
     */
    static final String FILLER = "[Ljdk.internal.vm.Filler";

    /** jcmd's class histogram of a live JVM (it collects first): live bytes without fillers, and instances and bytes per class. */
    record Histogram(long totalBytes, Map<String, Long> instancesByClass, Map<String, Long> bytesByClass) {
        long instances(String className) {
            return instancesByClass.getOrDefault(className, 0L);
        }

        /** The classes whose live bytes grew most from {@code before} to this one: what a growing heap is made of. */
        List<String> grownSince(Histogram before, int top) {
            return bytesByClass.entrySet().stream()
                    .sorted((x, y) -> Long.compare(y.getValue() - before.bytesByClass.getOrDefault(y.getKey(), 0L),
                            x.getValue() - before.bytesByClass.getOrDefault(x.getKey(), 0L)))
                    .limit(top)
                    .map(e -> String.format("%+9d bytes %+7d instances  %s", e.getValue() - before.bytesByClass.getOrDefault(e.getKey(), 0L),
                            instances(e.getKey()) - before.instances(e.getKey()), e.getKey()))
                    .toList();
        }

        static Histogram of(JamesServerProcess server) throws IOException, InterruptedException {
            String out = jcmd(server, "GC.class_histogram");
            long total = -1;
            Map<String, Long> instances = new java.util.HashMap<>();
            Map<String, Long> bytes = new java.util.HashMap<>();
            long fillers = 0;
            for (String line : out.lines().toList()) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 3 && f[0].equals("Total")) {
                    total = Long.parseLong(f[2]);
                } else if (f.length >= 4 && f[0].endsWith(":") && f[3].startsWith(FILLER)) {
                    fillers += Long.parseLong(f[2]);
                } else if (f.length >= 4 && f[0].endsWith(":")) {
                    instances.merge(f[3], Long.parseLong(f[1]), Long::sum);
                    bytes.merge(f[3], Long.parseLong(f[2]), Long::sum);
                }
            }
            if (total < 0) {
                throw new IllegalStateException("jcmd gave no histogram: " + out);
            }
            return new Histogram(total - fillers, instances, bytes);
        }
    }

    private static String jcmd(JamesServerProcess server, String command) throws IOException, InterruptedException {
        String java = ProcessHandle.of(server.pid()).flatMap(h -> h.info().command())
                .orElseThrow(() -> new IllegalStateException("no command line for pid " + server.pid()));
        Path jcmd = Path.of(java).resolveSibling("jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(server.pid()), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
