package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.apache.james.core.MailAddress;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyFingerprint;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.UnknownKeyException;
import org.authhmac.testing.MutableClock;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;
import org.authhmac.vault.Keyset;
import org.authhmac.vault.ManagedKeyVault;
import org.authhmac.vault.VaultHealth;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Release addresses, checked against a real vault (PKCS#12 backend). */
class ReleaseTokensTest {
    private static final Instant NOW = Instant.parse("2026-12-05T08:00:00Z");
    private static final String KEY = "Mail1764921600000-abcdefghij0123456789";
    private static final Instant EXPIRY = NOW.plus(Duration.ofDays(7));

    @TempDir
    Path dir;
    private DefaultKeyVault vault;
    private ReleaseTokens tokens;
    private MailAddress bob;
    private MailAddress carol;

    @BeforeEach
    void openVault() throws Exception {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        vault = KeyVaults.open(p, dir, Clock.fixed(NOW, ZoneOffset.UTC), false);
        tokens = at(NOW);
        bob = new MailAddress("bob@b.example");
        carol = new MailAddress("carol@b.example");
    }

    @AfterEach
    void close() {
        vault.close();
    }

    private ReleaseTokens at(Instant now) {
        return new ReleaseTokens(vault, Clock.fixed(now, ZoneOffset.UTC), new SecureRandom());
    }

    @Test
    void anAddressIsValidForItsMailboxAndNamesTheHeldMailAndTheAction() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);

        assertThat(address.getDomain().asString()).isEqualTo("auth-hmac.b.example");
        assertThat(address.getLocalPart()).startsWith("release-").hasSizeLessThanOrEqualTo(64);
        assertThat(ReleaseTokens.isReleaseAddress(address)).isTrue();
        assertThat(tokens.check(address, bob)).isInstanceOfSatisfying(ReleaseTokens.Valid.class, v -> {
            assertThat(v.action()).isEqualTo(ReleaseTokens.Action.RELEASE);
            assertThat(v.expiry()).isEqualTo(EXPIRY);
            assertThat(v.handle().refersTo(KEY)).isTrue();
            assertThat(v.handle().refersTo(KEY + "x")).isFalse();
        });
    }

    @Test
    void theFirstAddressDrawsOneReleaseKeyInTheVaultAndLaterOnesUseIt() throws Exception {
        tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
        at(NOW).address(ReleaseTokens.Action.DISCARD, KEY, carol, EXPIRY);

        assertThat(vault.keys()).filteredOn(k -> k.keyset().equals(ReleaseTokens.KEYSET))
                .singleElement().extracting(KeyInfo::status).isEqualTo(KeyStatus.PRIMARY);
    }

    @Test
    void anotherMailboxCannotUseTheAddress() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);

        assertThat(tokens.check(address, carol)).isInstanceOfSatisfying(ReleaseTokens.Refused.class,
                r -> assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.INVALID));
        assertThat(tokens.check(address, new MailAddress("bob@other.example"))).isInstanceOfSatisfying(ReleaseTokens.Refused.class,
                r -> assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.INVALID));
    }

    @Test
    void theMailboxIsComparedWithoutCase() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);

        assertThat(tokens.check(new MailAddress(address.asString().toUpperCase()), new MailAddress("Bob@B.example")))
                .isInstanceOf(ReleaseTokens.Valid.class);
    }

    @Test
    void everyOneCharacterChangeOfTheTokenIsRefused() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
        String local = address.getLocalPart();
        String alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        for (int i = "release-".length(); i < local.length(); i++) {
            char other = alphabet.charAt((alphabet.indexOf(local.charAt(i)) + 1) % alphabet.length());
            MailAddress altered = new MailAddress(local.substring(0, i) + other + local.substring(i + 1), address.getDomain().asString());
            assertThat(tokens.check(altered, bob)).as("position %d", i).isInstanceOf(ReleaseTokens.Refused.class);
        }
    }

    @Test
    void aReleaseAddressDoesNotDiscardAndADiscardAddressDoesNotRelease() throws Exception {
        MailAddress release = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
        MailAddress swapped = new MailAddress(release.getLocalPart().replaceFirst("^release-", "discard-"), release.getDomain().asString());

        assertThat(tokens.check(swapped, bob)).isInstanceOfSatisfying(ReleaseTokens.Refused.class,
                r -> assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.INVALID));
    }

    @Test
    void anAddressIsRefusedFromItsExpiryOn() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, NOW.plusSeconds(60));

        assertThat(at(NOW.plusSeconds(59)).check(address, bob)).isInstanceOf(ReleaseTokens.Valid.class);
        assertThat(at(NOW.plusSeconds(60)).check(address, bob)).isInstanceOfSatisfying(ReleaseTokens.Refused.class,
                r -> assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.EXPIRED));
    }

    @Test
    void anAddressIsNoLongerValidWhenItsKeyIsRetired() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
        String keyId = vault.primaryKeyId(ReleaseTokens.KEYSET);
        vault.importKey("rel-next", ReleaseTokens.KEYSET, new byte[32], KeyStatus.PRIMARY);
        vault.setStatus(keyId, KeyStatus.RETIRED);

        assertThat(tokens.check(address, bob)).isInstanceOfSatisfying(ReleaseTokens.Refused.class,
                r -> assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.INVALID));
    }

    @Test
    void anAddressMadeBeforeARotationStillWorks() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
        vault.importKey("rel-next", ReleaseTokens.KEYSET, new byte[32], KeyStatus.PRIMARY);

        assertThat(tokens.check(address, bob)).isInstanceOf(ReleaseTokens.Valid.class);
        assertThat(tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY)).isNotEqualTo(address);
    }

    @Test
    void withoutAReleaseKeyNoAddressIsValid() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
        Path other = dir.resolve("other");
        java.nio.file.Files.createDirectories(other);
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        try (DefaultKeyVault empty = KeyVaults.open(p, other, Clock.fixed(NOW, ZoneOffset.UTC), false)) {
            assertThat(new ReleaseTokens(empty, Clock.fixed(NOW, ZoneOffset.UTC), new SecureRandom()).check(address, bob))
                    .isInstanceOfSatisfying(ReleaseTokens.Refused.class,
                            r -> assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.INVALID));
        }
    }

    @Test
    void malformedAddressesAreRefusedWithoutKeyWork() throws Exception {
        for (String local : new String[] {"release", "release-", "release-abc", "keep-" + "a".repeat(40),
                "release-" + "1".repeat(40), "release-" + "a".repeat(41)}) {
            assertThat(tokens.check(new MailAddress(local, "auth-hmac.b.example"), bob)).as(local)
                    .isInstanceOfSatisfying(ReleaseTokens.Refused.class,
                            r -> assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.MALFORMED));
        }
        assertThat(vault.keys()).isEmpty();
    }

    @Test
    void anExpiryBeyondTheLongestValidityIsRefusedBeforeAnyKeyIsDerived() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, NOW.plus(ReleaseTokens.MAX_VALIDITY));
        long before = vault.derivationCount();

        assertThat(at(NOW.minusSeconds(1)).check(address, bob)).isInstanceOfSatisfying(ReleaseTokens.Refused.class,
                r -> assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.MALFORMED));
        assertThat(vault.derivationCount()).isEqualTo(before);
    }

    @Test
    void addressesAreMadeOnlyForAnExpiryWithinTheLongestValidity() {
        assertThatThrownBy(() -> tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, NOW))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, NOW.plus(ReleaseTokens.MAX_VALIDITY).plusSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void onlyTheReleaseSubdomainIsAReleaseAddress() throws Exception {
        assertThat(ReleaseTokens.isReleaseAddress(new MailAddress("release-x@b.example"))).isFalse();
        assertThat(ReleaseTokens.isReleaseAddress(new MailAddress("bob@auth-hmac.b.example"))).isTrue();
        assertThat(ReleaseTokens.isReleaseAddress(new MailAddress("bob@AUTH-HMAC.b.example"))).isTrue();
        assertThat(ReleaseTokens.isReleaseAddress(new MailAddress("bob@xauth-hmac.b.example"))).isFalse();
    }
    @Test
    void anAddressMadeWithAGivenReleaseKeyIsTheSameInEveryVersion() throws Exception {
        // notices already sent carry addresses: an upgrade must check them as before (a pinned vector)
        vault.importKey("rel-fixed", ReleaseTokens.KEYSET, org.authhmac.james.testing.InMemoryKeyVault.primary("release key"),
                KeyStatus.PRIMARY);

        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);

        assertThat(address.asString()).isEqualTo(PINNED_ADDRESS);
        assertThat(tokens.check(new MailAddress(PINNED_ADDRESS), bob)).isInstanceOf(ReleaseTokens.Valid.class);
    }

    /** release, KEY, bob, EXPIRY under the release key "rel-fixed" made from the label "release key" */
    static final String PINNED_ADDRESS = "release-agxem753lkpbzklldt7qaw7u7vogtf2pd7coa3sl@auth-hmac.b.example";

    @Test
    void theReleaseKeyIsDrawnFromTheRandomSourceAndItsSecretWipedOnceStored() throws Exception {
        // given a random source that hands out known bytes and remembers the arrays it filled
        List<byte[]> filled = new ArrayList<>();
        SecureRandom known = new SecureRandom() {
            private byte next = 1;

            @Override
            public void nextBytes(byte[] bytes) {
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = next++;
                }
                filled.add(bytes);
            }
        };

        MailAddress address = new ReleaseTokens(vault, Clock.fixed(NOW, ZoneOffset.UTC), known)
                .address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);

        // then the key id is the first six bytes, the secret the next 32, and that array is zero once the vault has it
        String keyId = vault.primaryKeyId(ReleaseTokens.KEYSET);
        assertThat(keyId).isEqualTo("rel-010203040506");
        assertThat(filled).hasSize(2);
        assertThat(filled.get(1)).containsOnly(0);
        byte[] secret = new byte[32];
        for (int i = 0; i < secret.length; i++) {
            secret[i] = (byte) (7 + i);
        }
        Path other = dir.resolve("same-secret");
        java.nio.file.Files.createDirectories(other);
        try (DefaultKeyVault same = pkcs12(other)) {
            same.importKey(keyId, ReleaseTokens.KEYSET, secret, KeyStatus.PRIMARY);
            assertThat(vault.fingerprint(keyId)).isEqualTo(same.fingerprint(keyId));
        }
        assertThat(tokens.check(address, bob)).isInstanceOf(ReleaseTokens.Valid.class);
    }

    @Test
    void aReleaseKeyAnotherProcessDrewMeanwhileIsUsedInsteadOfASecondOne() throws Exception {
        // given a vault in which another node stores a release key between our look and our draw
        Meanwhile racing = new Meanwhile(vault);

        MailAddress address = new ReleaseTokens(racing, Clock.fixed(NOW, ZoneOffset.UTC), new SecureRandom())
                .address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);

        assertThat(vault.keys()).filteredOn(k -> k.keyset().equals(ReleaseTokens.KEYSET)).extracting(KeyInfo::keyId)
                .containsExactly("rel-other-node");
        assertThat(tokens.check(address, bob)).isInstanceOf(ReleaseTokens.Valid.class);
    }

    @Test
    void aVaultThatCannotListItsKeysMakesNoAddressAndRefusesAsUnavailable() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
        Meanwhile down = new Meanwhile(vault);
        down.down = true;
        ReleaseTokens withDownVault = new ReleaseTokens(down, Clock.fixed(NOW, ZoneOffset.UTC), new SecureRandom());

        assertThat(withDownVault.check(address, bob)).isInstanceOfSatisfying(ReleaseTokens.Refused.class, r -> {
            assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.UNAVAILABLE);
            assertThat(r.detail()).contains("vault offline");
        });
        assertThatThrownBy(() -> withDownVault.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY))
                .isInstanceOf(org.authhmac.protocol.KeyUnavailableException.class);
    }

    @Test
    void aVaultThatCannotDeriveRefusesAsUnavailable() throws Exception {
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
        Meanwhile down = new Meanwhile(vault);
        down.derivationsDown = true;

        assertThat(new ReleaseTokens(down, Clock.fixed(NOW, ZoneOffset.UTC), new SecureRandom()).check(address, bob))
                .isInstanceOfSatisfying(ReleaseTokens.Refused.class,
                        r -> assertThat(r.refusal()).isEqualTo(ReleaseTokens.Refusal.UNAVAILABLE));
    }

    @Test
    void onlyTheReleaseSubdomainOfALocalDomainIsAReleaseAddressAndADomainListThatFailsSaysNo() throws Exception {
        MailAddress here = new MailAddress("release-x@auth-hmac.b.example");
        MailAddress there = new MailAddress("release-x@auth-hmac.c.example");

        assertThat(ReleaseTokens.isReleaseAddress(here, d -> d.asString().equals("b.example"))).isTrue();
        assertThat(ReleaseTokens.isReleaseAddress(there, d -> d.asString().equals("b.example"))).isFalse();
        assertThat(ReleaseTokens.isReleaseAddress(new MailAddress("release-x@b.example"), d -> true)).isFalse();
        assertThat(ReleaseTokens.isReleaseAddress(here, d -> {
            throw new IllegalStateException("domain list unavailable");
        })).isFalse();
    }

    @Test
    void theKeyThatMadeTheTokensIsTriedFirstWhateverNewerKeysTheKeysetHolds() throws Exception {
        // given a release key drawn now, then more keys imported (ACTIVE, rolling out) than a check tries
        MutableClock moving = new MutableClock(NOW);
        try (DefaultKeyVault rotating = KeyVaults.open(pkcs12Properties(), subdirectory("rotating"), moving, false)) {
            ReleaseTokens made = new ReleaseTokens(rotating, Clock.fixed(NOW, ZoneOffset.UTC), new SecureRandom());
            MailAddress address = made.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
            for (int i = 1; i <= ReleaseTokens.MAX_KEYS_TRIED; i++) {
                moving.set(NOW.plus(Duration.ofHours(i)));
                rotating.importKey("rel-next-" + i, ReleaseTokens.KEYSET, org.authhmac.james.testing.InMemoryKeyVault.primary("n" + i),
                        KeyStatus.ACTIVE);
            }

            // then the primary, which made it, is among the keys tried
            assertThat(new ReleaseTokens(rotating, Clock.fixed(NOW, ZoneOffset.UTC), new SecureRandom()).check(address, bob))
                    .isInstanceOf(ReleaseTokens.Valid.class);
        }
    }

    @Test
    void theTokenKeysKeptInMemoryAreBoundedAndDerivedAgainOnceDropped() throws Exception {
        // given a keyset rotated, an hour apart, through one key more than the token keys kept (each made primary,
        // then an address made with it)
        MutableClock moving = new MutableClock(NOW);
        try (DefaultKeyVault rotated = KeyVaults.open(pkcs12Properties(), subdirectory("rotated"), moving, false)) {
            Meanwhile counting = new Meanwhile(rotated);
            ReleaseTokens tokens = new ReleaseTokens(counting, Clock.fixed(NOW, ZoneOffset.UTC), new SecureRandom());
            int kept = ReleaseTokens.MAX_KEYS_TRIED * 4;
            MailAddress beforeLast = null;
            for (int i = 0; i <= kept; i++) {
                moving.set(NOW.plus(Duration.ofHours(i)));
                rotated.importKey("rel-" + i, ReleaseTokens.KEYSET, org.authhmac.james.testing.InMemoryKeyVault.primary("k" + i),
                        KeyStatus.PRIMARY);
                MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, KEY, bob, EXPIRY);
                if (i == kept - 1) {
                    beforeLast = address;
                }
            }
            assertThat(counting.derivations).as("one derivation per key").isEqualTo(kept + 1);

            // when an address of the key before the last is checked: its token key was dropped with the others
            assertThat(tokens.check(beforeLast, bob)).isInstanceOf(ReleaseTokens.Valid.class);

            // then it is derived again, once
            assertThat(counting.derivations).isEqualTo(kept + 2);
            tokens.check(beforeLast, bob);
            assertThat(counting.derivations).isEqualTo(kept + 2);
        }
    }

    private Path subdirectory(String name) throws java.io.IOException {
        return java.nio.file.Files.createDirectories(dir.resolve(name));
    }

    @Test
    void refusalsAndHandlesReadAsTheAuditLineWritesThem() {
        assertThat(java.util.Arrays.stream(ReleaseTokens.Refusal.values()).map(ReleaseTokens.Refusal::word))
                .containsExactly("malformed", "expired", "invalid", "unavailable");
        assertThat(ReleaseTokens.Handle.of(KEY).toString()).matches("[0-9a-f]{16}")
                .isEqualTo(java.util.HexFormat.of().formatHex(sha256(KEY), 0, 8));
    }

    private static byte[] sha256(String s) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private DefaultKeyVault pkcs12(Path in) {
        return KeyVaults.open(pkcs12Properties(), in, Clock.fixed(NOW, ZoneOffset.UTC), false);
    }

    private static Properties pkcs12Properties() {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        return p;
    }

    /**
     * The real vault, seen by a process that loses races: the first look at the release keyset finds none, and another
     * node stores one right after it. {@code down}: listing fails; {@code derivationsDown}: deriving fails;
     * {@code derivations} counts the keys asked for.
     */
    static final class Meanwhile implements ManagedKeyVault {
        private final DefaultKeyVault real;
        private boolean raced;
        boolean down;
        boolean derivationsDown;
        /** Keys asked of the vault (it may answer from its own cache). */
        int derivations;

        Meanwhile(DefaultKeyVault real) {
            this.real = real;
        }

        @Override
        public Optional<Keyset> keyset(String name) {
            if (down) {
                throw new IllegalStateException("vault offline");
            }
            if (name.equals(ReleaseTokens.KEYSET) && !raced && real.keyset(name).isEmpty()) {
                raced = true;
                real.importKey("rel-other-node", ReleaseTokens.KEYSET, new byte[] {
                        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32},
                        KeyStatus.PRIMARY);
                return Optional.empty();
            }
            return real.keyset(name);
        }

        @Override
        public PeriodKey periodKey(KdfContext context) throws UnknownKeyException, KeyUnavailableException {
            if (derivationsDown) {
                throw new KeyUnavailableException("TPM unreachable");
            }
            derivations++;
            return real.periodKey(context);
        }

        @Override
        public KeyInfo importKey(String keyId, String keyset, byte[] primary, KeyStatus status) {
            return real.importKey(keyId, keyset, primary, status);
        }

        @Override
        public KeyInfo replacePrimary(String keyId, String keyset, byte[] primary, Optional<String> expectedPrimary) {
            return real.replacePrimary(keyId, keyset, primary, expectedPrimary);
        }

        @Override
        public KeyFingerprint fingerprint(String keyId) throws UnknownKeyException, KeyUnavailableException {
            return real.fingerprint(keyId);
        }

        @Override
        public KeyInfo setStatus(String keyId, KeyStatus status) throws UnknownKeyException {
            return real.setStatus(keyId, status);
        }

        @Override
        public String primaryKeyId(String keyset) throws UnknownKeyException {
            return real.primaryKeyId(keyset);
        }

        @Override
        public List<KeyInfo> keys() {
            return real.keys();
        }

        @Override
        public VaultHealth health() {
            return real.health();
        }

        @Override
        public void close() {
        }
    }
}
