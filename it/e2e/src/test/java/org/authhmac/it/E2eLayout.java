package org.authhmac.it;

import java.nio.file.Files;
import java.nio.file.Path;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.JamesRuntime;

/** The configuration the e2e tests run: james-conf/ from the repository, exactly as shipped. */
final class E2eLayout {
    private E2eLayout() {
    }

    static AuthHmacPair.Layout current() {
        Path sending = JamesRuntime.locate("james-conf/sending");
        Path receiving = JamesRuntime.locate("james-conf/receiving");
        if (!Files.isDirectory(sending) || !Files.isDirectory(receiving)) {
            throw new IllegalStateException("james-conf/sending and james-conf/receiving are missing (looked at " + sending + ")");
        }
        return new AuthHmacPair.Layout(sending, receiving);
    }
}
