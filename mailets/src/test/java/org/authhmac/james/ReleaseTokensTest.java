package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Properties;
import org.apache.james.core.MailAddress;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;
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
}
