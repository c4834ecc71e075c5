package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.internet.InternetAddress;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.rrt.api.RecipientRewriteTable;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.Metrics;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.ReleaseTokens;
import org.authhmac.james.SelfRelease;
import org.authhmac.james.matchers.AuthHmacFailed;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.Repositories;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.testing.MutableClock;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on release by reply, through the real pieces: A's signature (the protocol Signer), B's
 * AuthHmacFailed (shared replay cache), AuthHmacQuarantine (notices with release addresses), and the request path
 * (ReleaseRequests / AuthHmacRelease with HeldCopies and SignatureRecheck), one real vault (PKCS#12) on B holding the
 * partner key and the release key.
 */
class ReleaseByReplyBreakTest {
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    /** Three days later: every signature of SIGNED_AT is "expired" by then (default window). */
    static final Instant LATE = SIGNED_AT.plus(Duration.ofDays(3));
    static final String REPO = "memory://var/mail/auth-hmac-quarantine/";
    static final byte[] A_PRIMARY = InMemoryKeyVault.primary("a-b");

    @TempDir
    Path dir;
    final MutableClock clock = new MutableClock(SIGNED_AT);
    final RecordingMetricFactory metricFactory = new RecordingMetricFactory();
    DefaultKeyVault vault;
    PartnerPolicies policies;
    AuthHmacFailed matcher;
    FakeMailContext fake;
    MailetContext context;
    MemoryMailRepositoryStore store;
    MailRepository repository;
    /** B's aliases; default: a b.example address is its own mailbox. */
    LocalMailboxes mailboxes = r -> r.getDomain().asString().equals("b.example") ? List.of(r) : List.of();
    ReleaseTokens tokens;
    AuthHmacQuarantine quarantine;
    ReleaseRequests requests;
    int names;

    @BeforeEach
    void setUp() throws Exception {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        vault = KeyVaults.open(p, dir, clock, false);
        vault.importKey("ka1", "partner-a", A_PRIMARY.clone(), KeyStatus.PRIMARY);
        policies = TestPartners.of("authservId=mx.b.example", "partner.a.example.keyset=partner-a");
        matcher = new AuthHmacFailed(vault, new InMemoryReplayCache(10_000, clock), metricFactory, policies);
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").mailetContext(FakeMailContext.defaultContext()).build());
        fake = FakeMailContext.builder().postmaster(Mails.address("postmaster@b.example")).build();
        // James's context: b.example users are local (FakeMailContext says no address is)
        context = (MailetContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {MailetContext.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("isLocalEmail")) {
                        return ((MailAddress) args[0]).getDomain().asString().equals("b.example");
                    }
                    try {
                        return method.invoke(fake, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        store = Repositories.memoryStore();
        repository = store.select(MailRepositoryUrl.from(REPO));
        tokens = new ReleaseTokens(vault, clock, new SecureRandom());
        quarantine = quarantine("10");
        requests = requests(repository);
    }

    @AfterEach
    void close() {
        vault.close();
    }

    AuthHmacQuarantine quarantine(String noticesPerHour) throws Exception {
        return quarantine(noticesPerHour, null);
    }

    AuthHmacQuarantine quarantine(String noticesPerHour, String selfRelease) throws Exception {
        AuthHmacQuarantine q = new AuthHmacQuarantine(store, metricFactory, clock, ctx -> r -> mailboxes.of(r), Optional.of(tokens));
        FakeMailetConfig.Builder config = FakeMailetConfig.builder().mailetName("AuthHmacQuarantine").mailetContext(context)
                .setProperty("repositoryPath", REPO).setProperty("notifyRecipients", "true").setProperty("notifyPostmaster", "false")
                .setProperty("noticesPerHour", noticesPerHour);
        if (selfRelease != null) {
            config.setProperty("selfRelease", selfRelease);
        }
        q.init(config.build());
        return q;
    }

    ReleaseRequests requests(MailRepository repo) {
        return new ReleaseRequests(context, tokens, new HeldCopies(repo, r -> mailboxes.of(r)),
                new SignatureRecheck(policies, vault, clock), SelfRelease.DEFAULT, "transport", "local-delivery", new Metrics(metricFactory));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // helpers

    /** A message signed by a.example's server at {@code at} for r=b.example, rc= {@code rc}. */
    static byte[] signedByA(String raw, Instant at, int rc) throws Exception {
        return signed(raw, at, rc, A_PRIMARY);
    }

    /** The same under any primary: an outsider's forgery names ka1 and d=a.example but has its own key. */
    static byte[] signed(String raw, Instant at, int rc, byte[] primary) throws Exception {
        return signed(raw, at, rc, primary, "b.example");
    }

    /** @param binding r=: the domain b.example, or a mailbox there (the protocol's server-to-client binding) */
    static byte[] signed(String raw, Instant at, int rc, byte[] primary, String binding) throws Exception {
        byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
        List<String> header = new Signer(SignerSettings.defaults()).sign(bytes, 0, bytes.length,
                List.of(new SignRequest("ka1", "a.example", binding, at, rc)), StaticPeriodKeys.of("ka1", primary));
        return (String.join("\r\n", header) + "\r\n" + raw).getBytes(StandardCharsets.UTF_8);
    }

    /** The bytes arrive at B at {@code at} (port 25: anybody can send them) for these envelope recipients. */
    Optional<RecordedVerdict> arrive(byte[] bytes, Instant at, String... recipients) throws Exception {
        clock.set(at);
        FakeMail mail = FakeMail.builder().name("in-" + (++names)).mimeMessage(Mails.parse(bytes)).sender("alice@a.example")
                .recipients(recipients).lastUpdated(Date.from(at)).state("auth-hmac-verify").build();
        Collection<MailAddress> failing = matcher.match(mail);
        Optional<RecordedVerdict> verdict = RecordedVerdict.readFrom(mail);
        if (failing != null && !failing.isEmpty()) {
            mail.setRecipients(failing);
            quarantine.service(mail);
        }
        return verdict;
    }

    /** The Reply-To (release address) of the latest notice to {@code mailbox}, if it offered one. */
    Optional<MailAddress> releaseAddressOf(String mailbox) throws Exception {
        return noticeAddress(mailbox, true);
    }

    Optional<MailAddress> discardAddressOf(String mailbox) throws Exception {
        return noticeAddress(mailbox, false);
    }

    private Optional<MailAddress> noticeAddress(String mailbox, boolean release) throws Exception {
        List<FakeMailContext.SentMail> notices = fake.getSentMails().stream()
                .filter(s -> s.getRecipients().contains(Mails.address(mailbox)))
                .filter(s -> s.getSubject().orElse("").startsWith("Message held")).toList();
        if (notices.isEmpty()) {
            return Optional.empty();
        }
        FakeMailContext.SentMail last = notices.get(notices.size() - 1);
        if (last.getMsg().getReplyTo() == null || !last.getMsg().getReplyTo()[0].toString().contains("@auth-hmac.")) {
            return Optional.empty();
        }
        MailAddress releaseAddress = new MailAddress(((InternetAddress) last.getMsg().getReplyTo()[0]).getAddress());
        if (release) {
            return Optional.of(releaseAddress);
        }
        String text = (String) last.getMsg().getContent();
        int i = text.indexOf("discard-");
        return Optional.of(new MailAddress(text.substring(i, text.indexOf('\n', i)).trim()));
    }

    /** A request from {@code mailbox}, authenticated with SMTP AUTH, to {@code address}; returns the reply's subject. */
    String request(String mailbox, MailAddress address) throws Exception {
        int before = fake.getSentMails().size();
        FakeMail request = FakeMail.builder().name("req-" + (++names))
                .mimeMessage(Mails.parse(Mails.message(mailbox, address.asString(), "Re: Message held", "yes please")))
                .sender(mailbox).recipient(address)
                .attribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of(mailbox))).build();
        requests.handle(request, address);
        return fake.getSentMails().subList(before, fake.getSentMails().size()).stream()
                .filter(s -> s.getState().equals("local-delivery")).map(s -> s.getSubject().orElse("")).findFirst().orElse("(no reply)");
    }

    /** The copies released to transport for this mailbox. */
    List<FakeMailContext.SentMail> releasedTo(String mailbox) {
        return fake.getSentMails().stream().filter(s -> s.getState().equals("transport"))
                .filter(s -> s.getRecipients().contains(Mails.address(mailbox))).toList();
    }

    static String invoice(String to) {
        return Mails.message("billing@a.example", to, "Invoice 2026-11: new bank details", "Please pay to IBAN XX00 1234 from now on.");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // 1. past the window the replay cache forgets; releases by reply count against rc= themselves

    @Test
    void aPartnerMailReplayedAfterItsWindowIsReleasedByReplyForNoMoreMailboxesThanItsRc() throws Exception {
        // a.example sends one invoice to alice@b.example: r=b.example, rc=1
        byte[] genuine = signedByA(invoice("alice@b.example"), SIGNED_AT, 1);
        assertThat(arrive(genuine, SIGNED_AT.plusSeconds(5), "alice@b.example")).get()
                .extracting(RecordedVerdict::reason).isEqualTo(Reason.VERIFIED);

        // whoever holds these bytes replays them to bob within the window: replay, an administrator's decision
        assertThat(arrive(genuine, SIGNED_AT.plusSeconds(60), "bob@b.example")).get()
                .extracting(RecordedVerdict::reason).isEqualTo(Reason.REPLAY);
        assertThat(releaseAddressOf("bob@b.example")).isEmpty();

        // the same bytes three days later, to carol and dave: "expired", like a late original, so each gets an address
        assertThat(arrive(genuine, LATE, "carol@b.example")).get().extracting(RecordedVerdict::reason).isEqualTo(Reason.EXPIRED);
        assertThat(arrive(genuine, LATE.plusSeconds(1), "dave@b.example")).get().extracting(RecordedVerdict::reason).isEqualTo(Reason.EXPIRED);
        clock.set(LATE.plusSeconds(600));
        String carol = request("carol@b.example", releaseAddressOf("carol@b.example").orElseThrow());
        String dave = request("dave@b.example", releaseAddressOf("dave@b.example").orElseThrow());

        // the window's replay cache has forgotten alice's pass, so the first release cannot be told from a late
        // original; but releases by reply count against rc=1 themselves: the second is refused
        assertThat(carol).isEqualTo("Held message released");
        assertThat(dave).isEqualTo("Release refused (unverified)");
        assertThat(releasedTo("dave@b.example")).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // 2. the re-check aligns d= with the From domain the matcher read, as the matcher does on time

    @Test
    void aFromThatMailClientsReadAsAnotherSenderIsRefusedLateAsTheMatcherRefusesItOnTime() throws Exception {
        // a partner server that signs whatever it is given (AuthHmacFailedTest's threat): one mailbox in a.example
        // for the protocol, "ceo@b.example" for the reader
        String raw = Mails.message("\"ceo@b.example\" <billing@a.example>", "bob@b.example", "Urgent: wire today", "x");

        // on time, B's matcher refuses it: from-mismatch, for an administrator only
        assertThat(arrive(signedByA(raw, SIGNED_AT, 1), SIGNED_AT.plusSeconds(5), "bob@b.example")).get()
                .extracting(RecordedVerdict::reason).isEqualTo(Reason.FROM_MISMATCH);
        assertThat(releaseAddressOf("bob@b.example")).isEmpty();

        // the same partner signs it with a t= three days old (or sends it late): "expired", releasable
        clock.set(LATE);
        assertThat(arrive(signedByA(raw, SIGNED_AT.minusSeconds(7), 1), LATE, "bob@b.example")).get()
                .extracting(RecordedVerdict::reason).isEqualTo(Reason.EXPIRED);
        String reply = request("bob@b.example", releaseAddressOf("bob@b.example").orElseThrow());

        assertThat(reply).as("the re-check must apply the matcher's From cross-check (RecipientVerification.aligned)")
                .isNotEqualTo("Held message released");
        assertThat(releasedTo("bob@b.example")).isEmpty();
    }

    @Test
    void aMailFromPartnerCsCfoSignedByPartnerAWithAMailboxBindingIsNotReleased() throws Exception {
        // partner A's server signs r=bob@b.example (a mailbox binding, exempt from author alignment in the protocol,
        // PROTOCOL.md 9 step 7) over From: cfo@c.example, another partner of B. The matcher refuses it on time
        // (RecipientVerification.aligned: a pass must be for the From domain).
        policies = TestPartners.of("authservId=mx.b.example", "partner.a.example.keyset=partner-a", "partner.c.example.keyset=partner-c");
        matcher = new AuthHmacFailed(vault, new InMemoryReplayCache(10_000, clock), metricFactory, policies);
        matcher.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").mailetContext(FakeMailContext.defaultContext()).build());
        requests = requests(repository);
        String raw = Mails.message("cfo@c.example", "bob@b.example", "Change of bank details", "Pay the next invoice to IBAN XX00 6666.");

        assertThat(arrive(signed(raw, SIGNED_AT, 1, A_PRIMARY, "bob@b.example"), SIGNED_AT.plusSeconds(5), "bob@b.example")).get()
                .extracting(RecordedVerdict::reason).isEqualTo(Reason.FROM_MISMATCH);

        // the same, with a t= three days old: expired, and the re-check (bare Verifier) passes it
        assertThat(arrive(signed(raw, SIGNED_AT.minusSeconds(3), 1, A_PRIMARY, "bob@b.example"), LATE, "bob@b.example")).get()
                .extracting(RecordedVerdict::reason).isEqualTo(Reason.EXPIRED);
        String reply = request("bob@b.example", releaseAddressOf("bob@b.example").orElseThrow());

        assertThat(reply).as("a mail From c.example signed by a.example must not be self-releasable").isNotEqualTo("Held message released");
    }

    @Test
    void anOutsidersForgeryWithAnOldTeqIsNotReleased() throws Exception {
        // what the re-check does stop: a forged MAC behind an old t=
        arrive(signed(invoice("bob@b.example"), SIGNED_AT, 1, InMemoryKeyVault.primary("mallory")), LATE, "bob@b.example");
        assertThat(request("bob@b.example", releaseAddressOf("bob@b.example").orElseThrow())).isEqualTo("Release refused (unverified)");
        assertThat(releasedTo("bob@b.example")).isEmpty();
    }

    @Test
    void aLateCopyWithAnAddedReplyToIsNotReleased() throws Exception {
        // what the re-check does stop: a field added to the genuine bytes (coverage, unsigned-header)
        byte[] genuine = signedByA(invoice("alice@b.example"), SIGNED_AT, 1);
        byte[] altered = ("Reply-To: pay@evil.example\r\n" + new String(genuine, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        assertThat(arrive(altered, LATE, "bob@b.example")).get().extracting(RecordedVerdict::reason).isEqualTo(Reason.EXPIRED);
        assertThat(request("bob@b.example", releaseAddressOf("bob@b.example").orElseThrow())).isEqualTo("Release refused (unverified)");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // 3. settling one mailbox's copy leaves the other mailboxes' copies, and the last one empties the quarantine

    @Test
    void bobsDiscardLeavesCarolsCopyWhenBobsAddressAlsoDeliversToCarol() throws Exception {
        // bob@b.example keeps a copy and forwards to carol (RRT: bob -> bob, carol), as James's "forward, keep a copy"
        mailboxes = r -> r.asString().equals("bob@b.example")
                ? List.of(Mails.address("bob@b.example"), Mails.address("carol@b.example"))
                : r.getDomain().asString().equals("b.example") ? List.of(r) : List.of();
        // a genuine mail for bob that arrives late: both mailboxes get a notice with their own addresses
        arrive(signedByA(invoice("bob@b.example"), SIGNED_AT, 1), LATE, "bob@b.example");
        MailAddress carolsRelease = releaseAddressOf("carol@b.example").orElseThrow();
        MailAddress bobsDiscard = discardAddressOf("bob@b.example").orElseThrow();

        // bob deletes "his copy"
        assertThat(request("bob@b.example", bobsDiscard)).isEqualTo("Held message discarded");

        // carol's copy must still be there, and her address must still release it
        assertThat(repository.size()).as("carol's copy is still held").isEqualTo(1);
        assertThat(request("carol@b.example", carolsRelease)).isEqualTo("Held message released");
    }

    @Test
    void aMailForAGroupLeavesTheQuarantineOnceEveryMemberSettledIt() throws Exception {
        mailboxes = r -> r.asString().equals("team@b.example")
                ? List.of(Mails.address("bob@b.example"), Mails.address("carol@b.example"))
                : r.getDomain().asString().equals("b.example") ? List.of(r) : List.of();
        arrive(signedByA(invoice("team@b.example"), SIGNED_AT, 1), LATE, "team@b.example");

        assertThat(request("bob@b.example", releaseAddressOf("bob@b.example").orElseThrow())).isEqualTo("Held message released");
        assertThat(request("carol@b.example", releaseAddressOf("carol@b.example").orElseThrow())).isEqualTo("Held message released");

        // the held mail was for team@ only: once both its mailboxes settled it, nothing is left to hold
        assertThat(repository.size()).as("every mailbox settled: nothing left to hold").isZero();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // 4. key work: a release key is derived once, and only for notices the limiter lets through

    @Test
    void forgedMailWithAnOldTeqCostsAtMostOneKeyDerivationForAllTheNoticesItCauses() throws Exception {
        tokens.address(ReleaseTokens.Action.RELEASE, "warm-up", Mails.address("x@b.example"), SIGNED_AT.plus(Duration.ofDays(7)));
        // an outsider's forgery: partner's d= and key id, t= three days old, its own key, to 40 mailboxes
        byte[] forged = signed(Mails.message("billing@a.example", "all@b.example", "forged", "x"), SIGNED_AT, 40,
                InMemoryKeyVault.primary("not the partner's key"));
        String[] rcpts = new String[40];
        for (int i = 0; i < rcpts.length; i++) {
            rcpts[i] = "user" + i + "@b.example";
        }
        clock.set(LATE);

        // control: with selfRelease off, the forgery costs no derivation at all (the verifier's design)
        quarantine = quarantine("10", "off");
        long before = vault.derivationCount();
        arrive(forged, LATE, rcpts);
        long withoutOffers = vault.derivationCount() - before;

        quarantine = quarantine("10", null);
        before = vault.derivationCount();
        assertThat(arrive(forged, LATE, rcpts)).get().extracting(RecordedVerdict::reason).isEqualTo(Reason.EXPIRED);
        long perForgery = vault.derivationCount() - before;

        // and notices that noticesPerHour suppresses still cost their derivations
        quarantine = quarantine("1", null);
        before = vault.derivationCount();
        for (int i = 0; i < 20; i++) {
            arrive(forged, LATE.plusSeconds(i), "victim@b.example");
        }
        long suppressed = vault.derivationCount() - before;

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(withoutOffers).as("control: derivations without release offers").isZero();
        soft.assertThat(perForgery).as("backend (TPM) derivations for one forged mail with an old t= to 40 mailboxes").isLessThanOrEqualTo(1);
        soft.assertThat(suppressed).as("backend (TPM) derivations for 20 forgeries to one mailbox, 19 notices suppressed").isLessThanOrEqualTo(1);
        soft.assertAll();
    }

    @Test
    void checkingATokenManyTimesDerivesItsKeyAtMostOnce() throws Exception {
        clock.set(LATE);
        MailAddress bob = Mails.address("bob@b.example");
        MailAddress address = tokens.address(ReleaseTokens.Action.RELEASE, "Mail-1", bob, LATE.plus(Duration.ofDays(7)));
        long before = vault.derivationCount();
        for (int i = 0; i < 50; i++) {
            tokens.check(address, bob);
        }
        assertThat(vault.derivationCount() - before).as("derivations for 50 checks of one token").isLessThanOrEqualTo(1);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // 5. one request, many recipients: distinct addresses only, a few at most

    @Test
    void oneRequestWithManyCopiesOfAUsedAddressScansTheQuarantineOnceAndGetsOneReply() throws Exception {
        arrive(signedByA(invoice("bob@b.example"), SIGNED_AT, 1), LATE, "bob@b.example");
        MailAddress discard = discardAddressOf("bob@b.example").orElseThrow();
        // other held mail in the quarantine (it is purged by hand)
        for (int i = 0; i < 200; i++) {
            repository.store(FakeMail.builder().name("other-" + i).mimeMessage(Mails.parse(invoice("x@b.example")))
                    .recipient("x@b.example").build());
        }
        AtomicInteger listed = new AtomicInteger();
        MailRepository counting = (MailRepository) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {MailRepository.class}, (proxy, method, args) -> {
                    if (method.getName().equals("list")) {
                        listed.incrementAndGet();
                    }
                    try {
                        return method.invoke(repository, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        AuthHmacRelease mailet = new AuthHmacRelease(new SingleRepositoryStore(counting), metricFactory, PartnerPolicyFile.of(policies),
                noAliases(), vault, tokens);
        mailet.init(FakeMailetConfig.builder().mailetName("AuthHmacRelease").mailetContext(context).build());
        // used once, properly
        assertThat(request("bob@b.example", discard)).isEqualTo("Held message discarded");

        // then one SMTP transaction, 500 RCPT TO of the used address (case variants, as SMTP allows)
        List<MailAddress> rcpts = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            rcpts.add(new MailAddress((i % 2 == 0 ? discard.getLocalPart().toUpperCase() : discard.getLocalPart()), discard.getDomain().asString()));
        }
        int sentBefore = fake.getSentMails().size();
        listed.set(0);
        mailet.service(FakeMail.builder().name("req-flood").mimeMessage(Mails.parse(Mails.message("bob@b.example", "x@b.example", "x", "x")))
                .sender("bob@b.example").recipients(rcpts)
                .attribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of("bob@b.example"))).build());

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(listed.get()).as("full listings of the quarantine (201 held mails) for one request").isLessThanOrEqualTo(1);
        soft.assertThat(fake.getSentMails().size() - sentBefore).as("replies for one request").isLessThanOrEqualTo(1);
        soft.assertAll();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // 6. the primary key is tried first, whatever older keys are still ACTIVE

    @Test
    void afterFourRotationsThatKeepOldKeysActiveNewAddressesStillWork() throws Exception {
        MailAddress bob = Mails.address("bob@b.example");
        tokens.address(ReleaseTokens.Action.RELEASE, "Mail-0", bob, SIGNED_AT.plus(Duration.ofDays(7)));
        for (int i = 1; i <= 4; i++) {
            clock.set(SIGNED_AT.plus(Duration.ofDays(30L * i)));
            String current = vault.keyset(ReleaseTokens.KEYSET).orElseThrow().primaryId().orElseThrow();
            // keys rotate add + promote; the old one is ACTIVE until retired (KEYS.md, "rotation")
            vault.replacePrimary("rel-2027-0" + i, ReleaseTokens.KEYSET, InMemoryKeyVault.primary("rel" + i), Optional.of(current));
        }
        Instant now = clock.instant();
        MailAddress fresh = tokens.address(ReleaseTokens.Action.RELEASE, "Mail-1", bob, now.plus(Duration.ofDays(7)));

        assertThat(tokens.check(fresh, bob)).as("an address made a second ago with the primary key")
                .isInstanceOf(ReleaseTokens.Valid.class);
    }

    static RecipientRewriteTable noAliases() {
        return (RecipientRewriteTable) Proxy.newProxyInstance(ReleaseByReplyBreakTest.class.getClassLoader(),
                new Class<?>[] {RecipientRewriteTable.class}, (proxy, method, args) -> null);
    }
}
