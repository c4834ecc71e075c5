package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.MessagingException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.james.core.MailAddress;
import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.rrt.api.RecipientRewriteTable;
import org.apache.james.rrt.lib.MappingsImpl;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.MailetContext;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailContext;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.ReleaseTokens;
import org.authhmac.james.mailets.AuthHmacQuarantine;
import org.authhmac.james.mailets.AuthHmacRelease;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.Repositories;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.Reason;
import org.authhmac.testing.Stderr;
import org.authhmac.testing.Stderr.ThrowingRunnable;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVaults;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Release by reply as james-conf/receiving chains it: AuthHmacFailed and AuthHmacQuarantine (quarantine, a notice to
 * each recipient) hold a partner mail that failed for its time or its key; a recipient's reply to the notice goes
 * through RecipientIsReleaseAddress and AuthHmacRelease in the root processor. The receiving vault is a real one
 * (PKCS#12), the quarantine James's memory repository, every clock fixed.
 */
class ReleaseByReplyPipelineTest {
    static final Instant SIGNED_AT = Instant.parse("2026-11-22T02:00:00Z");
    /** Two hours after signing: a.example's mail is held expired. */
    static final Instant LATE = SIGNED_AT.plus(Duration.ofHours(2));
    /** When the notices are written and the replies read. */
    static final Instant NOW = LATE.plus(Duration.ofMinutes(3));
    static final String BOB = "bob@b.example";
    static final String CAROL = "carol@b.example";
    static final String MALLORY = "mallory@b.example";
    static final String REPOSITORY = "memory://var/mail/auth-hmac-quarantine/";
    static final String HELD_SUBJECT = "Message held: it failed the X-Auth-HMAC check";
    static final byte[] PARTNER_PRIMARY = InMemoryKeyVault.primary("a-b");
    static final byte[] NEXT_PARTNER_PRIMARY = InMemoryKeyVault.primary("a-b next");
    /** No aliases: every address of b.example is its own mailbox (LocalMailboxes then asks the mailet context). */
    static final RecipientRewriteTable NO_ALIASES = (RecipientRewriteTable) Proxy.newProxyInstance(
            ReleaseByReplyPipelineTest.class.getClassLoader(), new Class<?>[] {RecipientRewriteTable.class}, (proxy, method, args) -> {
                if (method.getName().equals("getResolvedMappings")) {
                    return MappingsImpl.empty();
                }
                throw new UnsupportedOperationException(method.getName());
            });

    @TempDir
    Path dir;
    final PartnerPolicies partners = TestPartners.of("partner.a.example.keyset=partner-a", "authservId=mx.b.example");
    DefaultKeyVault vault;
    FakeMailContext sent;
    MailetContext context;
    MemoryMailRepositoryStore store;
    MailRepository quarantined;
    ReleaseTokens tokens;
    AuthHmacFailed verify;
    AuthHmacQuarantine quarantine;
    RecipientIsReleaseAddress isReleaseAddress;
    AuthHmacRelease release;
    int requests;

    @BeforeEach
    void setUp() throws Exception {
        Properties p = new Properties();
        p.setProperty("vault.backend", "pkcs12");
        p.setProperty("pkcs12.file", "keys.p12");
        p.setProperty("pkcs12.password", "test-password");
        vault = KeyVaults.open(p, dir, Clock.fixed(NOW, ZoneOffset.UTC), false);
        vault.importKey("ka1", "partner-a", PARTNER_PRIMARY.clone(), KeyStatus.PRIMARY);
        sent = FakeMailContext.builder().postmaster(Mails.address("postmaster@b.example")).build();
        context = localDomain(sent, "b.example");
        store = Repositories.memoryStore();
        quarantined = store.select(MailRepositoryUrl.from(REPOSITORY));
        tokens = new ReleaseTokens(vault, Clock.fixed(NOW, ZoneOffset.UTC), new SecureRandom());
        verify = new AuthHmacFailed(vault, new InMemoryReplayCache(1000, Clock.fixed(NOW, ZoneOffset.UTC)),
                new RecordingMetricFactory(), partners);
        verify.init(FakeMatcherConfig.builder().matcherName("AuthHmacFailed").mailetContext(context).build());
        quarantine = new AuthHmacQuarantine(store, new RecordingMetricFactory(), NO_ALIASES, tokens, Clock.fixed(NOW, ZoneOffset.UTC));
        quarantine.init(FakeMailetConfig.builder().mailetName("AuthHmacQuarantine").mailetContext(context)
                .setProperty("action", "quarantine").setProperty("repositoryPath", REPOSITORY)
                .setProperty("notifyRecipients", "true").build());
        isReleaseAddress = new RecipientIsReleaseAddress();
        isReleaseAddress.init(FakeMatcherConfig.builder().matcherName("RecipientIsReleaseAddress").mailetContext(context).build());
        release = release();
    }

    @AfterEach
    void closeVault() {
        vault.close();
    }

    AuthHmacRelease release(String... params) throws MessagingException {
        FakeMailetConfig.Builder config = FakeMailetConfig.builder().mailetName("AuthHmacRelease").mailetContext(context)
                .setProperty("repositoryPath", REPOSITORY);
        for (int i = 0; i < params.length; i += 2) {
            config.setProperty(params[i], params[i + 1]);
        }
        AuthHmacRelease m = new AuthHmacRelease(store, new RecordingMetricFactory(), PartnerPolicyFile.of(partners), NO_ALIASES,
                vault, tokens);
        m.init(config.build());
        return m;
    }

    // ---- a.example's side: what its server sends, signed at SIGNED_AT ----

    /** a.example's genuine mail to the recipients, as b.example accepts it at {@code acceptedAt}. */
    FakeMail fromA(Instant acceptedAt, String... recipients) throws Exception {
        return signedWith(new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, PARTNER_PRIMARY), acceptedAt, recipients);
    }

    FakeMail signedWith(InMemoryKeyVault senderVault, Instant acceptedAt, String... recipients) throws Exception {
        SignWithAuthHmac signer = new SignWithAuthHmac(senderVault, new RecordingMetricFactory(), Clock.fixed(SIGNED_AT, ZoneOffset.UTC),
                TestPartners.of("partner.b.example.keyset=partner-b"));
        signer.init(FakeMailetConfig.builder().mailetName("SignWithAuthHmac").mailetContext(FakeMailContext.defaultContext())
                .setProperty("signingDomain", "a.example").build());
        FakeMail outbound = Mails.outbound(Mails.message("alice@a.example", String.join(", ", recipients), "contract", "Signed copy attached."),
                "alice@a.example", recipients);
        signer.service(outbound);
        return Mails.arrived(outbound, acceptedAt);
    }

    // ---- b.example's side ----

    /** auth-hmac-verify: the matcher fails every recipient, the quarantine holds the mail; its repository key. */
    MailKey receiveAndHold(FakeMail mail, Reason expected) throws Exception {
        Collection<MailAddress> failing = verify.match(mail);
        assertThat(failing).as("recipients held").containsExactlyInAnyOrderElementsOf(mail.getRecipients());
        assertThat(RecordedVerdict.readFrom(mail)).hasValueSatisfying(v -> assertThat(v.reason()).isEqualTo(expected));
        List<MailKey> before = keys();
        quarantine.service(mail);
        List<MailKey> after = keys();
        after.removeAll(before);
        assertThat(after).as("held once").hasSize(1);
        return after.get(0);
    }

    /** The root processor: RecipientIsReleaseAddress, then AuthHmacRelease for the recipients it matched. */
    void root(FakeMail request) throws MessagingException {
        Collection<MailAddress> matched = isReleaseAddress.match(request);
        if (matched != null && !matched.isEmpty()) {
            release.service(request);
        }
    }

    /** A reply to a release address, submitted with SMTP AUTH as {@code authUser} (null: not authenticated). */
    FakeMail request(String authUser, String from, MailAddress to) throws MessagingException {
        FakeMail.Builder b = FakeMail.builder().name("request-" + (++requests))
                .mimeMessage(Mails.parse(Mails.message(from, to.asString(), "Re: " + HELD_SUBJECT, "Yes, I expected it.")))
                .sender(from).recipient(to).state(Mail.DEFAULT);
        if (authUser != null) {
            b.attribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of(authUser)));
        }
        return b.build();
    }

    /** bob (or whoever) replies to his notice from his own account. */
    FakeMail replyFrom(String mailbox, MailAddress to) throws MessagingException {
        return request(mailbox, mailbox, to);
    }

    List<MailKey> keys() throws MessagingException {
        List<MailKey> out = new ArrayList<>();
        for (Iterator<MailKey> it = quarantined.list(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    Mail held(MailKey key) throws MessagingException {
        return quarantined.retrieve(key);
    }

    FakeMailContext.SentMail noticeTo(String mailbox) throws MessagingException {
        FakeMailContext.SentMail last = null;
        for (FakeMailContext.SentMail s : sent.getSentMails()) {
            if (s.getRecipients().contains(Mails.address(mailbox)) && HELD_SUBJECT.equals(s.getMsg().getSubject())) {
                last = s;
            }
        }
        assertThat(last).as("notice to " + mailbox).isNotNull();
        return last;
    }

    /** The Reply-To of the mailbox's notice: where a plain reply goes. */
    MailAddress releaseAddressOf(String mailbox) throws Exception {
        var replyTo = noticeTo(mailbox).getMsg().getReplyTo();
        assertThat(replyTo).as("Reply-To of the notice to " + mailbox).hasSize(1);
        MailAddress address = new MailAddress(replyTo[0].toString());
        assertThat(Mails.text(noticeTo(mailbox).getMsg())).contains(address.asString());
        return address;
    }

    MailAddress discardAddressOf(String mailbox) throws Exception {
        Matcher m = Pattern.compile("To delete your copy instead, write to:\\s+(\\S+)").matcher(Mails.text(noticeTo(mailbox).getMsg()));
        assertThat(m.find()).as("discard address in the notice to " + mailbox).isTrue();
        return new MailAddress(m.group(1));
    }

    List<FakeMailContext.SentMail> released() {
        return sent.getSentMails().stream().filter(s -> s.getState().equals("transport")).toList();
    }

    /** The subjects of the replies to release requests that went to the mailbox, in order (not notices, not copies). */
    List<String> repliesTo(String mailbox) throws MessagingException {
        List<String> out = new ArrayList<>();
        for (FakeMailContext.SentMail s : sent.getSentMails()) {
            String subject = s.getMsg().getSubject();
            if (s.getRecipients().contains(Mails.address(mailbox)) && !HELD_SUBJECT.equals(subject)
                    && !s.getState().equals("transport")) {
                assertThat(s.getState()).as("a reply is delivered locally").isEqualTo("local-delivery");
                out.add(subject);
            }
        }
        return out;
    }

    // ---- the behaviour ----

    @Test
    void bobsReplyToHisNoticeReleasesACopyForBobOnlyAndTheHeldMailKeepsCarol() throws Exception {
        // given a.example's mail to bob and carol, accepted two hours after signing and held expired
        MailKey key = receiveAndHold(fromA(LATE, BOB, CAROL), Reason.EXPIRED);

        // when bob replies to his notice from his own account
        FakeMail request = replyFrom(BOB, releaseAddressOf(BOB));
        root(request);

        // then a copy for bob alone goes on past verification, carol's copy stays held, bob is told
        assertThat(released()).singleElement().satisfies(copy -> {
            assertThat(copy.getRecipients()).containsExactly(Mails.address(BOB));
            assertThat(Mails.text(copy.getMsg())).contains("Subject: contract", "X-Auth-HMAC");
        });
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(CAROL));
        assertThat(repliesTo(BOB)).containsExactly("Held message released");
        assertThat(repliesTo(CAROL)).isEmpty();
        assertThat(request.getState()).as("the request itself is never delivered").isEqualTo(Mail.GHOST);
    }

    @Test
    void theSameAddressUsedASecondTimeIsRefusedAsUsedAndReleasesNothingMore() throws Exception {
        MailKey key = receiveAndHold(fromA(LATE, BOB, CAROL), Reason.EXPIRED);
        MailAddress bobs = releaseAddressOf(BOB);
        root(replyFrom(BOB, bobs));

        root(replyFrom(BOB, bobs));

        assertThat(released()).hasSize(1);
        assertThat(repliesTo(BOB)).containsExactly("Held message released", "Release refused (used)");
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(CAROL));
    }

    @Test
    void carolsOwnAddressStillWorksAfterBobsAndTheLastCopyReleasedEmptiesTheQuarantine() throws Exception {
        MailKey key = receiveAndHold(fromA(LATE, BOB, CAROL), Reason.EXPIRED);
        MailAddress bobs = releaseAddressOf(BOB);
        MailAddress carols = releaseAddressOf(CAROL);
        root(replyFrom(BOB, bobs));
        root(replyFrom(BOB, bobs));

        root(replyFrom(CAROL, carols));

        assertThat(released()).extracting(FakeMailContext.SentMail::getRecipients)
                .containsExactly(List.of(Mails.address(BOB)), List.of(Mails.address(CAROL)));
        assertThat(repliesTo(CAROL)).containsExactly("Held message released");
        assertThat(held(key)).as("no recipient left").isNull();
        assertThat(quarantined.size()).isZero();
    }

    @Test
    void aMailHeldAsSignedInTheFutureIsReleasedTheSameWay() throws Exception {
        // given a mail accepted ten minutes before its signing time (a partner clock ahead)
        MailKey key = receiveAndHold(fromA(SIGNED_AT.minus(Duration.ofMinutes(10)), BOB), Reason.FUTURE);

        root(replyFrom(BOB, releaseAddressOf(BOB)));

        assertThat(released()).singleElement().satisfies(copy -> assertThat(copy.getRecipients()).containsExactly(Mails.address(BOB)));
        assertThat(held(key)).isNull();
    }

    @Test
    void anotherLocalUserWithBobsAddressAndBobInFromIsRefusedAsInvalidAndNothingIsReleased() throws Exception {
        // given bob's notice's address, which mallory has seen
        MailKey key = receiveAndHold(fromA(LATE, BOB, CAROL), Reason.EXPIRED);
        MailAddress bobs = releaseAddressOf(BOB);

        // when mallory, logged in as herself, writes to it with From: bob
        root(request(MALLORY, BOB, bobs));

        // then the authenticated user counts, not the From field: refused, and only mallory hears of it
        assertThat(released()).isEmpty();
        assertThat(repliesTo(MALLORY)).containsExactly("Release refused (invalid)");
        assertThat(repliesTo(BOB)).isEmpty();
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(BOB), Mails.address(CAROL));

        // and bob's own use of it still works
        root(replyFrom(BOB, bobs));
        assertThat(released()).hasSize(1);
    }

    @Test
    void aRequestWithoutSmtpAuthGetsNoReplyReleasesNothingAndIsAuditedAsNotAuthenticated() throws Exception {
        MailKey key = receiveAndHold(fromA(LATE, BOB), Reason.EXPIRED);
        MailAddress bobs = releaseAddressOf(BOB);
        int before = sent.getSentMails().size();
        FakeMail request = request(null, BOB, bobs);

        List<String> audit = auditLines(() -> root(request));

        assertThat(sent.getSentMails()).as("no copy, no reply").hasSize(before);
        assertThat(request.getState()).isEqualTo(Mail.GHOST);
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(BOB));
        assertThat(audit).singleElement().asString().contains("auth-hmac release", "mail=" + request.getName(),
                "action=release", "mailbox=-", "sender=bob@b.example", "outcome=refused", "refusal=not-authenticated");
    }

    @Test
    void anAlteredTokenIsRefusedAndReleasesNothing() throws Exception {
        MailKey key = receiveAndHold(fromA(LATE, BOB), Reason.EXPIRED);
        MailAddress bobs = releaseAddressOf(BOB);
        String local = bobs.getLocalPart();
        char last = local.charAt(local.length() - 1);
        MailAddress altered = new MailAddress(local.substring(0, local.length() - 1) + (last == 'a' ? 'b' : 'a'),
                bobs.getDomain().asString());

        root(replyFrom(BOB, altered));

        assertThat(released()).isEmpty();
        assertThat(repliesTo(BOB)).singleElement().isIn("Release refused (invalid)", "Release refused (malformed)");
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(BOB));
    }

    @Test
    void theDiscardAddressDeletesBobsCopyWithoutReleasingIt() throws Exception {
        MailKey key = receiveAndHold(fromA(LATE, BOB, CAROL), Reason.EXPIRED);

        root(replyFrom(BOB, discardAddressOf(BOB)));

        assertThat(released()).isEmpty();
        assertThat(repliesTo(BOB)).containsExactly("Held message discarded");
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(CAROL));
        // and his release address is used up with it
        root(replyFrom(BOB, releaseAddressOf(BOB)));
        assertThat(released()).isEmpty();
        assertThat(repliesTo(BOB)).containsExactly("Held message discarded", "Release refused (used)");
    }

    @Test
    void aForgeryUnderThePartnersKeyIdHeldAsExpiredIsNotReleasedBecauseItsMacDoesNotHold() throws Exception {
        // given a forger's mail with a.example's key id and an old t=, made with a primary of the forger's own
        InMemoryKeyVault forger = new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("forger"));
        MailKey key = receiveAndHold(signedWith(forger, LATE, BOB), Reason.EXPIRED);

        // when bob asks for it with the address his notice gave him
        root(replyFrom(BOB, releaseAddressOf(BOB)));

        // then it stays held: an administrator decides
        assertThat(released()).isEmpty();
        assertThat(repliesTo(BOB)).containsExactly("Release refused (unverified)");
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(BOB));
    }

    @Test
    void aMailUnderAKeyNotYetImportedIsRefusedAsKeyMissingAndReleasedByTheSameAddressOnceTheKeyIsHere() throws Exception {
        // given a.example promoted its next key before b.example imported it
        InMemoryKeyVault promoted = new InMemoryKeyVault().add("ka2", "partner-b", KeyStatus.PRIMARY, NEXT_PARTNER_PRIMARY);
        MailKey key = receiveAndHold(signedWith(promoted, SIGNED_AT.plusSeconds(5), BOB), Reason.UNKNOWN_KEY);
        MailAddress bobs = releaseAddressOf(BOB);

        // when bob asks before the key is imported
        root(replyFrom(BOB, bobs));

        // then it stays held and the address is not used up
        assertThat(released()).isEmpty();
        assertThat(repliesTo(BOB)).containsExactly("Release refused (key-missing)");
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(BOB));

        // when the operator imports the key and bob asks again with the same address
        vault.importKey("ka2", "partner-a", NEXT_PARTNER_PRIMARY.clone(), KeyStatus.ACTIVE);
        root(replyFrom(BOB, bobs));

        // then it is released
        assertThat(released()).singleElement().satisfies(copy -> assertThat(copy.getRecipients()).containsExactly(Mails.address(BOB)));
        assertThat(repliesTo(BOB)).containsExactly("Release refused (key-missing)", "Held message released");
        assertThat(held(key)).isNull();
    }

    @Test
    void withSelfReleaseOffARequestIsRefusedAsOff() throws Exception {
        MailKey key = receiveAndHold(fromA(LATE, BOB), Reason.EXPIRED);
        release = release("selfRelease", "off");

        root(replyFrom(BOB, releaseAddressOf(BOB)));

        assertThat(released()).isEmpty();
        assertThat(repliesTo(BOB)).containsExactly("Release refused (off)");
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(BOB));
    }

    @Test
    void aBadMacMailsNoticeOffersNoAddressAndATokenMadeForItAnywayIsRefusedAsNotAllowed() throws Exception {
        // given a forgery under a.example's key id, accepted in time: held bad-mac
        InMemoryKeyVault forger = new InMemoryKeyVault().add("ka1", "partner-b", KeyStatus.PRIMARY, InMemoryKeyVault.primary("forger"));
        MailKey key = receiveAndHold(signedWith(forger, SIGNED_AT.plusSeconds(5), BOB), Reason.BAD_MAC);

        // then bob's notice gives him no address to write to, and says an administrator decides
        FakeMailContext.SentMail notice = noticeTo(BOB);
        assertThat(notice.getMsg().getReplyTo()).extracting(Object::toString).containsExactly("postmaster@b.example");
        assertThat(Mails.text(notice.getMsg())).contains("An administrator must decide whether to release it",
                "(bad-mac)").doesNotContain("auth-hmac.b.example");

        // when bob writes to an address made for it all the same (a valid token for him and this held mail)
        MailAddress made = tokens.address(ReleaseTokens.Action.RELEASE, key.asString(), Mails.address(BOB), NOW.plus(Duration.ofDays(1)));
        root(replyFrom(BOB, made));

        // then it is refused for its held reason
        assertThat(released()).isEmpty();
        assertThat(repliesTo(BOB)).containsExactly("Release refused (not-allowed)");
        assertThat(held(key).getRecipients()).containsExactly(Mails.address(BOB));
    }

    @Test
    void twoRequestsWithTheSameAddressAtOnceReleaseOneCopy() throws Exception {
        int rounds = 8;
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < rounds; round++) {
                // given a mail held for bob and carol, and two replies of bob's to the same address
                receiveAndHold(fromA(LATE, BOB, CAROL), Reason.EXPIRED);
                MailAddress bobs = releaseAddressOf(BOB);
                List<FakeMail> both = List.of(replyFrom(BOB, bobs), replyFrom(BOB, bobs));
                CountDownLatch start = new CountDownLatch(1);

                // when both reach the root processor at once
                List<Future<?>> running = new ArrayList<>();
                for (FakeMail request : both) {
                    running.add(two.submit(() -> {
                        start.await();
                        root(request);
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : running) {
                    f.get(30, TimeUnit.SECONDS);
                }

                // then one of them released bob's copy and the other found it used
                assertThat(released()).as("round %d", round).hasSize(round + 1);
            }
        } finally {
            two.shutdownNow();
        }
        assertThat(repliesTo(BOB)).filteredOn("Held message released"::equals).hasSize(rounds);
        assertThat(repliesTo(BOB)).filteredOn("Release refused (used)"::equals).hasSize(rounds);
    }

    @Test
    void eachRequestWritesOneAuditLineWithItsOutcomeTheHeldMailAndItsReason() throws Exception {
        MailKey key = receiveAndHold(fromA(LATE, BOB, CAROL), Reason.EXPIRED);
        MailAddress bobs = releaseAddressOf(BOB);
        FakeMail first = replyFrom(BOB, bobs);
        FakeMail second = replyFrom(BOB, bobs);

        List<String> audit = auditLines(() -> {
            root(first);
            root(second);
        });

        assertThat(audit).hasSize(2);
        assertThat(audit.get(0)).contains("auth-hmac release", "mail=" + first.getName(), "action=release",
                "mailbox=bob@b.example", "sender=bob@b.example", "outcome=released", "key=" + key.asString(),
                "reason=expired", "detail=-").doesNotContain("refusal=");
        assertThat(audit.get(1)).contains("auth-hmac release", "mail=" + second.getName(), "action=release",
                "mailbox=bob@b.example", "outcome=refused", "refusal=used", "key=" + key.asString())
                .doesNotContain(bobs.getLocalPart());
    }

    /** The mailet context of b.example: a local domain, whose addresses are mailboxes; sent mail is recorded by {@code fake}. */
    static MailetContext localDomain(FakeMailContext fake, String domain) {
        return (MailetContext) Proxy.newProxyInstance(ReleaseByReplyPipelineTest.class.getClassLoader(),
                new Class<?>[] {MailetContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("isLocalEmail")) {
                        return ((MailAddress) args[0]).getDomain().asString().equals(domain);
                    }
                    if (method.getName().equals("isLocalServer")) {
                        return ((org.apache.james.core.Domain) args[0]).asString().equals(domain);
                    }
                    try {
                        return method.invoke(fake, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The lines of logger org.authhmac.audit written while {@code action} runs (slf4j-simple writes to stderr). */
    static List<String> auditLines(ThrowingRunnable action) throws Exception {
        return Stderr.linesContaining("org.authhmac.audit", action);
    }
}
