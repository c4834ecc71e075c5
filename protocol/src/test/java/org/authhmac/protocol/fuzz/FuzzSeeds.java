package org.authhmac.protocol.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The seed corpus of a fuzz target: every file under {@code src/test/resources/fuzz/<target>/}. Seeds run as
 * plain regression cases in the test phase and start the corpus when Jazzer fuzzes.
 */
final class FuzzSeeds {
    private FuzzSeeds() {
    }

    static Stream<Arguments> of(String target) {
        URL dir = FuzzSeeds.class.getResource("/fuzz/" + target);
        if (dir == null) {
            throw new IllegalStateException("no seed corpus src/test/resources/fuzz/" + target);
        }
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            List<Path> sorted = files.filter(Files::isRegularFile).sorted().toList();
            if (sorted.isEmpty()) {
                throw new IllegalStateException("empty seed corpus src/test/resources/fuzz/" + target);
            }
            return sorted.stream().map(p -> Arguments.of(Named.of(p.getFileName().toString(), read(p))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
