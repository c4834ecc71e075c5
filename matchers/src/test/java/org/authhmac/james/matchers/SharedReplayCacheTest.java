package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.mailet.MailetException;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.ReplayCache.Outcome;
import org.authhmac.protocol.ReplayCache.SignatureId;
import org.authhmac.protocol.ReplayCache;
import org.authhmac.protocol.ReplayCacheException;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.testing.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SharedReplayCacheTest {
    static final String MESSAGE_FROM_A = "From: alice@a.example\r\nTo: bob@b.example\r\nSubject: hi\r\n\r\nhello\r\n";
    static final String MESSAGE_FROM_C = "From: carl@c.example\r\nTo: bob@b.example\r\nSubject: hi\r\n\r\nhello\r\n";
    static final StaticPeriodKeys KEYS = StaticPeriodKeys.of(Map.of(
            "ab", HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
            "cb", HexFormat.of().parseHex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")));

    final Instant now = Instant.ofEpochSecond(Instant.now().getEpochSecond());

    @TempDir
    Path conf;

    /** The James-wide cache as Guice builds it and the matcher's start-up checks it, sized by a partner file of these lines. */
    static SharedReplayCache sizedBy(String... lines) throws MailetException {
        SharedReplayCache cache = new SharedReplayCache(PartnerPolicyFile.of(TestPartners.of(lines)));
        cache.checkConfiguration();
        return cache;
    }

    byte[] signed(String message, String keyId, String domain) throws Exception {
        byte[] raw = message.getBytes(StandardCharsets.US_ASCII);
        String line = new Signer(SignerSettings.defaults()).sign(new ByteArrayInputStream(raw),
                List.of(new SignRequest(keyId, domain, "b.example", now)), KEYS).get(0);
        return (line + "\r\n" + message).getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aSystemPropertyLeftFromTheOlderConfigurationStopsTheStartUpInsteadOfBeingIgnored() {
        for (String property : List.of("authhmac.replayCache.capacity", "authhmac.replayCache.domainSharePercent")) {
            System.setProperty(property, "100");
            try {
                assertThatThrownBy(() -> sizedBy("partner.a.example.keyset=a-b"))
                        .isInstanceOf(MailetException.class)
                        .hasMessageContaining("'" + property + "'", "auth-hmac-partners.properties",
                                property.substring("authhmac.".length()));
            } finally {
                System.clearProperty(property);
            }
        }
    }

    @Test
    void aFloodOfGenuineMailFromOnePartnerDoesNotMakeAnotherPartnersMailTemperror() throws Exception {
        // given the James-wide cache with room for 40 entries, shared by the partners a.example and c.example
        Verifier verifier = new Verifier(VerifierSettings.defaults(), KEYS,
                sizedBy("partner.a.example.keyset=a-b", "partner.c.example.keyset=c-b", "replayCache.capacity=40"));

        // when a.example's genuine signatures arrive until the cache refuses them, each replayed to several addresses
        List<Verdict> flood = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            byte[] mail = signed(MESSAGE_FROM_A, "ab", "a.example");
            flood.addAll(verifier.verify(new ByteArrayInputStream(mail), now,
                    List.of("user" + i + "@b.example", "other" + i + "@b.example")).values());
        }
        Verdict fromC = verifier.verify(new ByteArrayInputStream(signed(MESSAGE_FROM_C, "cb", "c.example")), now, "bob@b.example");

        // then a.example's own mail waits (temperror) once its share is full, and c.example's mail still passes
        assertThat(flood).anySatisfy(v -> assertThat(v.result()).isEqualTo(AuthResult.TEMPERROR));
        assertThat(flood).filteredOn(v -> v.result() == AuthResult.TEMPERROR)
                .allSatisfy(v -> assertThat(v.reason()).isEqualTo(Reason.INTERNAL_ERROR));
        assertThat(fromC.result()).as(fromC.detail()).isEqualTo(AuthResult.PASS);
    }

    @Test
    void aShareOfAHundredPercentLetsOneDomainFillTheWholeCache() throws Exception {
        Verifier verifier = new Verifier(VerifierSettings.defaults(), KEYS,
                sizedBy("partner.a.example.keyset=a-b", "replayCache.capacity=4", "replayCache.domainSharePercent=100"));

        List<AuthResult> results = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            byte[] mail = signed(MESSAGE_FROM_A, "ab", "a.example");
            results.add(verifier.verify(new ByteArrayInputStream(mail), now, "bob@b.example").result());
        }

        assertThat(results).containsExactly(AuthResult.PASS, AuthResult.PASS, AuthResult.PASS, AuthResult.PASS, AuthResult.TEMPERROR);
    }

    @Test
    void theFillGaugeCountsTheEntriesOfACacheInMemory() throws Exception {
        SharedReplayCache cache = sizedBy("partner.a.example.keyset=a-b");
        Instant expires = now.plusSeconds(600);
        assertThat(cache.entries()).isZero();

        cache.record(new SignatureId("a.example", "ab", "n0000000000000001"), "bob@b.example", 2, expires);
        cache.record(new SignatureId("a.example", "ab", "n0000000000000001"), "carol@b.example", 2, expires);
        cache.record(new SignatureId("a.example", "ab", "n0000000000000002"), "bob@b.example", 1, expires);

        assertThat(cache.entries()).isEqualTo(3);
    }

    @Test
    void aCacheFirstUsedWithoutItsStartUpCheckSizesItselfFromTheFileThen() throws Exception {
        SharedReplayCache cache = new SharedReplayCache(PartnerPolicyFile.of(TestPartners.of("partner.a.example.keyset=a-b",
                "replayCache.capacity=1", "replayCache.domainSharePercent=100")));
        Instant expires = now.plusSeconds(600);

        assertThat(cache.record(new SignatureId("a.example", "ab", "n0000000000000001"), "bob@b.example", 1, expires))
                .isEqualTo(ReplayCache.Outcome.FRESH);
        assertThatThrownBy(() -> cache.record(new SignatureId("a.example", "ab", "n0000000000000002"), "bob@b.example", 1, expires))
                .as("full at the file's capacity of one").isInstanceOf(ReplayCacheException.class);
    }

    @Test
    void aPartnerFileTheReaderRefusesStopsTheCacheNamingTheKey() throws Exception {
        TestPartners.write(conf, "partner.a.example.keyset=a-b", "replayCache.domainSharePercent=25%");
        PartnerPolicyFile file = new PartnerPolicyFile(TestPartners.provider(conf));

        SharedReplayCache cache = new SharedReplayCache(file);

        assertThatThrownBy(cache::checkConfiguration).isInstanceOf(MailetException.class)
                .hasMessageContaining("conf/auth-hmac-partners.properties", "'replayCache.domainSharePercent'");
        assertThatThrownBy(() -> cache.record(new SignatureId("a.example", "ab", "n0000000000000000"), "bob@b.example", 1, now))
                .as("a cache that has no size answers nothing, never fresh").isInstanceOf(ReplayCacheException.class);
    }

    @Test
    void constructingTheCacheReadsNothingSoThatGuiceNeverReportsAFileErrorItself() {
        // James 3.8's Guice cannot read this jar's class files to report a constructor's exception: the matcher's
        // start-up reports it instead, naming the key.
        PartnerPolicyFile unreadable = new PartnerPolicyFile(TestPartners.provider(conf));

        assertThatCode(() -> new SharedReplayCache(unreadable)).doesNotThrowAnyException();
    }

    @Test
    void aCacheWhoseSizeCannotBeReadIsUnhealthyAndSaysWhy() {
        SharedReplayCache cache = new SharedReplayCache(new PartnerPolicyFile(TestPartners.provider(conf)));

        assertThat(cache.health(Duration.ofSeconds(1))).hasValueSatisfying(why -> assertThat(why).contains("auth-hmac"));
    }

    @Test
    void aCacheInMemoryIsHealthy() throws Exception {
        assertThat(sizedBy("partner.a.example.keyset=a-b").health(Duration.ofSeconds(1))).isEmpty();
    }

    static SignatureId signature(String domain, int n) {
        return new SignatureId(domain, "k1", "nonce-" + n + "-0123456789abcdef");
    }

    @Test
    void recordsAReplayIdOnceAndRefusesMoreRecipientsThanTheSignatureAllows() throws Exception {
        MutableClock clock = new MutableClock(now);
        SharedReplayCache cache = new SharedReplayCache(new PartnerPolicies.ReplayCacheSize(100, 25), Duration.ofHours(1), clock);
        Instant expires = now.plus(Duration.ofMinutes(30));

        assertThat(cache.record(signature("a.example", 1), "bob@b.example", 2, expires)).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(signature("a.example", 1), "bob@b.example", 2, expires)).isEqualTo(Outcome.REPLAY);
        assertThat(cache.record(signature("a.example", 1), "carol@b.example", 2, expires)).isEqualTo(Outcome.FRESH);
        assertThat(cache.record(signature("a.example", 1), "dave@b.example", 2, expires)).isEqualTo(Outcome.RECIPIENT_LIMIT);
        assertThat(cache.record(signature("a.example", 2), "bob@b.example", 1, expires)).as("another signature").isEqualTo(Outcome.FRESH);
    }

    @Test
    void remembersASignatureUntilItsExpiryPlusTheRetentionAndThenFreesItsRoom() throws Exception {
        // given a cache of 4 entries, full with one domain's signatures that expire in 30 minutes
        MutableClock clock = new MutableClock(now);
        SharedReplayCache cache = new SharedReplayCache(new PartnerPolicies.ReplayCacheSize(4, 100), Duration.ofHours(1), clock);
        Instant expires = now.plus(Duration.ofMinutes(30));
        for (int i = 0; i < 4; i++) {
            assertThat(cache.record(signature("a.example", i), "bob@b.example", 1, expires)).isEqualTo(Outcome.FRESH);
        }
        assertThatThrownBy(() -> cache.record(signature("a.example", 4), "bob@b.example", 1, expires))
                .as("full").isInstanceOf(ReplayCacheException.class);

        // when the clock reaches the expiry plus the retention, the entries are still known: a copy is a replay
        clock.set(expires.plus(Duration.ofHours(1)));
        assertThat(cache.record(signature("a.example", 0), "bob@b.example", 1, expires)).isEqualTo(Outcome.REPLAY);

        // then one second later they are forgotten: new signatures find room, and a late copy of an old one is refused
        clock.advance(Duration.ofSeconds(1));
        Instant later = clock.instant().plus(Duration.ofMinutes(30));
        assertThat(cache.record(signature("a.example", 5), "bob@b.example", 1, later)).isEqualTo(Outcome.FRESH);
        assertThatThrownBy(() -> cache.record(signature("a.example", 0), "bob@b.example", 1, expires))
                .isInstanceOf(ReplayCacheException.class).hasMessageContaining("cannot tell a replay");
    }

    @Test
    void aStoreThatCannotAnswerMakesTheVerdictTemperrorNeverPass() throws Exception {
        // given the James-wide cache over a store that is down
        ReplayCache down = (signature, replayId, maxRecipients, expiresAt) -> {
            throw new ReplayCacheException("replay store unreachable");
        };
        Verifier verifier = new Verifier(VerifierSettings.defaults(), KEYS, new SharedReplayCache(down));

        // when a genuine mail is verified
        Verdict v = verifier.verify(new ByteArrayInputStream(signed(MESSAGE_FROM_A, "ab", "a.example")), now, "bob@b.example");

        // then it waits for the store
        assertThat(v.result()).isEqualTo(AuthResult.TEMPERROR);
        assertThat(v.detail()).contains("replay store unreachable");
    }
}
