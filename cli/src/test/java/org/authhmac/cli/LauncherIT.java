package org.authhmac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/auth-hmac}, the launcher the docs name, runs the shaded jar with a Java 21+ even when JAVA_HOME and the
 * java on PATH are a Java 17 (the default on many hosts, which cannot load the jar), and says what it looked at when
 * there is no 21+ at all.
 */
class LauncherIT {
    private static final Path LAUNCHER = Path.of("..", "bin", "auth-hmac").toAbsolutePath().normalize();
    /** The Java 21+ running this test. */
    private static final Path THIS_JAVA_HOME = Path.of(System.getProperty("java.home"));

    @TempDir
    Path dir;
    Path java17;
    Path noJdks;

    record Result(int exit, String out, String err) {
    }

    /** A Java 17 home as a JDK install leaves it (a release file), whose java fails the way a 17 fails on our jar. */
    @BeforeEach
    void fakeJava17() throws Exception {
        java17 = Files.createDirectories(dir.resolve("jdk-17"));
        Path bin = Files.createDirectories(java17.resolve("bin"));
        Files.writeString(java17.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"17.0.15\"\n");
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho 'Error: UnsupportedClassVersionError (this is the Java 17)' >&2\nexit 1\n");
        assertThat(java.toFile().setExecutable(true)).isTrue();
        noJdks = Files.createDirectories(dir.resolve("no-jdks"));
    }

    private Result launch(Path launcher, Consumer<Map<String, String>> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("JAVA_HOME", java17.toString());
        pb.environment().put("PATH", java17.resolve("bin") + ":/usr/bin:/bin"); // "java" on PATH is the 17
        pb.environment().put("AUTH_HMAC_JDK_DIRS", noJdks.toString());
        pb.environment().remove("AUTH_HMAC_CLI_JAR");
        env.accept(pb.environment());
        pb.redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), Files.readString(dir.resolve("out"), StandardCharsets.UTF_8),
                Files.readString(dir.resolve("err"), StandardCharsets.UTF_8));
    }

    @Test
    void skipsTheJava17InJavaHomeAndOnPathAndRunsTheCliWithAJava21FoundInTheJdkFolders() throws Exception {
        Path jdks = Files.createDirectories(dir.resolve("jvm"));
        Files.createSymbolicLink(jdks.resolve("some-jdk"), THIS_JAVA_HOME);

        Result r = launch(LAUNCHER, env -> env.put("AUTH_HMAC_JDK_DIRS", noJdks + ":" + jdks), "--version");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("auth-hmac 0.1.0");
        assertThat(r.err()).doesNotContain("UnsupportedClassVersionError");
    }

    @Test
    void usesJavaHomeWhenItIs21OrNewerAndFindsTheJarThroughASymbolicLinkToTheLauncher() throws Exception {
        Path link = Files.createSymbolicLink(Files.createDirectories(dir.resolve("usr-local-bin")).resolve("auth-hmac"), LAUNCHER);

        Result r = launch(link, env -> env.put("JAVA_HOME", THIS_JAVA_HOME.toString()), "--help");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Usage: auth-hmac", "imap-guard");
    }

    @Test
    void failsClearlyNamingWhatItLookedAtWhenThereIsNoJava21() throws Exception {
        Result r = launch(LAUNCHER, env -> { }, "--version");

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("needs Java 21 or newer",
                "JAVA_HOME: " + java17 + " (Java 17)",
                "java on PATH: " + java17 + " (Java 17)",
                "AUTH_HMAC_JDK_DIRS", noJdks.toString())
                .doesNotContain("UnsupportedClassVersionError");
    }

    @Test
    void runsTheJarNamedByTheEnvironmentAndSaysSoWhenItIsMissing() throws Exception {
        Path jar = Path.of("target", "auth-hmac-cli.jar").toAbsolutePath();
        Path copy = Files.copy(jar, dir.resolve("elsewhere.jar"));

        Result ok = launch(LAUNCHER, env -> {
            env.put("JAVA_HOME", THIS_JAVA_HOME.toString());
            env.put("AUTH_HMAC_CLI_JAR", copy.toString());
        }, "--version");
        Result missing = launch(LAUNCHER, env -> {
            env.put("JAVA_HOME", THIS_JAVA_HOME.toString());
            env.put("AUTH_HMAC_CLI_JAR", dir.resolve("missing.jar").toString());
        }, "--version");

        assertThat(ok.exit()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("auth-hmac 0.1.0");
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err()).contains("AUTH_HMAC_CLI_JAR=" + dir.resolve("missing.jar") + ": no such file");
    }
}
