package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.testing.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-mailbox keys: one keyset per user, issued once, rotated only on request. */
class MailboxKeysTest {
    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T02:00:10Z"));
    private final KdfContext ctx = new KdfContext("k", "b.example", 900, 2_000_000);

    @Test
    void issuesAKeyInTheMailboxOwnKeysetAndTheVaultDerivesFromTheIssuedSecret() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            MailboxKeys.Issued issued = MailboxKeys.issue(vault, "Alice@B.example", false, new SecureRandom());

            assertThat(issued.keyset()).isEqualTo("user:alice@b.example");
            assertThat(vault.primaryKeyId("user:alice@b.example")).isEqualTo(issued.keyId());
            KdfContext mine = new KdfContext(issued.keyId(), "b.example", 900, 2_000_000);
            assertThat(vault.periodKey(mine).exportBytesForTestVectors()).isEqualTo(Kdf.derive(issued.secret(), mine));
            assertThat(issued.keyFile()).contains("mailbox=alice@b.example", "key-id=" + issued.keyId(), "secret=" + issued.secretBase64Url());
            assertThat(issued.toString()).doesNotContain(issued.secretBase64Url())
                    .isEqualTo("Issued[alice@b.example, key " + issued.keyId() + ", secret hidden]");
        }
    }

    @Test
    void refusesASecondKeyUnlessRotationIsAskedForAndThenKeepsTheOldOneActive() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            MailboxKeys.Issued first = MailboxKeys.issue(vault, "alice@b.example", false, new SecureRandom());

            assertThatThrownBy(() -> MailboxKeys.issue(vault, "alice@b.example", false, new SecureRandom()))
                    .isInstanceOf(MailboxKeys.AlreadyIssuedException.class)
                    .hasMessageContaining("already has key " + first.keyId())
                    .extracting(e -> ((MailboxKeys.AlreadyIssuedException) e).keyId()).isEqualTo(first.keyId());
            MailboxKeys.Issued second = MailboxKeys.issue(vault, "alice@b.example", true, new SecureRandom());

            assertThat(second.keyId()).isNotEqualTo(first.keyId());
            assertThat(second.replaced()).contains(first.keyId());
            assertThat(vault.keys()).extracting(KeyInfo::keyId, KeyInfo::status)
                    .contains(org.assertj.core.groups.Tuple.tuple(first.keyId(), KeyStatus.ACTIVE),
                            org.assertj.core.groups.Tuple.tuple(second.keyId(), KeyStatus.PRIMARY));
        }
    }

    @Test
    void keepsUsersApartAndPartnerKeysetsWorkAsBefore() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            vault.importKey("k1", "partner-b", TestVaults.PRIMARY.clone(), KeyStatus.PRIMARY);
            MailboxKeys.Issued alice = MailboxKeys.issue(vault, "alice@b.example", false, new SecureRandom());
            MailboxKeys.Issued bob = MailboxKeys.issue(vault, "bob@b.example", false, new SecureRandom());

            assertThat(MailboxKeys.primaryKeyId(vault, "alice@b.example")).contains(alice.keyId());
            assertThat(MailboxKeys.primaryKeyId(vault, "bob@b.example")).contains(bob.keyId());
            assertThat(MailboxKeys.primaryKeyId(vault, "carol@b.example")).isEmpty();
            assertThat(vault.primaryKeyId("partner-b")).isEqualTo("k1");
        }
        try (DefaultKeyVault reopened = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            assertThat(reopened.keys()).hasSize(3);
        }
    }

    @Test
    void everyIssuedSecretIsDrawnFromTheRandomSourceNeverAFixedValue() throws Exception {
        try (DefaultKeyVault vault = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            // when two mailboxes get a key
            MailboxKeys.Issued alice = MailboxKeys.issue(vault, "alice@b.example", false, new SecureRandom());
            MailboxKeys.Issued bob = MailboxKeys.issue(vault, "bob@b.example", false, new SecureRandom());

            // then each secret is 32 drawn bytes: not all zero, and not the other mailbox's
            assertThat(alice.secret()).hasSize(32).isNotEqualTo(new byte[32]).isNotEqualTo(bob.secret());
            assertThat(bob.secret()).hasSize(32).isNotEqualTo(new byte[32]);
            assertThat(alice.keyId()).isNotEqualTo(bob.keyId()).isNotEqualTo("mbx-0000000000000000");
        }
    }

    @Test
    void refusesAddressesThatCannotBeBound() {
        assertThatThrownBy(() -> MailboxKeys.mailbox("no-at-sign")).hasMessageContaining("not a mailbox address");
        assertThatThrownBy(() -> MailboxKeys.mailbox("élise@b.example")).hasMessageContaining("not a mailbox address");
        assertThatThrownBy(() -> MailboxKeys.mailbox("a b@b.example")).hasMessageContaining("not a mailbox address");
    }

    @Test
    void aKeyIssuedThroughOneVaultIsNeitherIssuedAgainNorOverwrittenThroughAnotherOnTheSameFiles() throws Exception {
        // given James's vault, opened and used before the command line issues alice's key through a vault of its own
        try (DefaultKeyVault james = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
            MailboxKeys.issue(james, "carol@b.example", false, new SecureRandom());
            MailboxKeys.Issued byCli;
            try (DefaultKeyVault cli = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
                byCli = MailboxKeys.issue(cli, "alice@b.example", false, new SecureRandom());
            }

            // when James is asked for alice's key before it noticed the change (same second: no re-check yet)
            assertThatThrownBy(() -> MailboxKeys.issue(james, "alice@b.example", false, new SecureRandom()))
                    .isInstanceOf(MailboxKeys.AlreadyIssuedException.class);
            MailboxKeys.Issued bob = MailboxKeys.issue(james, "bob@b.example", false, new SecureRandom());

            // then the key the command line handed out is still alice's primary, and it and bob's both load
            try (DefaultKeyVault fresh = TestVaults.open(TestVaults.pkcs12(), dir, clock)) {
                assertThat(fresh.primaryKeyId("user:alice@b.example")).isEqualTo(byCli.keyId());
                KdfContext alices = new KdfContext(byCli.keyId(), "b.example", 900, 2_000_000);
                KdfContext bobs = new KdfContext(bob.keyId(), "b.example", 900, 2_000_000);
                assertThat(fresh.periodKey(alices).exportBytesForTestVectors()).isEqualTo(Kdf.derive(byCli.secret(), alices));
                assertThat(fresh.periodKey(bobs).exportBytesForTestVectors()).isEqualTo(Kdf.derive(bob.secret(), bobs));
            }
        }
    }

    @Test
    void aMailboxKeySourceAnswersOnlyThePrimaryAndActiveKeysOfThatMailbox() throws Exception {
        StubVault vault = new StubVault(
                new KeyInfo("mbx-new", "user:alice@b.example", KeyStatus.PRIMARY, Instant.EPOCH, "stub"),
                new KeyInfo("mbx-old", "user:alice@b.example", KeyStatus.ACTIVE, Instant.EPOCH, "stub"),
                new KeyInfo("mbx-gone", "user:alice@b.example", KeyStatus.RETIRED, Instant.EPOCH, "stub"),
                new KeyInfo("mbx-bob", "user:bob@b.example", KeyStatus.PRIMARY, Instant.EPOCH, "stub"),
                new KeyInfo("k1", "partner-b", KeyStatus.PRIMARY, Instant.EPOCH, "stub"));
        PeriodKeys alices = MailboxKeys.keysOf(vault, "Alice@b.example");

        PeriodKey primary = alices.periodKey(context("mbx-new"));
        assertThat(primary.context().keyId()).isEqualTo("mbx-new");
        assertThat(alices.periodKey(context("mbx-old")).context().keyId()).isEqualTo("mbx-old");
        for (String foreign : List.of("mbx-gone", "mbx-bob", "k1", "mbx-unknown")) {
            assertThatThrownBy(() -> alices.periodKey(context(foreign))).isInstanceOf(UnknownKeyException.class)
                    .hasMessageContaining("key id " + foreign + " is not a key of keyset user:alice@b.example");
        }
        assertThat(vault.derived).containsExactly("mbx-new", "mbx-old");

        alices.macChecked(primary, true);
        assertThat(vault.checked).containsExactly(primary);
    }

    @Test
    void aMailboxKeySourceWhoseVaultCannotListItsKeysReportsTheVaultUnavailable() {
        StubVault vault = new StubVault() {
            @Override
            public List<KeyInfo> keys() {
                throw new IllegalStateException("keyset file unreadable");
            }
        };

        assertThatThrownBy(() -> MailboxKeys.keysOf(vault, "alice@b.example").periodKey(context("mbx-new")))
                .isInstanceOf(KeyUnavailableException.class).hasMessageContaining("keyset file unreadable");
    }

    @Test
    void issuingWipesEveryWorkingCopyOfTheSecretAndTheCallerWipesItsOwn() throws Exception {
        List<byte[]> drawn = new ArrayList<>();
        SecureRandom recording = new SecureRandom() {
            @Override
            public void nextBytes(byte[] bytes) {
                super.nextBytes(bytes);
                drawn.add(bytes);
            }
        };
        StubVault vault = new StubVault();

        MailboxKeys.Issued issued = MailboxKeys.issue(vault, "alice@b.example", false, recording);

        // the drawn secret and the copy handed to the vault are zeroed; the caller's copy holds the drawn value
        byte[] drawnSecret = drawn.get(1);
        assertThat(drawnSecret).hasSize(32).isEqualTo(new byte[32]);
        assertThat(vault.stored).hasSize(1);
        assertThat(vault.stored.get(0)).isEqualTo(new byte[32]);
        assertThat(issued.secret()).hasSize(32).isNotEqualTo(new byte[32]);
        issued.wipe();
        assertThat(issued.secret()).isEqualTo(new byte[32]);
    }

    private static KdfContext context(String keyId) {
        return new KdfContext(keyId, "b.example", 900, 2_000_000);
    }

    /** A vault that lists the given keys, derives any key id asked for, and records what reaches it. */
    private static class StubVault implements ManagedKeyVault {
        private final List<KeyInfo> keys;
        final List<String> derived = new ArrayList<>();
        final List<PeriodKey> checked = new ArrayList<>();
        final List<byte[]> stored = new ArrayList<>();

        StubVault(KeyInfo... keys) {
            this.keys = List.of(keys);
        }

        @Override
        public PeriodKey periodKey(KdfContext context) {
            derived.add(context.keyId());
            return PeriodKey.of(context, new byte[32]);
        }

        @Override
        public void macChecked(PeriodKey key, boolean verified) {
            checked.add(key);
        }

        @Override
        public String primaryKeyId(String keyset) throws UnknownKeyException {
            throw new UnknownKeyException("no primary in " + keyset);
        }

        @Override
        public List<KeyInfo> keys() {
            return keys;
        }

        @Override
        public VaultHealth health() {
            return VaultHealth.up("stub");
        }

        @Override
        public KeyInfo importKey(String keyId, String keyset, byte[] primary, KeyStatus status) {
            throw new UnsupportedOperationException();
        }

        @Override
        public KeyInfo replacePrimary(String keyId, String keyset, byte[] primary, Optional<String> expectedPrimary) {
            stored.add(primary);
            return new KeyInfo(keyId, keyset, KeyStatus.PRIMARY, Instant.EPOCH, "stub");
        }

        @Override
        public KeyInfo setStatus(String keyId, KeyStatus status) {
            throw new UnsupportedOperationException();
        }

        @Override
        public org.authhmac.protocol.KeyFingerprint fingerprint(String keyId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }
}
