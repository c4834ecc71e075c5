package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.testing.MutableClock;
import org.authhmac.testing.tpm.Swtpm;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An independent TPM client, tpm2-tools, loads the blob our vault wrote (under the same storage-key template)
 * and computes TPM2_HMAC over the KDF input: the bytes must equal the vault's period key.
 */
class Tpm2ToolsCrossCheckTest {
    @TempDir
    Path dir;

    @Test
    void tpm2ToolsHmacWithTheSameBlobGivesTheVaultsPeriodKey() throws Exception {
        requireTpm2Tools();
        KdfContext ctx = new KdfContext("k1", "a.example", 900, KdfContext.periodOf(Instant.parse("2026-11-22T02:00:00Z").getEpochSecond(), 900));
        try (Swtpm swtpm = Swtpm.start()) {
            byte[] fromVault;
            try (DefaultKeyVault vault = TestVaults.open(TestVaults.tpm(swtpm), dir, new MutableClock(Instant.parse("2026-11-22T02:00:00Z")))) {
                vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
                fromVault = vault.periodKey(ctx).exportBytesForTestVectors();
            } // swtpm serves one client at a time: the vault lets go before tpm2-tools connects

            Files.write(dir.resolve("input.bin"), Kdf.fixedInput(ctx));
            String tcti = "swtpm:host=" + swtpm.host() + ",port=" + swtpm.port();
            run(tcti, "tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "ecc256:aes128cfb",
                    "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt", "-c", "primary.ctx");
            run(tcti, "tpm2_flushcontext", "-t"); // no resource manager: the tools leave transient objects behind
            run(tcti, "tpm2_load", "-C", "primary.ctx", "-u", "auth-hmac-keys/k1.pub", "-r", "auth-hmac-keys/k1.priv", "-c", "key.ctx");
            run(tcti, "tpm2_flushcontext", "-t");
            run(tcti, "tpm2_hmac", "-c", "key.ctx", "-g", "sha256", "-o", "out.bin", "input.bin");

            byte[] fromTools = Files.readAllBytes(dir.resolve("out.bin"));
            assertThat(fromTools).isEqualTo(fromVault).isEqualTo(Kdf.derive(TestVaults.PRIMARY, ctx));
        }
    }

    private void run(String tcti, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve(command[0] + ".log").toFile());
        pb.environment().put("TPM2TOOLS_TCTI", tcti);
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(command[0] + " finished").isTrue();
        assertThat(p.exitValue()).as(command[0] + " exit status; output: " + Files.readString(dir.resolve(command[0] + ".log")))
                .isZero();
    }

    private static void requireTpm2Tools() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, "tpm2_hmac"))) {
                return;
            }
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("tpm2-tools is not installed and CI=true (apt-get install tpm2-tools)");
        }
        Assumptions.abort("tpm2-tools not installed");
    }
}
