package org.authhmac.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The CI smoke check: every benchmark still starts, its set-up checks pass (the signed messages verify, with our
 * verifier and with jDKIM) and it runs for one tiny iteration in this JVM. Speed is measured by bench/run, not here.
 */
class BenchmarksStartTest {

    @Test
    void everyBenchmarkRunsOneShortIteration() throws Exception {
        // JMH takes a machine-wide lock (/tmp/jmh.lock) so that two measurements do not disturb each other. This
        // run measures nothing, and must not fail because a bench/run happens to be going on the same machine.
        System.setProperty("jmh.ignoreLock", "true");
        Options options = new OptionsBuilder()
                .include("org\\.authhmac\\.bench\\..*Benchmark\\..*")
                .param("size", "1KB")
                .param("partners", "2")
                .param("vault", "tpm-nodelay", "pkcs12")
                // every shape's set-up is checked by AdversarialMessagesTest; one shows that the benchmark runs
                .param("shape", "tiny-fields-known-key")
                .param("field", "adjacent-utf7-runs")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(50))
                .shouldFailOnError(true)
                .build();

        Collection<RunResult> results = new Runner(options).run();

        List<String> ran = results.stream().map(r -> r.getParams().getBenchmark()
                .replace("org.authhmac.bench.", "") + r.getParams().getParam("vault")).toList();
        assertThat(ran).containsExactlyInAnyOrder(
                "AdversarialBenchmark.adversarialnull", "AdversarialBenchmark.benignnull", "FromScanBenchmark.decidenull",
                "KeyDerivationBenchmark.derivepkcs12", "KeyDerivationBenchmark.derivetpm-nodelay",
                "MailBenchmark.dkimSignnull", "MailBenchmark.dkimVerifynull", "MailBenchmark.limitnull",
                "MailBenchmark.relaxedBodyHashnull", "MailBenchmark.signnull", "MailBenchmark.simpleBodyHashnull",
                "MailBenchmark.verifynull",
                "PartnerKeysBenchmark.signForPartnersnull", "PartnerKeysBenchmark.verifyAmongPartnersnull");
        assertThat(results).allSatisfy(r -> assertThat(r.getPrimaryResult().getScore()).as(r.getParams().getBenchmark()).isPositive());
    }
}
