package org.authhmac.testing.james;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/**
 * A sending server whose signing clock is off by a fixed amount, as a partner with a clock that runs fast or slow:
 * {@link OffsetSigningClockModule} in a jar of its own in the server's {@code extensions-jars/}, listed after the
 * product's module in {@code extensions.properties}, and the offset as a JVM option.
 *
 * <pre>
 * AuthHmacPair.start(root, layout, kind, SigningClockOffset.of(Duration.ofSeconds(200), root), b -> { }, p -> p);
 * </pre>
 */
public final class SigningClockOffset {
    /** The system property the module reads: an ISO-8601 duration ({@code PT200S}, {@code PT-90S}). */
    public static final String PROPERTY = "authhmac.test.signingClockOffset";
    /** The name AuthHmacVaultModule.CLOCK_NAME gives the signing clock. */
    static final String CLOCK_NAME = "auth-hmac";
    private static final String MODULE = "org.authhmac.testing.james.OffsetSigningClockModule";

    private SigningClockOffset() {
    }

    /**
     * The builder edits: the jar (written under {@code workDir} when they are applied, so after AuthHmacPair has
     * emptied its root), extensions.properties and the JVM option.
     */
    public static Consumer<JamesServerProcess.Builder> of(Duration offset, Path workDir) {
        return builder -> builder.extensionJar(jar(workDir))
                .properties("extensions.properties", Map.of("guice.extension.module",
                        "org.authhmac.vault.guice.AuthHmacVaultModule," + MODULE))
                .jvmOption("-D" + PROPERTY + "=" + offset);
    }

    /** Writes a jar holding only {@link OffsetSigningClockModule} into {@code dir}. */
    public static Path jar(Path dir) {
        String entry = MODULE.replace('.', '/') + ".class";
        Path jar = dir.resolve("auth-hmac-test-signing-clock.jar");
        try (InputStream in = SigningClockOffset.class.getClassLoader().getResourceAsStream(entry)) {
            if (in == null) {
                throw new IllegalStateException("class file " + entry + " not found");
            }
            Files.createDirectories(dir);
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
                out.putNextEntry(new JarEntry(entry));
                in.transferTo(out);
                out.closeEntry();
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + jar, e);
        }
    }
}
