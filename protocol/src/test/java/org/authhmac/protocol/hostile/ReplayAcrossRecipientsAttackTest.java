package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.authhmac.protocol.fuzz.FuzzFixtures.ACCEPTED_AT;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.ReplayScope;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A captured genuine mail replayed to other addresses of the domain it was signed for (docs/PROTOCOL.md 11):
 * under the default replay scope {@code recipient} it passes for at most {@code rc} distinct mailboxes, and an
 * alias of a mailbox that already passed is that mailbox again.
 */
class ReplayAcrossRecipientsAttackTest {
    static final String MESSAGE = String.join("\r\n",
            "From: Alice <alice@a.example>",
            "To: Bob <bob@b.example>",
            "Subject: Pay invoice 17",
            "Date: Sat, 22 Nov 2025 02:00:00 +0000",
            "Message-ID: <inv17@a.example>",
            "",
            "Please pay 100 EUR to account 1234.",
            "");

    static byte[] signed(SignRequest request) throws Exception {
        return signed(request, MESSAGE);
    }

    static byte[] signed(SignRequest request, String message) throws Exception {
        List<String> lines = new Signer(SignerSettings.defaults())
                .sign(new ByteArrayInputStream(bytes(message)), List.of(request), FuzzFixtures.keys());
        return bytes(lines.get(0) + "\r\n" + message);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static Verdict verify(Verifier verifier, byte[] mail, String recipient) {
        return verifier.verify(new ByteArrayInputStream(mail), ACCEPTED_AT, recipient);
    }

    static List<String> addresses(int n) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add("user" + i + "@b.example");
        }
        return out;
    }

    @Test
    void aMailSignedForOneRecipientReplayedToAThousandAddressesOfTheDomainPassesForOneOfThem() throws Exception {
        // given a genuine mail signed for b.example with one recipient (rc=1, the default)
        byte[] mail = signed(FuzzFixtures.request());
        Verifier verifier = FuzzFixtures.verifier();

        // when it is replayed to 1,000 addresses of the domain, one SMTP transaction each
        long passes = 0;
        List<Reason> others = new ArrayList<>();
        for (String address : addresses(1000)) {
            Verdict v = verify(verifier, mail, address);
            if (v.result() == AuthResult.PASS) {
                passes++;
            } else {
                others.add(v.reason());
            }
        }

        // then it passes once, and every other copy fails as a replay
        assertThat(passes).isEqualTo(1);
        assertThat(others).hasSize(999).containsOnly(Reason.REPLAY);
    }

    @Test
    void aMailSignedForOneRecipientReplayedToAThousandAddressesInOneTransactionPassesForOneOfThem() throws Exception {
        byte[] mail = signed(FuzzFixtures.request());

        Map<String, Verdict> verdicts = FuzzFixtures.verifier().verify(new ByteArrayInputStream(mail), ACCEPTED_AT, addresses(1000));

        assertThat(verdicts.values().stream().filter(v -> v.result() == AuthResult.PASS)).hasSize(1);
        assertThat(verdicts.values().stream().filter(v -> v.reason() == Reason.REPLAY)).hasSize(999);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bob+x@b.example", "\"bob\"@b.example", "BOB@b.example", "Bob+Invoices@B.Example",
            "\"bob+x\"@b.example", "postmaster@b.example"})
    void afterBobPassedAnAliasOfBobOrAnotherMailboxFailsAsReplay(String replayedTo) throws Exception {
        // given a genuine mail for bob that passed
        byte[] mail = signed(FuzzFixtures.request());
        Verifier verifier = FuzzFixtures.verifier();
        assertThat(verify(verifier, mail, "bob@b.example").result()).isEqualTo(AuthResult.PASS);

        // when the captured copy is replayed to an address that reaches bob's mailbox, or to another mailbox
        Verdict v = verify(verifier, mail, replayedTo);

        // then it is a replay
        assertThat(v.result()).isEqualTo(AuthResult.FAIL);
        assertThat(v.reason()).isEqualTo(Reason.REPLAY);
    }

    @Test
    void aMailSignedForThreeRecipientsReplayedToAThousandAddressesPassesForThreeOfThem() throws Exception {
        byte[] mail = signed(FuzzFixtures.request().withRecipientCount(3));
        Verifier verifier = FuzzFixtures.verifier();

        long passes = addresses(1000).stream().filter(a -> verify(verifier, mail, a).result() == AuthResult.PASS).count();

        assertThat(passes).isEqualTo(3);
    }

    @Test
    void aPartialDeliveryRetryPassesForEveryRecipientTheSignatureCounted() throws Exception {
        // given a mail signed for three recipients of b.example (rc=3); the first transaction delivers two
        byte[] mail = signed(FuzzFixtures.request().withRecipientCount(3));
        Verifier verifier = FuzzFixtures.verifier();
        Map<String, Verdict> first = verifier.verify(new ByteArrayInputStream(mail), ACCEPTED_AT,
                List.of("bob@b.example", "carol@b.example"));

        // when the sender retries the third recipient later with the same signature, and someone replays it once more
        Verdict retry = verifier.verify(new ByteArrayInputStream(mail), ACCEPTED_AT.plusSeconds(600), "dave@b.example");
        Verdict fourth = verifier.verify(new ByteArrayInputStream(mail), ACCEPTED_AT.plusSeconds(660), "erin@b.example");

        // then all three pass, and a fourth mailbox is beyond rc
        assertThat(first.values()).extracting(Verdict::result).containsOnly(AuthResult.PASS);
        assertThat(retry.result()).isEqualTo(AuthResult.PASS);
        assertThat(fourth.reason()).isEqualTo(Reason.REPLAY);
        assertThat(fourth.detail()).contains("rc=3");
    }

    @Test
    void recipientsOfOneVerificationThatReachTheSameMailboxShareOneVerdict() throws Exception {
        byte[] mail = signed(FuzzFixtures.request());

        Map<String, Verdict> verdicts = FuzzFixtures.verifier().verify(new ByteArrayInputStream(mail), ACCEPTED_AT,
                List.of("bob@b.example", "bob+news@b.example", "BOB@b.example", "carol@b.example"));

        assertThat(verdicts.get("bob@b.example").result()).isEqualTo(AuthResult.PASS);
        assertThat(verdicts.get("bob+news@b.example").result()).isEqualTo(AuthResult.PASS);
        assertThat(verdicts.get("BOB@b.example").result()).isEqualTo(AuthResult.PASS);
        assertThat(verdicts.get("carol@b.example").reason()).as("a second mailbox, beyond rc=1").isEqualTo(Reason.REPLAY);
    }

    @Test
    void underSignatureScopeOneVerificationPassesForAllItsRecipientsAndAnyLaterOneIsAReplay() throws Exception {
        byte[] mail = signed(FuzzFixtures.request());
        Verifier verifier = FuzzFixtures.verifier(VerifierSettings.defaults().withReplayScope(ReplayScope.SIGNATURE));

        Map<String, Verdict> together = verifier.verify(new ByteArrayInputStream(mail), ACCEPTED_AT,
                List.of("bob@b.example", "carol@b.example", "dave@b.example"));
        Verdict later = verify(verifier, mail, "bob@b.example");

        assertThat(together.values()).extracting(Verdict::result).containsOnly(AuthResult.PASS);
        assertThat(later.reason()).isEqualTo(Reason.REPLAY);
    }

    @Test
    void theSubAddressSeparatorIsConfigurable() throws Exception {
        byte[] mail = signed(FuzzFixtures.request().withRecipientCount(2));
        Verifier dash = FuzzFixtures.verifier(VerifierSettings.defaults().withSubAddressSeparator("-"));
        Verifier none = FuzzFixtures.verifier(VerifierSettings.defaults().withSubAddressSeparator(""));
        for (Verifier v : List.of(dash, none)) {
            assertThat(verify(v, mail, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
        }

        assertThat(verify(dash, mail, "bob-news@b.example").reason()).as("'-' separates detail").isEqualTo(Reason.REPLAY);
        assertThat(verify(none, mail, "bob+news@b.example").result()).as("no sub-addressing: another mailbox, within rc=2")
                .isEqualTo(AuthResult.PASS);
    }

    @Test
    void aFloodOfGenuineMailFromOnePartnerFillsOnlyItsShareOfTheCache() throws Exception {
        // given a cache of 40 entries of which one signing domain may hold 10, and keys for a.example and c.example
        InMemoryReplayCache cache = new InMemoryReplayCache(40, 10, Duration.ZERO, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC));
        Verifier verifier = new Verifier(VerifierSettings.defaults(), FuzzFixtures.keys(), cache);

        // when a.example's genuine signatures (distinct nonces) arrive until the cache refuses them
        List<Verdict> flood = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            byte[] mail = signed(new SignRequest(FuzzFixtures.KEY_ID, "a.example", "b.example", FuzzFixtures.SIGNED_AT));
            flood.add(verify(verifier, mail, "user" + i + "@b.example"));
        }
        byte[] fromC = signed(new SignRequest(FuzzFixtures.KEY_ID, "c.example", "b.example", FuzzFixtures.SIGNED_AT),
                MESSAGE.replace("alice@a.example", "carol@c.example"));

        // then only a.example's mail waits, and c.example's passes
        assertThat(flood.stream().filter(v -> v.result() == AuthResult.PASS)).hasSize(10);
        assertThat(flood.stream().filter(v -> v.result() == AuthResult.TEMPERROR)).hasSize(20);
        assertThat(verify(verifier, fromC, "bob@b.example").result()).isEqualTo(AuthResult.PASS);
        assertThat(cache.size("a.example")).isEqualTo(10);
    }
}
