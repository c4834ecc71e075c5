package org.authhmac.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.JamesPorts;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.tpm.SwtpmProcess;

/**
 * The README's main command (scripts/demo): the same pair of James servers the e2e tests run, A (a.example, signs)
 * and B (b.example, verifies and quarantines), each with its own swtpm, or with a PKCS#12 file and a loud warning
 * when swtpm is not installed. Prints the ports and commands to paste, and runs until Ctrl-C.
 */
public final class DemoMain {
    private DemoMain() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args.length > 0 ? args[0] : "target/demo").toAbsolutePath();
        boolean tpm = SwtpmProcess.installed() && !"pkcs12".equalsIgnoreCase(System.getenv("AUTH_HMAC_VAULT"));
        if (!tpm) {
            System.err.println("""

                    ************************************************************************************
                    *  WARNING: swtpm is not installed (or AUTH_HMAC_VAULT=pkcs12), so the partner key  *
                    *  lives in a PKCS#12 FILE protected by a demo password, NOT in a TPM.              *
                    *  Fine for a demo; never for production. Install swtpm for the TPM:                *
                    *      sudo apt-get install swtpm swtpm-tools                                       *
                    ************************************************************************************
                    """);
        }
        Path sending = JamesRuntime.locate("james-conf/sending");
        Path receiving = JamesRuntime.locate("james-conf/receiving");
        if (!Files.isDirectory(sending) || !Files.isDirectory(receiving)) {
            throw new IllegalStateException("james-conf/sending and james-conf/receiving not found; run from the repository root");
        }
        Path bundle = JamesRuntime.javaxBundleJar();
        System.out.println("Starting James A (a.example, signs) and B (b.example, verifies) in " + work + " ...");
        long t0 = System.nanoTime();
        AuthHmacPair pair = AuthHmacPair.start(work, new AuthHmacPair.Layout(sending, receiving),
                tpm ? AuthHmacPair.VaultKind.TPM : AuthHmacPair.VaultKind.PKCS12,
                a -> a.extensionJar(bundle), b -> b.extensionJar(bundle), port -> port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("\nStopping both servers" + (tpm ? " and their swtpm" : "") + " ...");
            pair.close();
            stopped.countDown();
        }, "demo-stop"));
        System.out.println(banner(pair, tpm, (System.nanoTime() - t0) / 1_000_000));
        stopped.await();
    }

    static String banner(AuthHmacPair pair, boolean tpm, long millis) {
        JamesPorts a = pair.a().ports();
        JamesPorts b = pair.b().ports();
        String quarantinePath = "var%2Fmail%2Fauth-hmac-quarantine%2F";
        return """

                X-Auth-HMAC demo is up (%d ms). Keys: %s. Both servers run James 3.8.1 with the javax drop-in jar.

                  server A  a.example  (signs)     submission 127.0.0.1:%d   SMTP 127.0.0.1:%d   IMAP 127.0.0.1:%d   WebAdmin http://127.0.0.1:%d
                  server B  b.example  (verifies)  SMTP       127.0.0.1:%d   IMAP 127.0.0.1:%d   WebAdmin http://127.0.0.1:%d
                  users     %s / %s (on A)      %s / %s (on B)
                  work dir  %s  (conf/, extensions-jars/, james.log of each server)

                1. Send a signed mail: alice submits on A, A signs and relays to B.

                printf 'From: alice@a.example\\r\\nTo: bob@b.example\\r\\nSubject: hello from A\\r\\n\\r\\nSigned by A.\\r\\n' | curl -sS smtp://127.0.0.1:%d --user %s:%s --mail-from %s --mail-rcpt %s --upload-file -

                2. Read it as bob (look for X-Auth-HMAC and "Authentication-Results: ... auth-hmac=pass"):

                curl -sS 'imap://127.0.0.1:%d/INBOX;UID=1' --user %s:%s

                3. Forge one: straight into B's SMTP, claiming alice, unsigned. It is quarantined (none) and bob is told:

                printf 'From: alice@a.example\\r\\nTo: bob@b.example\\r\\nSubject: forged\\r\\n\\r\\nPay now.\\r\\n' | curl -sS smtp://127.0.0.1:%d --mail-from %s --mail-rcpt %s --upload-file -
                curl -sS http://127.0.0.1:%d/mailRepositories/%s/mails

                Release a held mail (KEY from the list above): curl -XPATCH 'http://127.0.0.1:%d/mailRepositories/%s/mails/KEY?action=reprocess&processor=transport'

                Ctrl-C stops everything.
                """.formatted(millis, tpm ? "one swtpm per server (TPM 2.0)" : "PKCS#12 files (NO TPM, see warning above)",
                a.submission(), a.smtp(), a.imap(), a.webAdmin(),
                b.smtp(), b.imap(), b.webAdmin(),
                AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD, AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD,
                pair.root(),
                a.submission(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD, AuthHmacPair.ALICE, AuthHmacPair.BOB,
                b.imap(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD,
                b.smtp(), AuthHmacPair.ALICE, AuthHmacPair.BOB,
                b.webAdmin(), quarantinePath,
                b.webAdmin(), quarantinePath);
    }
}
