package org.authhmac.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** The configuration the e2e tests run: james-conf/ from the repository. */
final class E2eLayout {
    private E2eLayout() {
    }

    static AuthHmacPair.Layout current() {
        Path sending = JamesRuntime.locate("james-conf/sending");
        Path receiving = JamesRuntime.locate("james-conf/receiving");
        if (Files.isDirectory(sending) && Files.isDirectory(receiving)) {
            return new AuthHmacPair.Layout(sending, receiving);
        }
        Path interim = Path.of("src/test/resources/interim-conf").toAbsolutePath();
        return new AuthHmacPair.Layout(interim.resolve("sending"), interim.resolve("receiving"));
    }
}
