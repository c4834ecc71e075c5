package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.mail.MessagingException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.authhmac.james.AuthHmacAttributes;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.ReleaseTokens;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.Repositories;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.testing.MutableClock;
import org.authhmac.testing.Stderr;
import org.authhmac.testing.Stderr.ThrowingRunnable;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyStatus;
import org.authhmac.vault.KeyVault;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * AuthHmacRelease with one request at a time: who may ask, what each refusal says, where a released copy and the
 * reply go, what the audit line and the metrics record. Held mail is built by hand ({@link HeldMails}); the matchers
 * module's ReleaseByReplyPipelineTest runs the same with the real matcher and quarantine.
 */
class AuthHmacReleaseTest {
    static final Instant NOW = Instant.parse("2026-11-22T04:00:00Z");
    static final MailAddress BOB = Mails.address("bob@b.example");
    static final MailAddress CAROL = Mails.address("carol@b.example");
    static final MailAddress LIST = Mails.address("list@b.example");
    static final MailAddress POSTMASTER = Mails.address("postmaster@b.example");
    /** list@b.example is an alias of bob alone; every other address of b.example is its own mailbox. */
    static final RecipientRewriteTable ALIASES = (RecipientRewriteTable) Proxy.newProxyInstance(
            AuthHmacReleaseTest.class.getClassLoader(), new Class<?>[] {RecipientRewriteTable.class}, (proxy, method, args) -> {
                if (method.getName().equals("getResolvedMappings")) {
                    return args[0].equals("list") ? MappingsImpl.fromRawString("bob@b.example") : MappingsImpl.empty();
                }
                throw new UnsupportedOperationException(method.getName());
            });

    @TempDir
    Path dir;
    final MutableClock clock = new MutableClock(NOW);
    final PartnerPolicies partners = TestPartners.of(HeldMails.PARTNERS);
    DefaultKeyVault vault;
    ReleaseTokens tokens;
    MemoryMailRepositoryStore store;
    MailRepository repository;
    FakeMailContext sent;
    RecordingMetricFactory metrics;
    int requests;

    @BeforeEach
    void setUp() throws Exception {
        vault = HeldMails.receiverVault(dir, clock);
        tokens = new ReleaseTokens(vault, clock, new SecureRandom());
        store = Repositories.memoryStore();
        repository = store.select(MailRepositoryUrl.from(HeldMails.REPOSITORY));
        sent = FakeMailContext.builder().postmaster(POSTMASTER).build();
        metrics = new RecordingMetricFactory();
    }

    @AfterEach
    void close() {
        vault.close();
    }

    AuthHmacRelease mailet(String... params) throws MessagingException {
        return mailet(vault, params);
    }

    /** @param partnerKeys the vault the signature re-check reads partner keys from */
    AuthHmacRelease mailet(KeyVault partnerKeys, String... params) throws MessagingException {
        return mailet(partnerKeys, localDomain(sent), params);
    }

    AuthHmacRelease mailet(KeyVault partnerKeys, MailetContext context, String... params) throws MessagingException {
        FakeMailetConfig.Builder config = FakeMailetConfig.builder().mailetName("AuthHmacRelease").mailetContext(context)
                .setProperty("repositoryPath", HeldMails.REPOSITORY);
        for (int i = 0; i < params.length; i += 2) {
            config.setProperty(params[i], params[i + 1]);
        }
        AuthHmacRelease m = new AuthHmacRelease(store, metrics, PartnerPolicyFile.of(partners), ALIASES, partnerKeys, tokens);
        m.init(config.build());
        return m;
    }

    /** Holds a.example's genuine mail for the recipients, expired: its repository key. */
    MailKey holdExpired(MailAddress... recipients) throws Exception {
        return hold(HeldMails.held(HeldMails.signed(HeldMails.partnerA(), names(recipients)), HeldMails.expired()));
    }

    MailKey hold(FakeMail mail) throws MessagingException {
        return repository.store(mail);
    }

    static String[] names(MailAddress... recipients) {
        return java.util.Arrays.stream(recipients).map(MailAddress::asString).toArray(String[]::new);
    }

    MailAddress address(ReleaseTokens.Action action, MailKey key, MailAddress mailbox) throws Exception {
        return tokens.address(action, key.asString(), mailbox, NOW.plus(Duration.ofDays(7)));
    }

    FakeMail request(String authUser, MailAddress... to) throws MessagingException {
        FakeMail.Builder b = FakeMail.builder().name("request-" + (++requests))
                .mimeMessage(Mails.parse(Mails.message("bob@b.example", to[0].asString(), "Re: held", "please")))
                .sender("bob@b.example").recipients(to).state(Mail.DEFAULT);
        if (authUser != null) {
            b.attribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of(authUser)));
        }
        return b.build();
    }

    List<FakeMailContext.SentMail> inState(String state) {
        return sent.getSentMails().stream().filter(s -> s.getState().equals(state)).toList();
    }

    /** The one reply of the request, through the default replyProcessor. */
    FakeMailContext.SentMail reply() {
        assertThat(inState("local-delivery")).hasSize(1);
        return inState("local-delivery").get(0);
    }

    String replySubject() throws MessagingException {
        return reply().getMsg().getSubject();
    }

    String replyText() throws Exception {
        return Mails.text(reply().getMsg());
    }

    List<String> audit(ThrowingRunnable action) throws Exception {
        return AuthHmacQuarantineTest.auditLines(action);
    }

    // ---- released and discarded ----

    @Test
    void aReleaseSendsTheMailboxsCopyToTheReleaseProcessorAndRepliesThroughTheReplyProcessor() throws Exception {
        MailKey key = holdExpired(BOB, CAROL);
        FakeMail request = request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB));

        mailet("releaseProcessor", "after-check", "replyProcessor", "notices").service(request);

        assertThat(inState("after-check")).singleElement().satisfies(copy -> {
            assertThat(copy.getRecipients()).containsExactly(BOB);
            assertThat(copy.getSender()).isEqualTo(Mails.address("alice@a.example"));
            assertThat(copy.getAttributes()).containsKey(AuthHmacAttributes.HELD);
            assertThat(Mails.text(copy.getMsg())).contains("Subject: contract", "X-Auth-HMAC");
        });
        assertThat(inState("notices")).singleElement().satisfies(reply -> {
            assertThat(reply.getRecipients()).containsExactly(BOB);
            assertThat(reply.getSender()).isEqualTo(POSTMASTER);
            assertThat(reply.getAttributes().get(AuthHmacAttributes.NOTICE).getValue().value()).isEqualTo("quarantine");
            assertThat(reply.getMsg().getSubject()).isEqualTo("Held message released");
            assertThat(reply.getMsg().getHeader("Auto-Submitted")).containsExactly("auto-generated");
            assertThat(Mails.text(reply.getMsg())).contains("its signature holds; it is being delivered to your inbox",
                    "Reference: " + key.asString());
        });
        assertThat(sent.getSentMails()).hasSize(2);
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(CAROL);
        assertThat(request.getState()).isEqualTo(Mail.GHOST);
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "released")).isEqualTo(1);
    }

    @Test
    void aDiscardDeletesTheCopyReleasesNothingAndSaysSo() throws Exception {
        MailKey key = holdExpired(BOB);

        mailet().service(request("bob@b.example", address(ReleaseTokens.Action.DISCARD, key, BOB)));

        assertThat(inState("transport")).isEmpty();
        assertThat(replySubject()).isEqualTo("Held message discarded");
        assertThat(replyText()).contains("Your copy was deleted. It cannot be recovered.", "Reference: " + key.asString());
        assertThat(repository.retrieve(key)).isNull();
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "discarded")).isEqualTo(1);
    }

    @Test
    void aDiscardDoesNotNeedTheSignatureToHold() throws Exception {
        // a forgery held expired: bob may still throw his copy away
        MailKey key = hold(HeldMails.held(HeldMails.signed(HeldMails.signer("ka1", InMemoryKeyVault.primary("forger")), "bob@b.example"),
                HeldMails.expired()));

        mailet().service(request("bob@b.example", address(ReleaseTokens.Action.DISCARD, key, BOB)));

        assertThat(replySubject()).isEqualTo("Held message discarded");
        assertThat(repository.retrieve(key)).isNull();
    }

    @Test
    void anAliasRecipientIsReleasedToTheMailboxItEndsInAndLeavesTheHeldMailWithIt() throws Exception {
        // given a mail held for bob's address and for list@, an alias of bob alone
        MailKey key = holdExpired(LIST, CAROL);

        mailet().service(request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB)));

        assertThat(inState("transport")).singleElement().satisfies(copy -> assertThat(copy.getRecipients()).containsExactly(BOB));
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(CAROL);
        assertThat(repository.retrieve(key).getAttribute(AuthHmacAttributes.SETTLED)).hasValueSatisfying(a ->
                assertThat(a.getValue().value()).isEqualTo("bob@b.example"));
    }

    // ---- who asks ----

    @Test
    void withoutSmtpAuthThereIsNoReplyAndTheRefusalIsCountedAndAudited() throws Exception {
        MailKey key = holdExpired(BOB);
        FakeMail request = request(null, address(ReleaseTokens.Action.RELEASE, key, BOB));

        List<String> lines = audit(() -> mailet().service(request));

        assertThat(sent.getSentMails()).isEmpty();
        assertThat(request.getState()).isEqualTo(Mail.GHOST);
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(BOB);
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.not-authenticated")).isEqualTo(1);
        assertThat(lines).singleElement().asString().contains("auth-hmac release mail=" + request.getName(), "action=release",
                "mailbox=-", "sender=bob@b.example", "outcome=refused", "refusal=not-authenticated", "key=-", "reason=-",
                "detail=the_sender_did_not_authenticate_as_a_local_mailbox");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bob", "bob@c.example", "bob@@b.example", ""})
    void anAuthenticatedUserThatIsNoLocalMailboxCountsAsNotAuthenticated(String user) throws Exception {
        MailKey key = holdExpired(BOB);

        mailet().service(request(user, address(ReleaseTokens.Action.RELEASE, key, BOB)));

        assertThat(sent.getSentMails()).isEmpty();
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.not-authenticated")).isEqualTo(1);
    }

    @Test
    void anotherMailboxsAddressIsInvalidAndOnlyTheAskerIsTold() throws Exception {
        MailKey key = holdExpired(BOB, CAROL);

        mailet().service(request("carol@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB)));

        assertThat(inState("transport")).isEmpty();
        assertThat(reply().getRecipients()).containsExactly(CAROL);
        assertThat(replySubject()).isEqualTo("Release refused (invalid)");
        assertThat(replyText()).contains("not valid for your mailbox").doesNotContain("Reference:");
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(BOB, CAROL);
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.invalid")).isEqualTo(1);
    }

    // ---- refusals ----

    @Test
    void selfReleaseOffRefusesEveryRequest() throws Exception {
        MailKey key = holdExpired(BOB);

        mailet("selfRelease", "off").service(request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB)));

        assertThat(inState("transport")).isEmpty();
        assertThat(replySubject()).isEqualTo("Release refused (off)");
        assertThat(replyText()).contains("Release by reply is turned off on this server");
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.off")).isEqualTo(1);
    }

    @Test
    void anAddressThisServerDidNotWriteIsMalformed() throws Exception {
        holdExpired(BOB);
        FakeMail request = request("bob@b.example", new MailAddress("release-abc@auth-hmac.b.example"));

        List<String> lines = audit(() -> mailet().service(request));

        assertThat(replySubject()).isEqualTo("Release refused (malformed)");
        assertThat(replyText()).contains("This is not a release address this server wrote.").doesNotContain("Reference:");
        assertThat(lines).singleElement().asString().contains("action=release", "refusal=malformed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"hello", "-hello"})
    void anAddressWithoutActionIsAuditedWithoutOne(String local) throws Exception {
        FakeMail request = request("bob@b.example", new MailAddress(local, "auth-hmac.b.example"));

        List<String> lines = audit(() -> mailet().service(request));

        assertThat(lines).singleElement().asString().contains("action=- ", "refusal=malformed");
    }

    @Test
    void anExpiredAddressIsRefusedAsExpired() throws Exception {
        MailKey key = holdExpired(BOB);
        MailAddress bobs = tokens.address(ReleaseTokens.Action.RELEASE, key.asString(), BOB, NOW.plusSeconds(60));
        clock.advance(Duration.ofSeconds(60));

        mailet().service(request("bob@b.example", bobs));

        assertThat(replySubject()).isEqualTo("Release refused (expired)");
        assertThat(replyText()).contains("This release address has expired.");
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(BOB);
    }

    @Test
    void aMailNoLongerHeldIsRefusedAsNotHeld() throws Exception {
        MailKey key = holdExpired(BOB);
        MailAddress bobs = address(ReleaseTokens.Action.RELEASE, key, BOB);
        repository.remove(key);

        mailet().service(request("bob@b.example", bobs));

        assertThat(replySubject()).isEqualTo("Release refused (not-held)");
        assertThat(replyText()).contains("The message is no longer held").doesNotContain("Reference:");
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.not-held")).isEqualTo(1);
    }

    @Test
    void aSecondUseIsRefusedAsUsedWithTheReference() throws Exception {
        MailKey key = holdExpired(BOB, CAROL);
        MailAddress bobs = address(ReleaseTokens.Action.RELEASE, key, BOB);
        AuthHmacRelease m = mailet();
        m.service(request("bob@b.example", bobs));
        sent.resetSentMails();

        List<String> lines = audit(() -> m.service(request("bob@b.example", bobs)));

        assertThat(inState("transport")).isEmpty();
        assertThat(replySubject()).isEqualTo("Release refused (used)");
        assertThat(replyText()).contains("Your copy was already released or discarded.", "Reference: " + key.asString());
        assertThat(lines).singleElement().asString().contains("outcome=refused", "refusal=used", "key=" + key.asString(),
                "reason=-", "detail=the_mailbox's_copy_is_already_settled");
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.used")).isEqualTo(1);
    }

    @Test
    void aMailHeldForAReasonNotListedIsRefusedAsNotAllowed() throws Exception {
        MailKey key = hold(HeldMails.held(HeldMails.signed(HeldMails.partnerA(), "bob@b.example"),
                HeldMails.verdict(AuthResult.FAIL, Reason.BAD_MAC, "ka1")));

        List<String> lines = audit(() -> mailet().service(request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB))));

        assertThat(inState("transport")).isEmpty();
        assertThat(replySubject()).isEqualTo("Release refused (not-allowed)");
        assertThat(replyText()).contains("released by an administrator only");
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(BOB);
        assertThat(lines).singleElement().asString().contains("refusal=not-allowed", "reason=bad-mac",
                "detail=held_reason_not_in_selfRelease");
    }

    @Test
    void aDiscardOfAMailHeldForAReasonNotListedIsRefusedToo() throws Exception {
        MailKey key = hold(HeldMails.held(HeldMails.signed(HeldMails.partnerA(), "bob@b.example"),
                HeldMails.verdict(AuthResult.FAIL, Reason.BAD_MAC, "ka1")));

        mailet().service(request("bob@b.example", address(ReleaseTokens.Action.DISCARD, key, BOB)));

        assertThat(replySubject()).isEqualTo("Release refused (not-allowed)");
        assertThat(repository.retrieve(key)).isNotNull();
    }

    @Test
    void theMailboxsOwnVerdictDecidesNotTheMailsFirst() throws Exception {
        // given a mail whose first recipient's verdict (expired) is the mail's, and bob's own is bad-mac
        Map<MailAddress, RecordedVerdict> verdicts = new LinkedHashMap<>();
        verdicts.put(CAROL, HeldMails.expired());
        verdicts.put(BOB, HeldMails.verdict(AuthResult.FAIL, Reason.BAD_MAC, "ka1"));
        MailKey key = hold(HeldMails.held(HeldMails.signed(HeldMails.partnerA(), "carol@b.example", "bob@b.example"), verdicts));

        mailet().service(request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB)));

        assertThat(replySubject()).isEqualTo("Release refused (not-allowed)");
    }

    @Test
    void everyRecipientThatEndsInTheMailboxMustBeHeldForAListedReason() throws Exception {
        // given bob's own address held expired, and the alias that ends in bob held bad-mac
        Map<MailAddress, RecordedVerdict> verdicts = new LinkedHashMap<>();
        verdicts.put(BOB, HeldMails.expired());
        verdicts.put(LIST, HeldMails.verdict(AuthResult.FAIL, Reason.BAD_MAC, "ka1"));
        MailKey key = hold(HeldMails.held(HeldMails.signed(HeldMails.partnerA(), "bob@b.example", "list@b.example"), verdicts));

        mailet().service(request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB)));

        assertThat(replySubject()).isEqualTo("Release refused (not-allowed)");
        assertThat(inState("transport")).isEmpty();
    }

    @Test
    void withoutPerRecipientVerdictsTheMailsVerdictCounts() throws Exception {
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), "bob@b.example");
        HeldMails.expired().writeTo(mail);
        MailKey key = hold(mail);

        mailet().service(request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB)));

        assertThat(replySubject()).isEqualTo("Held message released");
        assertThat(inState("transport")).hasSize(1);
    }

    @Test
    void aMailWithoutAnyVerdictIsNotAllowed() throws Exception {
        MailKey key = hold(HeldMails.signed(HeldMails.partnerA(), "bob@b.example"));

        List<String> lines = audit(() -> mailet().service(request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB))));

        assertThat(replySubject()).isEqualTo("Release refused (not-allowed)");
        assertThat(lines).singleElement().asString().contains("reason=-");
    }

    @Test
    void aForgeryUnderThePartnersKeyIdIsUnverifiedAndStaysHeld() throws Exception {
        MailKey key = hold(HeldMails.held(HeldMails.signed(HeldMails.signer("ka1", InMemoryKeyVault.primary("forger")), "bob@b.example"),
                HeldMails.expired()));

        List<String> lines = audit(() -> mailet().service(request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB))));

        assertThat(inState("transport")).isEmpty();
        assertThat(replySubject()).isEqualTo("Release refused (unverified)");
        assertThat(replyText()).contains("may be forged");
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(BOB);
        assertThat(lines).singleElement().asString().contains("refusal=unverified", "reason=expired", "detail=fail_bad-mac:_MAC_does_not_match");
    }

    @Test
    void aMailUnderAKeyNotYetImportedIsKeyMissingUntilTheKeyIsImported() throws Exception {
        byte[] next = InMemoryKeyVault.primary("a-b next");
        MailKey key = hold(HeldMails.held(HeldMails.signed(HeldMails.signer("ka2", next), "bob@b.example"),
                HeldMails.verdict(AuthResult.PERMERROR, Reason.UNKNOWN_KEY, "ka2")));
        MailAddress bobs = address(ReleaseTokens.Action.RELEASE, key, BOB);
        AuthHmacRelease m = mailet();

        m.service(request("bob@b.example", bobs));

        assertThat(replySubject()).isEqualTo("Release refused (key-missing)");
        assertThat(replyText()).contains("The sender's key is not installed on this server yet.");
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(BOB);

        vault.importKey("ka2", "partner-a", next, KeyStatus.ACTIVE);
        sent.resetSentMails();
        m.service(request("bob@b.example", bobs));

        assertThat(replySubject()).isEqualTo("Held message released");
        assertThat(repository.retrieve(key)).isNull();
    }

    @Test
    void aVaultThatCannotAnswerTheRecheckIsUnavailableAndTheAddressStillWorksLater() throws Exception {
        MailKey key = holdExpired(BOB);
        MailAddress bobs = address(ReleaseTokens.Action.RELEASE, key, BOB);
        InMemoryKeyVault partnerKeys = new InMemoryKeyVault().add("ka1", "partner-a", KeyStatus.PRIMARY, HeldMails.PARTNER_PRIMARY);
        AuthHmacRelease m = mailet(partnerKeys);
        partnerKeys.goDown();

        List<String> lines = audit(() -> m.service(request("bob@b.example", bobs)));

        assertThat(replySubject()).isEqualTo("Release refused (unavailable)");
        assertThat(replyText()).contains("The server cannot check it right now.", "Reference: " + key.asString());
        assertThat(repository.retrieve(key).getRecipients()).containsExactly(BOB);
        assertThat(lines).singleElement().asString().contains("refusal=unavailable", "key=" + key.asString(), "reason=expired",
                "detail=key_source_unavailable").doesNotContain("error=");

        partnerKeys.comeBack();
        sent.resetSentMails();
        m.service(request("bob@b.example", bobs));

        assertThat(replySubject()).isEqualTo("Held message released");
    }

    @Test
    void aRepositoryThatFailsMakesTheRequestUnavailableWithTheErrorAudited() throws Exception {
        MailKey key = holdExpired(BOB);
        MailAddress bobs = address(ReleaseTokens.Action.RELEASE, key, BOB);
        AuthHmacRelease m = new AuthHmacRelease(new SingleRepositoryStore(new Unlistable(repository)), metrics,
                PartnerPolicyFile.of(partners), ALIASES, vault, tokens);
        m.init(FakeMailetConfig.builder().mailetName("AuthHmacRelease").mailetContext(localDomain(sent)).build());
        FakeMail request = request("bob@b.example", bobs);

        List<String> lines = audit(() -> m.service(request));

        assertThat(replySubject()).isEqualTo("Release refused (unavailable)");
        assertThat(request.getState()).isEqualTo(Mail.GHOST);
        assertThat(lines).singleElement().asString().contains("outcome=refused", "refusal=unavailable",
                "error=jakarta.mail.MessagingException:_repository_offline");
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.unavailable")).isEqualTo(1);
    }

    @Test
    void aReplyThatCannotBeSentDoesNotUndoTheReleaseOrTheAuditLine() throws Exception {
        MailKey key = holdExpired(BOB);
        MailetContext noReplies = intercepting(localDomain(sent), "sendMail", args ->
                "local-delivery".equals(args.length > 1 ? args[1] : null), new MessagingException("queue full"));
        FakeMail request = request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB));
        AuthHmacRelease m = mailet(vault, noReplies);

        List<String> err = Stderr.lines(() -> m.service(request));

        assertThat(inState("transport")).hasSize(1);
        assertThat(inState("local-delivery")).isEmpty();
        assertThat(repository.retrieve(key)).isNull();
        assertThat(err).anySatisfy(l -> assertThat(l).contains("org.authhmac.audit", "outcome=released"));
        assertThat(err).anySatisfy(l -> assertThat(l).contains("could not send the reply to release request of bob@b.example"));
    }

    @Test
    void theCopyHandedToTheReleaseProcessorIsDisposedOnceQueued() throws Exception {
        // James's queue keeps a copy of its own; ours must not keep a file-backed message open
        MailKey key = holdExpired(BOB);
        List<Mail> queued = new java.util.ArrayList<>();
        MailetContext recording = intercepting(localDomain(sent), "sendMail", args -> {
            if (args.length == 2 && "transport".equals(args[1])) {
                queued.add((Mail) args[0]);
            }
            return false;
        }, null);

        mailet(vault, recording).service(request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB)));

        assertThat(inState("transport")).hasSize(1);
        assertThat(queued).singleElement().satisfies(copy -> assertThat(copy.getMessage()).isNull());
    }

    @Test
    void aRequestAlsoForAnOrdinaryRecipientGoesOnToThatRecipientOnly() throws Exception {
        MailKey key = holdExpired(BOB);
        FakeMail request = request("bob@b.example", address(ReleaseTokens.Action.RELEASE, key, BOB), CAROL);

        mailet().service(request);

        assertThat(request.getState()).isEqualTo(Mail.DEFAULT);
        assertThat(request.getRecipients()).containsExactly(CAROL);
        assertThat(replySubject()).isEqualTo("Held message released");
    }

    @Test
    void oneMailIsHandledForAtMostFiveDistinctAddressesAndTheRestIsAuditedOnce() throws Exception {
        // given a mail to seven release addresses, two of them the same but for case
        List<MailAddress> to = new java.util.ArrayList<>();
        for (char c = 'a'; c <= 'f'; c++) {
            to.add(new MailAddress("release-" + c, "auth-hmac.b.example"));
        }
        to.add(new MailAddress("RELEASE-A", "auth-hmac.b.example"));
        FakeMail request = request("bob@b.example", to.toArray(MailAddress[]::new));

        List<String> lines = audit(() -> mailet().service(request));

        assertThat(inState("local-delivery")).hasSize(5);
        assertThat(lines).hasSize(6);
        assertThat(lines.get(5)).contains("auth-hmac release mail=" + request.getName(), "action=-", "sender=bob@b.example",
                "outcome=refused", "refusal=too-many", "count=1", "detail=at_most_5_release_addresses_per_mail");
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.too-many")).isEqualTo(1);
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.malformed")).isEqualTo(5);
        assertThat(request.getState()).isEqualTo(Mail.GHOST);
    }

    @Test
    void fiveDistinctAddressesAreAllHandled() throws Exception {
        List<MailAddress> to = new java.util.ArrayList<>();
        for (char c = 'a'; c <= 'e'; c++) {
            to.add(new MailAddress("release-" + c, "auth-hmac.b.example"));
        }
        FakeMail request = request("bob@b.example", to.toArray(MailAddress[]::new));

        List<String> lines = audit(() -> mailet().service(request));

        assertThat(inState("local-delivery")).hasSize(5);
        assertThat(lines).hasSize(5).noneMatch(l -> l.contains("too-many"));
        assertThat(metrics.countFor(ReleaseRequests.METRIC + "refused.too-many")).isZero();
    }

    @Test
    void anAddressInTheReleaseSubdomainOfAnotherServerIsOrdinaryMail() throws Exception {
        MailAddress elsewhere = new MailAddress("release-abc", "auth-hmac.c.example");
        FakeMail request = request("bob@b.example", elsewhere);

        mailet().service(request);

        assertThat(sent.getSentMails()).isEmpty();
        assertThat(request.getRecipients()).containsExactly(elsewhere);
        assertThat(request.getState()).isEqualTo(Mail.DEFAULT);
    }

    // ---- configuration ----

    @Test
    void declaresTheProcessorsItSendsTo() throws Exception {
        assertThat(AuthHmacQuarantineTest.names(mailet().requiredProcessingState())).containsExactly("transport", "local-delivery");
        assertThat(AuthHmacQuarantineTest.names(mailet("releaseProcessor", "after-check", "replyProcessor", "notices")
                .requiredProcessingState())).containsExactly("after-check", "notices");
    }

    @Nested
    class BadConfiguration {
        @ParameterizedTest
        @ValueSource(strings = {"bad-mac", "none", "replay", "body-changed", "duplicate-header", "no-signature", "expired,bad-mac"})
        void aReasonThatMayMeanAForgeryCannotBeSelfReleased(String value) {
            assertThatThrownBy(() -> mailet("selfRelease", value))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'selfRelease'");
        }

        @Test
        void anUnknownParameterIsNamed() {
            assertThatThrownBy(() -> mailet("selfReleaseValidity", "7d"))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("selfReleaseValidity");
        }

        @Test
        void anUnusableRepositoryIsNamed() {
            assertThatThrownBy(() -> mailet("repositoryPath", "cassandra://var/mail/q/"))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("'repositoryPath'");
        }

        @Test
        void aPartnerWhoseKeysetIsTheReleaseKeysIsRefused() {
            PartnerPolicies sharing = TestPartners.of("partner.a.example.keyset=" + ReleaseTokens.KEYSET);
            AuthHmacRelease m = new AuthHmacRelease(store, metrics, PartnerPolicyFile.of(sharing), ALIASES, vault, tokens);

            assertThatThrownBy(() -> m.init(FakeMailetConfig.builder().mailetName("AuthHmacRelease").mailetContext(sent).build()))
                    .isInstanceOf(MessagingException.class).hasMessageContaining("a.example").hasMessageContaining(ReleaseTokens.KEYSET);
        }

        @Test
        void theListedReasonsAreAccepted() throws Exception {
            mailet("selfRelease", "expired, future ,unknown-key,unsupported-version,unsupported-algorithm");
        }
    }

    // ---- helpers ----

    /** b.example's mailet context: a local domain, whose addresses are mailboxes; what is sent is recorded by {@code fake}. */
    static MailetContext localDomain(FakeMailContext fake) {
        return (MailetContext) Proxy.newProxyInstance(AuthHmacReleaseTest.class.getClassLoader(), new Class<?>[] {MailetContext.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("isLocalEmail")) {
                        return ((MailAddress) args[0]).getDomain().asString().equals("b.example");
                    }
                    if (method.getName().equals("isLocalServer")) {
                        return ((org.apache.james.core.Domain) args[0]).asString().equals("b.example");
                    }
                    try {
                        return method.invoke(fake, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** A context that throws {@code failure} from the calls of {@code name} whose arguments {@code when} accepts. */
    static MailetContext intercepting(MailetContext delegate, String name, java.util.function.Predicate<Object[]> when, Exception failure) {
        return (MailetContext) Proxy.newProxyInstance(AuthHmacReleaseTest.class.getClassLoader(), new Class<?>[] {MailetContext.class},
                (proxy, method, args) -> {
                    if (method.getName().equals(name) && when.test(args == null ? new Object[0] : args)) {
                        throw failure;
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** A repository that cannot list its mails (a file system gone away). */
    static final class Unlistable extends ForwardingMailRepository {
        Unlistable(MailRepository delegate) {
            super(delegate);
        }

        @Override
        public Iterator<MailKey> list() throws MessagingException {
            throw new MessagingException("repository offline");
        }
    }
}
