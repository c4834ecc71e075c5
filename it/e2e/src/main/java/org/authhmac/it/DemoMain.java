package org.authhmac.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.authhmac.testing.james.AuthHmacPair;
import org.authhmac.testing.james.JamesPorts;
import org.authhmac.testing.james.JamesRuntime;
import org.authhmac.testing.james.WebAdminJwt;
import org.authhmac.testing.tpm.SwtpmProcess;

/**
 * The README's main command (scripts/demo): the same pair of James servers the e2e tests run, A (a.example, signs)
 * and B (b.example, verifies and quarantines), each with its own swtpm, or with a PKCS#12 file and a loud warning
 * when swtpm is not installed. B also has the mailbox-key WebAdmin route, and so WebAdmin authentication (an admin
 * JWT, written to {@code <work>/b-webadmin.jwt}). Prints the ports and commands to paste, and runs until Ctrl-C.
 */
public final class DemoMain {
    static final String MAILBOX_KEY_ROUTES = "org.authhmac.webadmin.MailboxKeyRoutes";
    static final String TOKEN_FILE = "b-webadmin.jwt";

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
        System.out.println("Starting James A (a.example, signs) and B (b.example, verifies) in " + work + " ...");
        long t0 = System.nanoTime();
        AuthHmacPair pair = start(work, tpm);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("\nStopping both servers" + (tpm ? " and their swtpm" : "") + " ...");
            pair.close();
            stopped.countDown();
        }, "demo-stop"));
        System.out.println(banner(pair, tpm, (System.nanoTime() - t0) / 1_000_000));
        stopped.await();
    }

    /** Both servers, provisioned and running, as the demo runs them. */
    static AuthHmacPair start(Path work, boolean tpm) {
        Path sending = JamesRuntime.locate("james-conf/sending");
        Path receiving = JamesRuntime.locate("james-conf/receiving");
        if (!Files.isDirectory(sending) || !Files.isDirectory(receiving)) {
            throw new IllegalStateException("james-conf/sending and james-conf/receiving not found; run from the repository root");
        }
        Path bundle = JamesRuntime.javaxBundleJar();
        WebAdminJwt jwt = WebAdminJwt.generate();
        AuthHmacPair pair = AuthHmacPair.start(work, new AuthHmacPair.Layout(sending, receiving),
                tpm ? AuthHmacPair.VaultKind.TPM : AuthHmacPair.VaultKind.PKCS12,
                a -> a.extensionJar(bundle),
                // docs/CLIENTS.md section 2: the route is a WebAdmin extension, and issues keys only behind an admin JWT
                b -> b.extensionJar(bundle).webAdminJwt(jwt, "admin@" + AuthHmacPair.B_DOMAIN)
                        .properties("webadmin.properties", Map.of("extensions.routes", MAILBOX_KEY_ROUTES)),
                port -> port);
        try {
            Path token = pair.root().resolve(TOKEN_FILE);
            Files.writeString(token, pair.b().webAdminToken().orElseThrow() + "\n");
            Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            pair.close();
            throw new IllegalStateException("cannot write the WebAdmin token of B", e);
        }
        return pair;
    }

    static String banner(AuthHmacPair pair, boolean tpm, long millis) {
        JamesPorts a = pair.a().ports();
        JamesPorts b = pair.b().ports();
        String quarantinePath = "var%2Fmail%2Fauth-hmac-quarantine%2F";
        String cli = JamesRuntime.locate("bin/auth-hmac").toString();
        String bAuth = "-H \"Authorization: Bearer $B_JWT\"";
        return """

                X-Auth-HMAC demo is up (%d ms). Keys: %s. Both servers run James 3.8.1 with the javax drop-in jar.

                  server A  a.example  (signs)     submission 127.0.0.1:%d   SMTP 127.0.0.1:%d   IMAP 127.0.0.1:%d   WebAdmin http://127.0.0.1:%d
                  server B  b.example  (verifies)  SMTP       127.0.0.1:%d   IMAP 127.0.0.1:%d   WebAdmin http://127.0.0.1:%d (admin JWT)
                  users     %s / %s (on A)      %s / %s (on B)
                  work dir  %s  (conf/, extensions-jars/, james.log of each server)

                Each server's key vault, with the CLI (bin/auth-hmac finds a Java 21+):

                %s -c %s keys list
                %s -c %s keys list

                B's WebAdmin requires an admin JWT (the mailbox-key route is served only so); load it into your shell first:

                B_JWT=$(cat %s)

                1. Send a signed mail: alice submits on A, A signs and relays to B.

                printf 'From: alice@a.example\\r\\nTo: bob@b.example\\r\\nSubject: hello from A\\r\\n\\r\\nSigned by A.\\r\\n' | curl -sS smtp://127.0.0.1:%d --user %s:%s --mail-from %s --mail-rcpt %s --upload-file -

                2. Read it as bob (look for X-Auth-HMAC and "Authentication-Results: ... auth-hmac=pass"):

                curl -sS 'imap://127.0.0.1:%d/INBOX;UID=1' --user %s:%s

                3. Forge one: straight into B's SMTP, claiming alice, unsigned. It is quarantined (none) and bob is told:

                printf 'From: alice@a.example\\r\\nTo: bob@b.example\\r\\nSubject: forged\\r\\n\\r\\nPay now.\\r\\n' | curl -sS smtp://127.0.0.1:%d --mail-from %s --mail-rcpt %s --upload-file -
                curl -sS %s http://127.0.0.1:%d/mailRepositories/%s/mails

                Release a held mail (KEY from the list above): curl -XPATCH %s 'http://127.0.0.1:%d/mailRepositories/%s/mails/KEY?action=reprocess&processor=transport'

                4. Give bob a mailbox key (shown once), then let the guard check his INBOX. Mail delivered before the key is
                   unsigned, so the first run only lists what it would move (add --apply to move it):

                curl -sS -XPUT %s http://127.0.0.1:%d/auth-hmac/users/%s/key > bob.key
                AUTH_HMAC_IMAP_PASSWORD=%s %s imap-guard --host 127.0.0.1 --port %d --security NONE --login %s --key bob.key --state bob-guard.state

                5. Release by reply. Promote a new key on A before B has it (a rollout in the wrong order): B holds
                   alice's next mail as unknown-key, and bob's notice lets him get it back himself by replying.

                %s -c %s keys rotate add --keyset %s --key-id k2 --export k2.secret
                %s -c %s keys rotate promote --key-id k2
                printf 'From: alice@a.example\\r\\nTo: bob@b.example\\r\\nSubject: signed with k2\\r\\n\\r\\nNew key.\\r\\n' | curl -sS smtp://127.0.0.1:%d --user %s:%s --mail-from %s --mail-rcpt %s --upload-file -

                   Bob's notice (newest mail in his INBOX) has a Reply-To: his one-time release address. Take it:

                R=$(curl -sS 'imap://127.0.0.1:%d/INBOX;UID=*;SECTION=HEADER.FIELDS%%20(REPLY-TO)' --user %s:%s | grep -o 'release-[a-z2-7]*@auth-hmac.b.example')

                   Reply as bob, authenticated on B's submission port. The answer says key-missing: B has no k2 yet.

                printf 'Subject: Re: held\\r\\n\\r\\nplease\\r\\n' | curl -sS smtp://127.0.0.1:%d --user %s:%s --mail-from %s --mail-rcpt "$R" --upload-file -

                   Import k2 on B and reply again: "Held message released", and the mail is in bob's INBOX.

                %s -c %s keys import --from k2.secret --keyset %s
                printf 'Subject: Re: held\\r\\n\\r\\nplease\\r\\n' | curl -sS smtp://127.0.0.1:%d --user %s:%s --mail-from %s --mail-rcpt "$R" --upload-file -

                Ctrl-C stops everything.
                """.formatted(millis, tpm ? "one swtpm per server (TPM 2.0)" : "PKCS#12 files (NO TPM, see warning above)",
                a.submission(), a.smtp(), a.imap(), a.webAdmin(),
                b.smtp(), b.imap(), b.webAdmin(),
                AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD, AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD,
                pair.root(),
                cli, AuthHmacPair.authHmacConfig(pair.a()), cli, AuthHmacPair.authHmacConfig(pair.b()),
                pair.root().resolve(TOKEN_FILE),
                a.submission(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD, AuthHmacPair.ALICE, AuthHmacPair.BOB,
                b.imap(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD,
                b.smtp(), AuthHmacPair.ALICE, AuthHmacPair.BOB,
                bAuth, b.webAdmin(), quarantinePath,
                bAuth, b.webAdmin(), quarantinePath,
                bAuth, b.webAdmin(), AuthHmacPair.BOB,
                AuthHmacPair.BOB_PASSWORD, cli, b.imap(), AuthHmacPair.BOB,
                cli, AuthHmacPair.authHmacConfig(pair.a()), AuthHmacPair.KEYSET, cli, AuthHmacPair.authHmacConfig(pair.a()),
                a.submission(), AuthHmacPair.ALICE, AuthHmacPair.ALICE_PASSWORD, AuthHmacPair.ALICE, AuthHmacPair.BOB,
                b.imap(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD,
                b.submission(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD, AuthHmacPair.BOB,
                cli, AuthHmacPair.authHmacConfig(pair.b()), AuthHmacPair.KEYSET,
                b.submission(), AuthHmacPair.BOB, AuthHmacPair.BOB_PASSWORD, AuthHmacPair.BOB);
    }
}
