package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The keyset as a value: the one-primary rule, the pointer moving on promotion, and what it refuses to hold. */
class KeysetTest {
    private static final Instant T0 = Instant.parse("2026-11-22T02:00:00Z");

    private static KeyRecord key(String id, String keyset, KeyStatus status, int minutes) {
        return new KeyRecord(id, keyset, status, T0.plusSeconds(60L * minutes), "pkcs12", id);
    }

    private static Keyset partnerB(KeyRecord... keys) {
        return Keyset.of("partner-b", List.of(keys));
    }

    @Test
    void theKeyWhoseRecordSaysPrimaryIsThePrimary() {
        Keyset ks = partnerB(key("k1", "partner-b", KeyStatus.ACTIVE, 0), key("k2", "partner-b", KeyStatus.PRIMARY, 1));

        assertThat(ks.primaryId()).contains("k2");
        assertThat(ks.name()).isEqualTo("partner-b");
    }

    @Test
    void aKeysetWithoutAPrimaryKeyHasNoPrimary() {
        assertThat(partnerB(key("k1", "partner-b", KeyStatus.ACTIVE, 0)).primaryId()).isEmpty();
    }

    @Test
    void twoPrimaryKeysInOneKeysetAreRefusedNamingTheSecond() {
        assertThatThrownBy(() -> partnerB(key("k1", "partner-b", KeyStatus.PRIMARY, 0), key("k2", "partner-b", KeyStatus.PRIMARY, 1)))
                .isInstanceOf(Keyset.TwoPrimariesException.class)
                .hasMessage("keyset partner-b has two PRIMARY keys (k1, k2)")
                .extracting(e -> ((Keyset.TwoPrimariesException) e).keyId()).isEqualTo("k2");
    }

    @Test
    void aKeyOfAnotherKeysetIsRefused() {
        assertThatThrownBy(() -> partnerB(key("k1", "partner-c", KeyStatus.ACTIVE, 0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("belongs to keyset partner-c");
    }

    @Test
    void aKeyIdTwiceIsRefused() {
        assertThatThrownBy(() -> partnerB(key("k1", "partner-b", KeyStatus.ACTIVE, 0), key("k1", "partner-b", KeyStatus.ACTIVE, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("appears twice");
    }

    @Test
    void promotingAKeyMovesThePointerAndLeavesThePreviousPrimaryActive() {
        Keyset ks = partnerB(key("k1", "partner-b", KeyStatus.PRIMARY, 0), key("k2", "partner-b", KeyStatus.ACTIVE, 1));

        Keyset promoted = ks.withPrimary("k2");

        assertThat(promoted.primaryId()).contains("k2");
        assertThat(promoted.key("k2")).get().extracting(KeyInfo::status).isEqualTo(KeyStatus.PRIMARY);
        assertThat(promoted.key("k1")).get().extracting(KeyInfo::status).isEqualTo(KeyStatus.ACTIVE);
        assertThat(ks.primaryId()).as("the keyset promoted from is unchanged").contains("k1");
    }

    @Test
    void aKeysetWithoutAPrimaryGetsOneByPromotion() {
        Keyset promoted = partnerB(key("k1", "partner-b", KeyStatus.ACTIVE, 0)).withPrimary("k1");

        assertThat(promoted.primaryId()).contains("k1");
        assertThat(promoted.keys()).extracting(KeyInfo::status).containsExactly(KeyStatus.PRIMARY);
    }

    @Test
    void promotingAKeyThatIsNotInTheKeysetIsRefused() {
        Keyset ks = partnerB(key("k1", "partner-b", KeyStatus.PRIMARY, 0));

        assertThatThrownBy(() -> ks.withPrimary("k9")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key k9 is not in keyset partner-b");
    }

    @Test
    void thePrimaryCannotBeRetiredButAnActiveKeyCan() {
        Keyset ks = partnerB(key("k1", "partner-b", KeyStatus.PRIMARY, 0), key("k2", "partner-b", KeyStatus.ACTIVE, 1));

        assertThatThrownBy(() -> ks.withStatus("k1", KeyStatus.RETIRED)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("promote another key first");
        assertThatThrownBy(() -> ks.withStatus("k1", KeyStatus.ACTIVE)).isInstanceOf(IllegalStateException.class);
        Keyset retired = ks.withStatus("k2", KeyStatus.RETIRED);
        assertThat(retired.key("k2")).get().extracting(KeyInfo::status).isEqualTo(KeyStatus.RETIRED);
        assertThat(retired.primaryId()).contains("k1");
    }

    @Test
    void settingTheStatusPrimaryPromotes() {
        Keyset ks = partnerB(key("k1", "partner-b", KeyStatus.PRIMARY, 0), key("k2", "partner-b", KeyStatus.ACTIVE, 1));

        Keyset promoted = ks.withStatus("k2", KeyStatus.PRIMARY);

        assertThat(promoted.primaryId()).contains("k2");
        assertThat(promoted.key("k1")).get().extracting(KeyInfo::status).isEqualTo(KeyStatus.ACTIVE);
    }

    @Test
    void anAddedPrimaryKeyBecomesThePrimaryAndAnAddedActiveKeyLeavesIt() {
        Keyset ks = partnerB(key("k1", "partner-b", KeyStatus.PRIMARY, 0));

        assertThat(ks.with(key("k2", "partner-b", KeyStatus.ACTIVE, 1)).primaryId()).contains("k1");
        Keyset withPrimary = ks.with(key("k3", "partner-b", KeyStatus.PRIMARY, 2));
        assertThat(withPrimary.primaryId()).contains("k3");
        assertThat(withPrimary.key("k1")).get().extracting(KeyInfo::status).isEqualTo(KeyStatus.ACTIVE);
    }

    @Test
    void verificationUsesPrimaryAndActiveKeysOfThisKeysetOnly() {
        Keyset ks = partnerB(key("k1", "partner-b", KeyStatus.PRIMARY, 0), key("k2", "partner-b", KeyStatus.ACTIVE, 1),
                key("k3", "partner-b", KeyStatus.RETIRED, 2));

        assertThat(ks.verifiesWith("k1")).isTrue();
        assertThat(ks.verifiesWith("k2")).isTrue();
        assertThat(ks.verifiesWith("k3")).isFalse();
        assertThat(ks.verifiesWith("k9")).isFalse();
    }

    @Test
    void keysAreListedOldestFirstThenByKeyId() {
        Keyset ks = partnerB(key("k3", "partner-b", KeyStatus.ACTIVE, 5), key("k2", "partner-b", KeyStatus.PRIMARY, 0),
                key("k1", "partner-b", KeyStatus.ACTIVE, 5));

        assertThat(ks.keys()).extracting(KeyInfo::keyId).containsExactly("k2", "k1", "k3");
    }

    @Test
    void aKeysetListedFromAVaultsKeysHoldsOnlyItsOwnAndIsEmptyWithoutAny() {
        List<KeyInfo> all = List.of(key("k1", "partner-b", KeyStatus.PRIMARY, 0).info(), key("k2", "partner-c", KeyStatus.PRIMARY, 0).info());

        assertThat(Keyset.listed("partner-b", all)).get().extracting(Keyset::primaryId).isEqualTo(java.util.Optional.of("k1"));
        assertThat(Keyset.listed("partner-b", all).orElseThrow().keys()).hasSize(1);
        assertThat(Keyset.listed("partner-d", all)).isEmpty();
    }

    @Test
    void aKeysetPrintsItsNamePrimaryAndSizeButNoReference() {
        Keyset ks = partnerB(key("k1", "partner-b", KeyStatus.PRIMARY, 0), key("k2", "partner-b", KeyStatus.ACTIVE, 1));

        assertThat(ks).hasToString("Keyset[partner-b, primary k1, 2 keys]");
    }

    @Test
    void keysetsFindAKeyByItsIdAloneAndRefuseAnIdInTwoKeysets() {
        Keysets all = Keysets.of(List.of(key("k1", "partner-b", KeyStatus.PRIMARY, 0), key("k2", "partner-c", KeyStatus.PRIMARY, 0)));

        assertThat(all.record("k2").keyset()).isEqualTo("partner-c");
        assertThat(all.record("k9")).isNull();
        assertThat(all.size()).isEqualTo(2);
        assertThat(all.records()).extracting(KeyRecord::keyId).containsExactly("k1", "k2");
        assertThat(all.keyset("partner-c")).get().extracting(Keyset::name).isEqualTo("partner-c");
        Keyset otherWithK1 = Keyset.of("partner-c", List.of(key("k1", "partner-c", KeyStatus.ACTIVE, 0)));
        assertThatThrownBy(() -> all.with(otherWithK1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("key id k1 is in keysets");
    }

    @Test
    void keysetsWithAChangedKeysetReplaceItAndKeepTheOthers() {
        Keysets all = Keysets.of(List.of(key("k1", "partner-b", KeyStatus.PRIMARY, 0), key("k2", "partner-c", KeyStatus.PRIMARY, 0)));

        Keysets changed = all.with(all.keyset("partner-b").orElseThrow().with(key("k3", "partner-b", KeyStatus.PRIMARY, 1)));

        assertThat(changed.keyset("partner-b").orElseThrow().primaryId()).contains("k3");
        assertThat(changed.record("k2")).isNotNull();
        assertThat(all.record("k3")).as("the keysets changed from are unchanged").isNull();
    }
}
