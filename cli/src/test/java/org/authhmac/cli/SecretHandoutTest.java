package org.authhmac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** --print: a secret that never reached standard output must not pass for handed out. */
class SecretHandoutTest {
    @TempDir
    Path dir;

    Path pkcs12Config() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf")).resolve("auth-hmac.properties");
        Files.writeString(conf, "vault.backend=pkcs12\npkcs12.file=keys.p12\npkcs12.password=pw\n");
        return conf;
    }

    /** Standard output that cannot be written: a closed pipe, a full disk. */
    static PrintWriter broken() {
        return new PrintWriter(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }
        }, true);
    }

    static AuthHmacCliTest.Run runWithBrokenOut(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = AuthHmacCli.commandLine();
        cl.setOut(broken());
        cl.setErr(new PrintWriter(err, true));
        return new AuthHmacCliTest.Run(cl.execute(args), "", err.toString());
    }

    @Test
    void usersKeyPrintFailsWhenStandardOutputLosesTheSecret() throws Exception {
        Path conf = pkcs12Config();

        AuthHmacCliTest.Run r = runWithBrokenOut("-c", conf.toString(), "users", "key", "--user", "alice@b.example", "--print");

        assertThat(r.exit()).as(r.err()).isNotZero();
        assertThat(r.err()).contains("standard output", "stored").doesNotContain("secret=");
    }

    @Test
    void keysGeneratePrintFailsWhenStandardOutputLosesTheSecret() throws Exception {
        Path conf = pkcs12Config();

        AuthHmacCliTest.Run r = runWithBrokenOut("-c", conf.toString(), "keys", "generate", "--keyset", "partner-b", "--key-id", "k1", "--print");

        assertThat(r.exit()).as(r.err()).isNotZero();
        assertThat(r.err()).contains("standard output", "k1", "stored").doesNotContain("secret=");
    }
}
