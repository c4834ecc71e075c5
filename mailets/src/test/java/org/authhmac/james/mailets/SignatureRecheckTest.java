package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;
import org.apache.mailet.base.test.FakeMail;
import org.authhmac.james.PartnerPolicies;
import org.authhmac.james.RecordedVerdict;
import org.authhmac.james.testing.InMemoryKeyVault;
import org.authhmac.james.testing.Mails;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.Reason;
import org.authhmac.protocol.Verdict;
import org.authhmac.testing.MutableClock;
import org.authhmac.vault.DefaultKeyVault;
import org.authhmac.vault.KeyStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check a release makes first: does the held mail's signature hold apart from its time? */
class SignatureRecheckTest {
    static final String BOB = "bob@b.example";

    @TempDir
    Path dir;
    final PartnerPolicies partners = TestPartners.of(HeldMails.PARTNERS, "partner.c.example.keyset=partner-c");
    final MutableClock clock = new MutableClock(Instant.parse("2026-12-05T08:00:00Z"));
    DefaultKeyVault vault;
    SignatureRecheck recheck;

    @BeforeEach
    void openVault() {
        vault = HeldMails.receiverVault(dir, clock);
        recheck = new SignatureRecheck(partners, vault, clock);
    }

    @AfterEach
    void close() {
        vault.close();
    }

    @Test
    void aGenuineMailHeldExpiredPassesAtItsSigningTime() throws Exception {
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), BOB);

        Verdict v = recheck.recheck(mail, Mails.address(BOB), HeldMails.expired());

        assertThat(v).isInstanceOf(Verdict.Pass.class);
    }

    @Test
    void itCanBeCheckedAgainWithoutCountingAsAReplay() throws Exception {
        // a release refused for a moment (vault down) is asked again; each check has its own replay cache
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), BOB);

        recheck.recheck(mail, Mails.address(BOB), HeldMails.expired());
        Verdict again = recheck.recheck(mail, Mails.address(BOB), HeldMails.expired());

        assertThat(again).isInstanceOf(Verdict.Pass.class);
    }

    @Test
    void aForgeryUnderThePartnersKeyIdFailsWithBadMac() throws Exception {
        FakeMail mail = HeldMails.signed(HeldMails.signer("ka1", InMemoryKeyVault.primary("forger")), BOB);

        Verdict v = recheck.recheck(mail, Mails.address(BOB), HeldMails.expired());

        assertThat(v.result()).isEqualTo(AuthResult.FAIL);
        assertThat(v.reason()).isEqualTo(Reason.BAD_MAC);
    }

    @Test
    void aKeyTheVaultDoesNotHoldIsStillUnknown() throws Exception {
        FakeMail mail = HeldMails.signed(HeldMails.signer("ka2", InMemoryKeyVault.primary("a-b next")), BOB);

        Verdict v = recheck.recheck(mail, Mails.address(BOB), HeldMails.verdict(AuthResult.PERMERROR, Reason.UNKNOWN_KEY, "ka2"));

        assertThat(v.result()).isEqualTo(AuthResult.PERMERROR);
        assertThat(v.reason()).isEqualTo(Reason.UNKNOWN_KEY);
    }

    @Test
    void theSignatureIsCheckedForTheRecipientAsked() throws Exception {
        // signed for b.example's recipients only
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), BOB);

        Verdict v = recheck.recheck(mail, Mails.address("bob@c.example"), HeldMails.expired());

        assertThat(v).isNotInstanceOf(Verdict.Pass.class);
        assertThat(v.reason()).isEqualTo(Reason.WRONG_RECIPIENT);
    }

    @Test
    void aChangedBodyFails() throws Exception {
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), BOB);
        mail.getMessage().setText("Pay to IBAN X instead.");
        mail.getMessage().saveChanges();

        Verdict v = recheck.recheck(mail, Mails.address(BOB), HeldMails.expired());

        assertThat(v.result()).isEqualTo(AuthResult.FAIL);
    }

    @Test
    void aVaultThatCannotAnswerIsATemperror() throws Exception {
        InMemoryKeyVault down = new InMemoryKeyVault().add("ka1", "partner-a", KeyStatus.PRIMARY, HeldMails.PARTNER_PRIMARY);
        down.goDown();
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), BOB);

        Verdict v = new SignatureRecheck(partners, down, clock).recheck(mail, Mails.address(BOB), HeldMails.expired());

        assertThat(v.result()).isEqualTo(AuthResult.TEMPERROR);
    }

    @Test
    void aVerdictWithoutSigningTimeOrForADomainThatIsNoPartnerIsMalformed() throws Exception {
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), BOB);
        RecordedVerdict noTime = new RecordedVerdict(AuthResult.FAIL, Reason.EXPIRED, Optional.of("ka1"), Optional.of("a.example"),
                Optional.empty(), "");
        FakeMail fromNoPartner = HeldMails.signed(HeldMails.partnerA(), BOB);
        HeldMails.fromDomainRead(fromNoPartner, "d.example");
        RecordedVerdict noPartner = new RecordedVerdict(AuthResult.FAIL, Reason.EXPIRED, Optional.of("ka1"),
                Optional.of("d.example"), Optional.of(HeldMails.SIGNED_AT), "");

        assertThat(recheck.recheck(mail, Mails.address(BOB), noTime)).isInstanceOfSatisfying(Verdict.PermError.class,
                e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
        assertThat(recheck.recheck(fromNoPartner, Mails.address(BOB), noPartner)).isInstanceOfSatisfying(Verdict.PermError.class,
                e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    @Test
    void aVerdictThatNamesNoSigningDomainIsAFromMismatch() throws Exception {
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), BOB);
        RecordedVerdict noDomain = new RecordedVerdict(AuthResult.FAIL, Reason.EXPIRED, Optional.of("ka1"), Optional.empty(),
                Optional.of(HeldMails.SIGNED_AT), "");

        assertThat(recheck.recheck(mail, Mails.address(BOB), noDomain)).isInstanceOfSatisfying(Verdict.Fail.class,
                f -> assertThat(f.reason()).isEqualTo(Reason.FROM_MISMATCH));
    }

    @Test
    void withoutTheFromDomainTheMatcherReadItIsAFromMismatch() throws Exception {
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), BOB);
        mail.removeAttribute(org.authhmac.james.AuthHmacAttributes.AUTHOR_DOMAIN);

        Verdict v = recheck.recheck(mail, Mails.address(BOB), HeldMails.expired());

        assertThat(v).isInstanceOfSatisfying(Verdict.Fail.class, f -> assertThat(f.reason()).isEqualTo(Reason.FROM_MISMATCH));
    }

    @Test
    void aFromDomainOtherThanTheSignaturesIsAFromMismatch() throws Exception {
        FakeMail mail = HeldMails.signed(HeldMails.partnerA(), BOB);
        HeldMails.fromDomainRead(mail, "c.example");

        Verdict v = recheck.recheck(mail, Mails.address(BOB), HeldMails.expired());

        assertThat(v).isInstanceOfSatisfying(Verdict.Fail.class, f -> assertThat(f.reason()).isEqualTo(Reason.FROM_MISMATCH));
    }

    @Test
    void aSignatureThatPassesForAnotherPartnerThanTheFromDomainIsAFromMismatch() throws Exception {
        // given c.example's signature bound to bob's mailbox (which skips the From check) on mail From a.example, and a
        // held verdict that names a.example
        vault.importKey("kc1", "partner-c", InMemoryKeyVault.primary("c-b"), KeyStatus.PRIMARY);
        FakeMail mail = HeldMails.signedRaw("alice@a.example", "kc1", InMemoryKeyVault.primary("c-b"), "c.example", BOB, 1, BOB);

        Verdict v = recheck.recheck(mail, Mails.address(BOB), HeldMails.expired());

        assertThat(v).isInstanceOfSatisfying(Verdict.Fail.class, f -> {
            assertThat(f.reason()).isEqualTo(Reason.FROM_MISMATCH);
            assertThat(f.detail()).contains("d=c.example", "a.example");
        });
    }

    @Test
    void aSignatureForOneRecipientPassesForOneHeldCopyOnly() throws Exception {
        // given a.example's mail for bob (rc=1), replayed to carol past its window and held as a second mail
        FakeMail toBob = HeldMails.signed(HeldMails.partnerA(), BOB);
        FakeMail toCarol = HeldMails.held(HeldMails.signed(HeldMails.partnerA(), BOB), HeldMails.expired());
        toCarol.setMessage(toBob.getMessage());
        toCarol.setRecipients(java.util.List.of(Mails.address("carol@b.example")));

        Verdict bobs = recheck.recheck(toBob, Mails.address(BOB), HeldMails.expired());
        Verdict carols = recheck.recheck(toCarol, Mails.address("carol@b.example"), HeldMails.expired());

        assertThat(bobs).isInstanceOf(Verdict.Pass.class);
        assertThat(carols).isInstanceOfSatisfying(Verdict.Fail.class, f -> assertThat(f.reason()).isEqualTo(Reason.REPLAY));
    }

    @Test
    void aReleasedSignatureIsRememberedLongerThanAnyAddressWorks() throws Exception {
        FakeMail toBob = HeldMails.signed(HeldMails.partnerA(), BOB);
        FakeMail toCarol = HeldMails.signed(HeldMails.partnerA(), BOB);
        toCarol.setMessage(toBob.getMessage());
        toCarol.setRecipients(java.util.List.of(Mails.address("carol@b.example")));
        recheck.recheck(toBob, Mails.address(BOB), HeldMails.expired());

        clock.advance(org.authhmac.james.ReleaseTokens.MAX_VALIDITY);
        assertThat(recheck.recheck(toCarol, Mails.address("carol@b.example"), HeldMails.expired()).reason()).isEqualTo(Reason.REPLAY);
    }

    @Test
    void aHeldMailWhoseMessageCannotBeReadIsATemperror() throws Exception {
        FakeMail unreadable = FakeMail.builder().name("unreadable").mimeMessage(
                new MimeMessage(Session.getInstance(new Properties())) {
                    @Override
                    public void writeTo(OutputStream out) throws IOException {
                        throw new IOException("the repository lost the message");
                    }
                }).sender("alice@a.example").recipient(BOB).build();
        HeldMails.fromDomainRead(unreadable, "a.example");

        Verdict v = recheck.recheck(unreadable, Mails.address(BOB), HeldMails.expired());

        assertThat(v).isInstanceOfSatisfying(Verdict.TempError.class, e -> {
            assertThat(e.reason()).isEqualTo(Reason.INTERNAL_ERROR);
            assertThat(e.detail()).contains("the repository lost the message");
        });
    }
}
