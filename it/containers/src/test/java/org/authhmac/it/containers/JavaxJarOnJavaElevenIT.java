package org.authhmac.it.containers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The James 3.8 (javax) jar on the Java 11 that James 3.8.1's image ships: the checks in bundle/src/java11-check, run
 * in the James image scripts/images builds. The compose test shows the jar at work in two servers; these show that
 * every class of it loads there, and that the downgraded verifier gives every test vector's expected verdict.
 */
class JavaxJarOnJavaElevenIT {
    private static final Path REPO = Path.of(System.getProperty("authhmac.it.repoRoot", "../..")).toAbsolutePath().normalize();

    @BeforeAll
    static void images() {
        ContainerTools.prepare(REPO);
    }

    @Test
    void everyClassOfTheJarLoadsAndEveryJdkMemberItNamesResolvesOnJavaEleven() {
        ContainerTools.Output out = check("load-every-class");
        assertThat(out.text()).contains("java 11.").containsPattern("failed 0; distinct JDK member references \\d+, unresolved 0");
        assertThat(out.exitCode()).as(out.text()).isZero();
    }

    @Test
    void theJarOnJavaElevenGivesEveryTestVectorItsExpectedVerdict() {
        ContainerTools.Output out = check("vectors");
        assertThat(out.text()).contains("java 11.").containsPattern("verdicts ok [1-9]\\d*, mailbox ok [1-9]\\d*, kdf ok [1-9]\\d*, mismatches 0");
        assertThat(out.exitCode()).as(out.text()).isZero();
    }

    private static ContainerTools.Output check(String script) {
        Path jar = REPO.resolve("bundle/target/auth-hmac-bundle-0.1.0-SNAPSHOT-javax.jar");
        assertThat(jar).as("the javax jar (scripts/mvn -B -pl bundle -am package)").satisfies(p -> assertThat(Files.exists(p)).isTrue());
        return ContainerTools.run(REPO, Map.of(), Duration.ofMinutes(5), "bundle/src/java11-check/" + script, jar.toString());
    }
}
