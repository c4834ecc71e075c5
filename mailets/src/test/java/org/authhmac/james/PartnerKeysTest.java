package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.authhmac.james.Metrics;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The receiving server's key path: the real Verifier, PartnerKeys and a real vault (PKCS#12 backend). */
class PartnerKeysTest {
    private static final Instant NOW = Instant.parse("2026-11-22T02:00:10Z");
    private static final String BOB = "bob@b.example";
    private static final byte[] PRIMARY = InMemoryKeyVault.primary("a-b");

    @TempDir
    Path dir;
    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private final RecordingMetricFactory metricFactory = new RecordingMetricFactory();
    private DefaultKeyVault vault;
    private Verifier verifier;
    private int mails;

    @BeforeEach
    void openVault() {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        vault = KeyVaults.open(p, dir, clock, false);
        vault.importKey("ka1", "partner-a", PRIMARY.clone(), KeyStatus.PRIMARY);
        PeriodKeys keys = new PartnerKeys(vault, Map.of("a.example", "partner-a"), new Metrics(metricFactory));
        verifier = new Verifier(VerifierSettings.defaults(), keys, new InMemoryReplayCache(10_000, clock));
    }

    @AfterEach
    void close() {
        vault.close();
    }

    @Test
    void forgedMailsUnderThePartnersKeyIdCostOneDerivationEachContextAndArePublishedAsWasted() throws Exception {
        // given: forgeries with the partner's public key id and d=, five headers each, current and previous period
        List<Instant> times = List.of(NOW, NOW.minusSeconds(5), NOW.minusSeconds(30), NOW, NOW.minusSeconds(1));
        for (int i = 0; i < 200; i++) {
            assertThat(verify(signed(times, "an attacker's own primary!!".getBytes(StandardCharsets.US_ASCII))))
                    .isInstanceOfSatisfying(Verdict.Fail.class, f -> assertThat(f.reason()).isEqualTo(Reason.BAD_MAC));
        }

        // then: one derivation per context (two), nothing cached, both published as wasted
        assertThat(vault.derivationCount()).isEqualTo(2);
        assertThat(vault.cachedKeyCount()).isZero();
        assertThat(metricFactory.countFor(Metrics.VERIFY_WASTED_DERIVATIONS)).isEqualTo(2);

        // and the partner's genuine mail verifies under the key already derived, which is cached from then on
        for (int i = 0; i < 10; i++) {
            assertThat(verify(signed(List.of(NOW), PRIMARY))).isInstanceOf(Verdict.Pass.class);
        }
        assertThat(vault.derivationCount()).isEqualTo(2);
        assertThat(vault.cachedKeyCount()).isEqualTo(1);
        assertThat(metricFactory.countFor(Metrics.VERIFY_WASTED_DERIVATIONS)).isEqualTo(2);
    }

    @Test
    void signatureForADomainThatIsNotAPartnerCostsNoDerivation() throws Exception {
        byte[] message = message("mallory@c.example");
        List<String> lines = new Signer(SignerSettings.defaults()).sign(message, 0, message.length,
                List.of(new SignRequest("ka1", "c.example", "b.example", NOW)), StaticPeriodKeys.of("ka1", PRIMARY));

        Verdict v = verify(prepend(lines, message));

        assertThat(v).isNotInstanceOf(Verdict.Pass.class);
        assertThat(vault.derivationCount()).isZero();
        assertThat(vault.unconfirmedKeyCount()).isZero();
    }

    @Test
    void checksTheKeyIdOfEachSignatureWithoutListingEveryKeyOfTheVault() throws Exception {
        // given: a vault that also holds many mailbox keys, and counts how often it is asked for all of them
        AtomicInteger listings = new AtomicInteger();
        InMemoryKeyVault keys = new InMemoryKeyVault() {
            @Override
            public synchronized List<KeyInfo> keys() {
                listings.incrementAndGet();
                return super.keys();
            }
        };
        keys.add("ka1", "partner-a", KeyStatus.PRIMARY, PRIMARY);
        for (int i = 0; i < 1_000; i++) {
            keys.add("mbx-" + i, "user:u" + i + "@b.example", KeyStatus.PRIMARY, InMemoryKeyVault.primary("u" + i));
        }
        Verifier partnerVerifier = new Verifier(VerifierSettings.defaults(), new PartnerKeys(keys, Map.of("a.example", "partner-a")),
                new InMemoryReplayCache(10_000, clock));

        // when: genuine mail with five headers, and mail under a key id of another keyset
        byte[] genuine = signed(List.of(NOW, NOW, NOW, NOW, NOW), PRIMARY);
        Verdict pass = partnerVerifier.verify(genuine, 0, genuine.length, NOW, List.of(BOB)).get(BOB);
        byte[] message = message("alice@a.example");
        byte[] wrongKeyset = prepend(new Signer(SignerSettings.defaults()).sign(message, 0, message.length,
                List.of(new SignRequest("mbx-7", "a.example", "b.example", NOW)), StaticPeriodKeys.of("mbx-7", InMemoryKeyVault.primary("u7"))),
                message);
        Verdict unknown = partnerVerifier.verify(wrongKeyset, 0, wrongKeyset.length, NOW, List.of(BOB)).get(BOB);

        // then
        assertThat(pass).isInstanceOf(Verdict.Pass.class);
        assertThat(unknown).isInstanceOfSatisfying(Verdict.PermError.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_KEY));
        assertThat(listings).as("listings of the whole vault").hasValue(0);
    }

    private Verdict verify(byte[] mail) {
        return verifier.verify(mail, 0, mail.length, NOW, List.of(BOB)).get(BOB);
    }

    /** a.example's mail with one header per time, made with the given primary under key id ka1. */
    private byte[] signed(List<Instant> times, byte[] primary) throws Exception {
        byte[] message = message("alice@a.example");
        List<SignRequest> requests = new ArrayList<>();
        times.forEach(t -> requests.add(new SignRequest("ka1", "a.example", "b.example", t)));
        List<String> lines = new Signer(SignerSettings.defaults()).sign(message, 0, message.length, requests,
                StaticPeriodKeys.of("ka1", primary));
        return prepend(lines, message);
    }

    private byte[] message(String from) {
        int n = ++mails;
        return ("From: " + from + "\r\nTo: bob@b.example\r\nSubject: note " + n + "\r\nDate: Sun, 22 Nov 2026 02:00:00 +0000\r\n"
                + "Message-ID: <m" + n + "@a.example>\r\n\r\nHello " + n + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] prepend(List<String> lines, byte[] message) {
        byte[] head = (String.join("\r\n", lines) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + message.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(message, 0, out, head.length, message.length);
        return out;
    }
}
