package org.authhmac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.authhmac.cli.AuthHmacCliTest.Run;
import org.authhmac.protocol.client.MailboxKey;
import org.authhmac.vault.KeyVaults;
import org.authhmac.vault.MailboxKeys;
import org.authhmac.vault.ManagedKeyVault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** auth-hmac users key: a mailbox's own key, in the vault James uses, handed out once. */
class UsersCommandTest {
    @TempDir
    Path dir;

    Path pkcs12Config() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf")).resolve("auth-hmac.properties");
        Files.writeString(conf, "vault.backend=pkcs12\npkcs12.file=keys.p12\npkcs12.password=pw\n");
        return conf;
    }

    @Test
    void issuesAKeyFileTheClientReadsAndTheVaultSignsWith() throws Exception {
        Path conf = pkcs12Config();
        Path keyFile = dir.resolve("alice.key");

        Run r = AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "Alice@b.example", "--export", keyFile.toString());

        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        MailboxKey key = MailboxKey.parse(Files.readString(keyFile));
        assertThat(key.mailbox()).isEqualTo("alice@b.example");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
        try (ManagedKeyVault vault = KeyVaults.openManaged(conf)) {
            assertThat(MailboxKeys.primaryKeyId(vault, "alice@b.example")).contains(key.keyIds().get(0));
        }
    }

    @Test
    void refusesASecondKeyWithoutRotateAndIssuesOneWithIt() throws Exception {
        Path conf = pkcs12Config();
        AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "alice@b.example", "--export", dir.resolve("1.key").toString());

        Run again = AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "alice@b.example", "--print");
        Run rotated = AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "alice@b.example", "--rotate", "--print");

        assertThat(again.exit()).isEqualTo(3);
        assertThat(again.out()).doesNotContain("secret=");
        assertThat(again.err()).contains("already has key", "--rotate");
        assertThat(rotated.exit()).isEqualTo(0);
        assertThat(rotated.out()).contains("secret=", "mailbox=alice@b.example");
        assertThat(rotated.err()).contains("stays ACTIVE");
    }

    @Test
    void verifiesWithTheVaultForAnOperatorCheckingAStoredMessage() throws Exception {
        Path conf = pkcs12Config();
        Path keyFile = dir.resolve("alice.key");
        AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "alice@b.example", "--export", keyFile.toString());
        MailboxKey key = MailboxKey.parse(Files.readString(keyFile));
        byte[] secret = java.util.Base64.getUrlDecoder().decode(Files.readString(keyFile).replaceAll("(?s).*secret=(\\S+).*", "$1"));
        Path eml = dir.resolve("m.eml");
        Files.writeString(eml, ClientFixtures.signedFor("alice@b.example", key.keyIds().get(0), secret, "x", Instant.parse("2026-11-22T02:00:00Z")));

        Run r = AuthHmacCliTest.run("-c", conf.toString(), "verify", "--user", "alice@b.example", eml.toString());

        assertThat(r.exit()).as(r.err()).isEqualTo(VerifyCommand.NOT_VERIFIED_FROM_PARTNER);
        assertThat(r.out()).contains("mailbox-signature: pass", "status: sender-unverified");
    }

    @Test
    void verifyWithTheVaultRejectsASignatureBoundToTheUserButMadeWithAnotherUsersOrAPartnersKey() throws Exception {
        // given alice and bob each hold their own mailbox key, and the vault also holds a partner key
        Path conf = pkcs12Config();
        AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "alice@b.example", "--export", dir.resolve("alice.key").toString());
        AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "bob@b.example", "--export", dir.resolve("bob.key").toString());
        AuthHmacCliTest.run("-c", conf.toString(), "keys", "generate", "--keyset", "partner-a", "--key-id", "k1",
                "--export", dir.resolve("k1.key").toString());
        Instant at = Instant.parse("2026-11-22T02:00:00Z");
        Path byBob = dir.resolve("by-bob.eml");
        Path byPartner = dir.resolve("by-partner.eml");
        // when bob signs a message bound to alice with his own key, and the partner key signs one too
        Files.writeString(byBob, ClientFixtures.signedFor("alice@b.example", keyIdOf(dir.resolve("bob.key")), secretOf(dir.resolve("bob.key")), "x", at));
        Files.writeString(byPartner, ClientFixtures.signedFor("alice@b.example", "k1", secretOf(dir.resolve("k1.key")), "x", at));

        Run bobs = AuthHmacCliTest.run("-c", conf.toString(), "verify", "--user", "alice@b.example", byBob.toString());
        Run partners = AuthHmacCliTest.run("-c", conf.toString(), "verify", "--user", "alice@b.example", byPartner.toString());

        // then neither passes for alice: only the keys of keyset user:alice@b.example count
        assertThat(bobs.exit()).as(bobs.out() + bobs.err()).isEqualTo(1);
        assertThat(bobs.out()).contains("mailbox-signature: permerror", "reason: unknown-key", "status: no-valid-signature")
                .doesNotContain("mailbox-signature: pass");
        assertThat(partners.exit()).as(partners.out() + partners.err()).isEqualTo(1);
        assertThat(partners.out()).contains("mailbox-signature: permerror", "reason: unknown-key");
    }

    static byte[] secretOf(Path keyFile) throws Exception {
        return java.util.Base64.getUrlDecoder().decode(Files.readString(keyFile).replaceAll("(?s).*secret=(\\S+).*", "$1"));
    }

    static String keyIdOf(Path keyFile) throws Exception {
        return Files.readString(keyFile).replaceAll("(?s).*key-id=(\\S+).*", "$1");
    }

    @Test
    void aKeyFileThatCannotBeWrittenIssuesNoKeySoTheNextAttemptSucceeds() throws Exception {
        // given an export path in a missing folder, and one where a dangling symbolic link was planted
        Path conf = pkcs12Config();
        Path missingFolder = dir.resolve("no-such-folder").resolve("alice.key");
        Path planted = dir.resolve("planted.key");
        Files.createSymbolicLink(planted, dir.resolve("elsewhere").resolve("alice.key"));

        Run intoMissingFolder = AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "alice@b.example", "--export", missingFolder.toString());
        Run throughSymlink = AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "alice@b.example", "--export", planted.toString());

        // then both fail without issuing, nothing is written through the link, and a good path gets the first key
        assertThat(intoMissingFolder.exit()).isNotZero();
        assertThat(throughSymlink.exit()).isNotZero();
        assertThat(dir.resolve("elsewhere")).doesNotExist();
        try (ManagedKeyVault vault = KeyVaults.openManaged(conf)) {
            assertThat(MailboxKeys.primaryKeyId(vault, "alice@b.example")).isEmpty();
        }
        Run good = AuthHmacCliTest.run("-c", conf.toString(), "users", "key", "--user", "alice@b.example", "--export", dir.resolve("alice.key").toString());
        assertThat(good.exit()).as(good.err()).isEqualTo(0);
        assertThat(good.out() + good.err()).doesNotContain("already has key");
    }
}
