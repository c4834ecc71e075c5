package org.authhmac.james.mailets;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.test.FakeMail;
import org.authhmac.james.mailets.SigningPolicy.Rule;
import org.authhmac.james.testing.Mails;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SigningPolicyTest {
    final SigningPolicy policy = new SigningPolicy("a.example");

    /** Submitted with SMTP AUTH as {@code user} (James's Username.asString(), with or without domain). */
    static FakeMail submittedBy(String user, String from) throws MessagingException {
        FakeMail mail = Mails.relayed(Mails.message(from, "bob@b.example", "hi", "text"), "alice@a.example", "bob@b.example");
        mail.setAttribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of(user)));
        return mail;
    }

    static FakeMail marked(FakeMail mail, AttributeValue<?> value) {
        mail.setAttribute(new Attribute(SigningPolicy.SERVER_OWN, value));
        return mail;
    }

    Rule rule(Mail mail) {
        return policy.decide(mail).rule();
    }

    /** A mail submitted by alice whose message cannot give the {@code unreadable} header field (a spool read error). */
    static FakeMail withUnreadableField(String unreadable) throws MessagingException {
        byte[] raw = Mails.message("Alice <alice@a.example>", "bob@b.example", "hi", "x").getBytes(StandardCharsets.UTF_8);
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(raw)) {
            @Override
            public String[] getHeader(String name) throws MessagingException {
                if (name.equalsIgnoreCase(unreadable)) {
                    throw new MessagingException("spool read error");
                }
                return super.getHeader(name);
            }
        };
        FakeMail mail = FakeMail.builder().name("unreadable").mimeMessage(message).sender("alice@a.example")
                .recipient("bob@b.example").state("relay").build();
        mail.setAttribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of("alice@a.example")));
        return mail;
    }

    @Nested
    class AuthenticatedSubmission {
        @Test
        void signsMailWhoseFromIsTheAuthenticatedUsersOwnAddress() throws Exception {
            assertThat(rule(submittedBy("alice@a.example", "Alice <alice@a.example>"))).isEqualTo(Rule.AUTHENTICATED_AUTHOR);
        }

        @Test
        void comparesTheAddressWithoutRegardToCaseInTheLocalPartAndTheDomain() throws Exception {
            assertThat(rule(submittedBy("alice@a.example", "Alice <ALICE@A.Example>"))).isEqualTo(Rule.AUTHENTICATED_AUTHOR);
            assertThat(rule(submittedBy("Alice@A.EXAMPLE", "alice@a.example"))).isEqualTo(Rule.AUTHENTICATED_AUTHOR);
        }

        /** U+212A KELVIN SIGN lower-cases to an ASCII 'k' in String.toLowerCase: another mailbox, not the user's. */
        @ParameterizedTest
        @CsvSource({
                "kob@a.example, \u212Aob@a.example",
                "\u212Aob@a.example, kob@a.example",
                "\u212Aob, kob@a.example",
                "KOB@a.example, \u212Aob@a.example",
        })
        void signsNoFromThatIsTheUsersAddressOnlyUnderUnicodeLowerCasing(String user, String from) throws Exception {
            assertThat(rule(submittedBy(user, from))).as(user + " / " + from).isNotEqualTo(Rule.AUTHENTICATED_AUTHOR);
        }

        @Test
        void takesAUserNameWithoutDomainAsAnAddressInTheSigningDomain() throws Exception {
            assertThat(rule(submittedBy("alice", "alice@a.example"))).isEqualTo(Rule.AUTHENTICATED_AUTHOR);
            assertThat(rule(submittedBy("alice", "alice@c.example"))).isEqualTo(Rule.FROM_NOT_AUTHENTICATED_USER);
        }

        @Test
        void allowsADisplayNameThatRepeatsTheOwnAddress() throws Exception {
            assertThat(rule(submittedBy("alice@a.example", "\"alice@a.example\" <alice@a.example>"))).isEqualTo(Rule.AUTHENTICATED_AUTHOR);
        }

        @ParameterizedTest
        @ValueSource(strings = {"\"CEO\" <ceo@a.example>", "ceo@a.example", "Alice <alice@b.example>", "\"alice\"@a.example",
                "alice.smith@a.example"})
        void refusesAFromOfAnybodyElse(String from) throws Exception {
            SigningPolicy.Decision d = policy.decide(submittedBy("alice@a.example", from));

            assertThat(d.rule()).isEqualTo(Rule.FROM_NOT_AUTHENTICATED_USER);
            assertThat(d.action()).isEqualTo(SigningPolicy.Action.REFUSE);
            assertThat(d.detail()).contains("alice@a.example", "not the address you logged in with");
        }

        @ParameterizedTest
        @ValueSource(strings = {"\"ceo@a.example\" <alice@a.example>", "alice@a.example (ceo@a.example)",
                "=?utf-8?q?ceo=40a=2Eexample?= <alice@a.example>", "\"ceo\uFF20a.example\" <alice@a.example>",
                "\"CEO <ceo@a.example> via\" <alice@a.example>"})
        void refusesAFromWhoseDisplayNameOrCommentNamesAnotherAddress(String from) throws Exception {
            SigningPolicy.Decision d = policy.decide(submittedBy("alice@a.example", from));

            assertThat(d.rule()).isEqualTo(Rule.FROM_NOT_AUTHENTICATED_USER);
            assertThat(d.detail()).contains("also names another address");
        }

        @ParameterizedTest
        @ValueSource(strings = {"Board: alice@a.example;", "alice@a.example, ceo@a.example", "<@relay.example:alice@a.example>",
                "alice@[192.0.2.1]", "alice", "Alice <alice@a.example", "=?utf-8?q?alice?=@a.example",
                "=?x-unknown-charset?q?Alice?= <alice@a.example>", "alice@a\u3002example", "Alice <alice@a\uff0eexample>",
                "Alice <alice@a.example>,", "<alice@a.example> Alice", "Alice\u0085 <alice@a.example>"})
        void refusesAFromThatIsNotOneReadableMailbox(String from) throws Exception {
            SigningPolicy.Decision d = policy.decide(submittedBy("alice@a.example", from));

            assertThat(d.rule()).isEqualTo(Rule.FROM_UNREADABLE);
            assertThat(d.action()).isEqualTo(SigningPolicy.Action.REFUSE);
        }

        @Test
        void refusesAMailWithTwoFromFieldsOrNone() throws Exception {
            FakeMail two = Mails.outbound("From: alice@a.example\r\n" + Mails.message("alice@a.example", "bob@b.example", "hi", "x"),
                    "alice@a.example", "bob@b.example");
            FakeMail none = Mails.outbound(Mails.message("alice@a.example", "bob@b.example", "hi", "x").replaceFirst("From: [^\r]*\r\n", ""),
                    "alice@a.example", "bob@b.example");

            assertThat(policy.decide(two).detail()).contains("2 From fields");
            assertThat(rule(two)).isEqualTo(Rule.FROM_UNREADABLE);
            assertThat(rule(none)).isEqualTo(Rule.FROM_UNREADABLE);
        }

        @Test
        void readsAFromOfExactlyTheLengthBoundAndRefusesOneCharacterMore() {
            String tail = "\" <alice@a.example>";
            String atTheBound = "\"" + "x".repeat(Author.MAX_FROM_CHARS - 1 - tail.length()) + tail;

            assertThat(atTheBound).hasSize(Author.MAX_FROM_CHARS);
            assertThat(Author.read(atTheBound).readable()).isTrue();
            assertThat(Author.read("x" + atTheBound).problem()).contains("characters");
        }

        @Test
        void readsAFromWithExactlyTheDelimiterBoundAndRefusesOneMore() {
            // two quotes, '<' and '@' besides the commas
            String commas = ",".repeat(Author.MAX_FROM_DELIMITERS - 4);

            assertThat(Author.read("\"" + commas + "\" <alice@a.example>").readable()).isTrue();
            assertThat(Author.read("\"" + commas + ",\" <alice@a.example>").problem()).contains("delimiters");
        }

        @ParameterizedTest
        @ValueSource(strings = {"<", "(", "\"", "\\", ":", ";", ",", "@", "["})
        void countsEveryParserDelimiterTowardsTheBound(String delimiter) {
            String from = delimiter.repeat(Author.MAX_FROM_DELIMITERS + 1) + "alice@a.example";

            assertThat(Author.read(from).problem()).as(delimiter).contains("delimiters");
        }

        @ParameterizedTest
        @ValueSource(strings = {"Alice\u0001 <alice@a.example>", "Alice\u007F <alice@a.example>", "Alice <alice@a.example>\r",
                "Alice\n<alice@a.example>", "Alice\u0000 <alice@a.example>"})
        void refusesAFromWithAControlCharacter(String from) {
            assertThat(Author.read(from).problem()).isEqualTo("a control character");
        }

        @Test
        void readsATabAndAFoldedLineAsWhiteSpace() {
            assertThat(Author.read("Alice\t<alice@a.example>").address()).isEqualTo("alice@a.example");
            assertThat(Author.read("Alice\r\n <alice@a.example>").address()).isEqualTo("alice@a.example");
        }

        @Test
        void namesAGroupAndAListOfAddressesAsSuchInTheRefusal() {
            assertThat(Author.read("Board: alice@a.example;").problem()).isEqualTo("a group");
            assertThat(Author.read("alice@a.example, ceo@a.example").problem()).isEqualTo("2 addresses");
        }

        @Test
        void refusesAMailWhoseFromFieldCannotBeRead() throws Exception {
            SigningPolicy.Decision d = policy.decide(withUnreadableField("From"));

            assertThat(d.rule()).isEqualTo(Rule.FROM_UNREADABLE);
            assertThat(d.detail()).contains("the header cannot be read: spool read error");
        }

        @ParameterizedTest
        @ValueSource(strings = {"Sender", "Resent-From", "Resent-Sender"})
        void refusesAMailWhoseSenderOrResentFieldCannotBeRead(String field) throws Exception {
            SigningPolicy.Decision d = policy.decide(withUnreadableField(field));

            assertThat(d.rule()).isEqualTo(Rule.FROM_NOT_AUTHENTICATED_USER);
            assertThat(d.detail()).contains("the " + field + " field (unreadable)");
        }

        @Test
        void readsAFromWithExactlyTheEncodedWordBound() throws Exception {
            String words = "=?utf-8?q?A?= ".repeat(Author.MAX_ENCODED_WORDS);

            assertThat(rule(submittedBy("alice@a.example", words + "<alice@a.example>"))).isEqualTo(Rule.AUTHENTICATED_AUTHOR);
            assertThat(rule(submittedBy("alice@a.example", words + "=?utf-8?q?A?= <alice@a.example>"))).isEqualTo(Rule.FROM_UNREADABLE);
        }

        @Test
        void refusesADisplayNameThatStartsWithAnAt() throws Exception {
            SigningPolicy.Decision d = policy.decide(submittedBy("alice@a.example", "=?utf-8?q?=40ceo?= <alice@a.example>"));

            assertThat(d.rule()).isEqualTo(Rule.FROM_NOT_AUTHENTICATED_USER);
            assertThat(d.detail()).contains("also names another address");
        }

        @Test
        void namesTheSenderFieldsOtherAddressOrWhyItCannotBeRead() throws Exception {
            FakeMail ceo = Mails.outbound("Sender: CEO <ceo@a.example>\r\n" + Mails.message("alice@a.example", "bob@b.example", "pay", "x"),
                    "alice@a.example", "bob@b.example");
            FakeMail board = Mails.outbound("Sender: Board: ceo@a.example;\r\n" + Mails.message("alice@a.example", "bob@b.example", "pay", "x"),
                    "alice@a.example", "bob@b.example");

            assertThat(policy.decide(ceo).detail()).startsWith("the Sender field <ceo@a.example> is not");
            assertThat(policy.decide(board).detail()).startsWith("the Sender field (a group) is not");
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "   "})
        void treatsABlankAuthenticatedUserAsNoAuthentication(String user) throws Exception {
            assertThat(rule(submittedBy(user, "alice@a.example"))).isEqualTo(Rule.NOT_SUBMITTED_HERE);
        }

        @Test
        void namesTheLoginAsJamesRecordedItWhenItIsNoAddressOfAnyFrom() throws Exception {
            SigningPolicy.Decision noLocalPart = policy.decide(submittedBy("@a.example", "alice@a.example"));
            SigningPolicy.Decision badDomain = policy.decide(submittedBy("alice@A..B", "alice@a.example"));

            assertThat(noLocalPart.rule()).isEqualTo(Rule.FROM_NOT_AUTHENTICATED_USER);
            assertThat(noLocalPart.detail()).contains("(@a.example)");
            assertThat(badDomain.rule()).isEqualTo(Rule.FROM_NOT_AUTHENTICATED_USER);
            assertThat(badDomain.detail()).contains("(alice@a..b)");
        }

        @Test
        void refusesAnOversizedFromFieldWithoutParsingIt() throws Exception {
            String brackets = "(".repeat(Author.MAX_FROM_DELIMITERS + 1);
            String filler = "x".repeat(Author.MAX_FROM_CHARS);

            assertThat(Author.read(brackets + "alice@a.example").problem()).contains("delimiters");
            assertThat(Author.read("\"" + filler + "\" <alice@a.example>").problem()).contains("characters");
            assertThat(Author.read("=?utf-8?q?A?= ".repeat(Author.MAX_ENCODED_WORDS + 1) + "<alice@a.example>")
                    .readable()).isFalse();
        }

        /**
         * Outlook shows a Sender field as "ceo@a.example on behalf of Alice"; some readers show Resent-From as the
         * author. A signature would vouch for a mail naming the CEO as its sender.
         */
        @ParameterizedTest
        @ValueSource(strings = {"Sender: CEO <ceo@a.example>", "Resent-From: ceo@a.example", "Resent-Sender: ceo@a.example",
                "Sender: \"ceo@a.example\" <alice@a.example>", "Sender: Board: ceo@a.example;", "Sender: alice@a.example, ceo@a.example",
                "SENDER: ceo@b.example"})
        void refusesASenderOrResentFieldThatNamesAnotherAddress(String field) throws Exception {
            FakeMail mail = Mails.outbound(field + "\r\n" + Mails.message("Alice <alice@a.example>", "bob@b.example", "pay", "x"),
                    "alice@a.example", "bob@b.example");

            SigningPolicy.Decision d = policy.decide(mail);

            assertThat(d.rule()).as(field).isEqualTo(Rule.FROM_NOT_AUTHENTICATED_USER);
            assertThat(d.action()).isEqualTo(SigningPolicy.Action.REFUSE);
            assertThat(d.detail()).containsIgnoringCase(field.substring(0, field.indexOf(':'))).contains("not the address you logged in with");
        }

        @Test
        void signsMailWhoseSenderAndResentFieldsAreTheUsersOwnAddress() throws Exception {
            FakeMail mail = Mails.outbound("Sender: Alice <Alice@a.example>\r\nResent-From: alice@a.example\r\n"
                    + Mails.message("Alice <alice@a.example>", "bob@b.example", "minutes", "x"), "alice@a.example", "bob@b.example");

            assertThat(rule(mail)).isEqualTo(Rule.AUTHENTICATED_AUTHOR);
        }

        @Test
        void sendsOnUnsignedTheUsersOwnAddressInAnotherDomainOfThisServer() throws Exception {
            SigningPolicy.Decision d = policy.decide(submittedBy("carol@c.example", "Carol <carol@c.example>"));

            assertThat(d.rule()).isEqualTo(Rule.AUTHOR_OUTSIDE_SIGNING_DOMAIN);
            assertThat(d.action()).isEqualTo(SigningPolicy.Action.SEND_UNSIGNED);
        }

        @Test
        void readsAnInternationalisedDomainInItsAsciiForm() throws Exception {
            SigningPolicy idn = new SigningPolicy("xn--bcher-kva.example");

            assertThat(idn.decide(submittedBy("alice@bücher.example", "Alice <alice@XN--BCHER-KVA.example>")).rule())
                    .isEqualTo(Rule.AUTHENTICATED_AUTHOR);
        }
    }

    @Nested
    class NotSubmittedHere {
        @ParameterizedTest
        @ValueSource(strings = {"CEO <ceo@a.example>", "alice@a.example", "postmaster@a.example", "Board: ceo@a.example;"})
        void sendsAForwardOrRedirectOnUnsignedWhateverItsFromSays(String from) throws Exception {
            FakeMail forward = Mails.relayed(Mails.message(from, "fwd@a.example", "pay", "x"), "attacker@evil.example", "bob@b.example");

            SigningPolicy.Decision d = policy.decide(forward);

            assertThat(d.rule()).isEqualTo(Rule.NOT_SUBMITTED_HERE);
            assertThat(d.action()).isEqualTo(SigningPolicy.Action.SEND_UNSIGNED);
        }

        @Test
        void treatsAnAuthenticatedUserAttributeThatIsNoTextAsNoAuthentication() throws Exception {
            FakeMail mail = Mails.relayed(Mails.message("alice@a.example", "bob@b.example", "hi", "x"), "alice@a.example", "bob@b.example");
            mail.setAttribute(new Attribute(Mail.SMTP_AUTH_USER, AttributeValue.of(42)));
            marked(mail, AttributeValue.of("true"));

            assertThat(rule(mail)).as("not signed, as the user's or as the server's").isEqualTo(Rule.NOT_SUBMITTED_HERE);
        }
    }

    @Nested
    class ServerOwn {
        static FakeMail bounce(String from) throws MessagingException {
            return FakeMail.builder().name("dsn").mimeMessage(Mails.parse(Mails.message(from, "bob@b.example", "Delivery failure", "x")))
                    .recipient("bob@b.example").state("relay").build();
        }

        @Test
        void signsMailTheAdministratorMarkedWhenItsFromIsInTheSigningDomain() throws Exception {
            assertThat(rule(marked(bounce("Mail Delivery <postmaster@a.example>"), AttributeValue.of("true")))).isEqualTo(Rule.SERVER_OWN);
            assertThat(rule(marked(bounce("postmaster@a.example"), AttributeValue.of(true)))).isEqualTo(Rule.SERVER_OWN);
        }

        @ParameterizedTest
        @ValueSource(strings = {"someone@evil.example", "Board: postmaster@a.example;", "\"ceo@a.example\" <postmaster@a.example>"})
        void sendsMarkedMailOnUnsignedWhenItsFromIsNotOneMailboxOfTheSigningDomain(String from) throws Exception {
            SigningPolicy.Decision d = policy.decide(marked(bounce(from), AttributeValue.of("true")));

            assertThat(d.rule()).isEqualTo(Rule.SERVER_OWN_OUTSIDE_SIGNING_DOMAIN);
            assertThat(d.action()).isEqualTo(SigningPolicy.Action.SEND_UNSIGNED);
        }

        @Test
        void explainsWhichFromMadeMarkedMailGoOnUnsigned() throws Exception {
            SigningPolicy.Decision outside = policy.decide(marked(bounce("someone@evil.example"), AttributeValue.of("true")));
            SigningPolicy.Decision group = policy.decide(marked(bounce("Board: postmaster@a.example;"), AttributeValue.of("true")));

            assertThat(outside.detail()).endsWith("not one mailbox in a.example (someone@evil.example)");
            assertThat(group.detail()).endsWith("not one mailbox in a.example: a group");
        }

        @ParameterizedTest
        @ValueSource(strings = {"false", "yes", "1", ""})
        void takesNoValueButTrueAsTheMark(String value) throws Exception {
            assertThat(rule(marked(bounce("postmaster@a.example"), AttributeValue.of(value)))).isEqualTo(Rule.NOT_SUBMITTED_HERE);
        }

        @Test
        void ignoresTheMarkOnMailAnAuthenticatedUserSubmitted() throws Exception {
            // SMTPIsAuthNetwork, the matcher of the shipped example, also matches authenticated sessions
            FakeMail asTheCeo = marked(submittedBy("alice@a.example", "CEO <ceo@a.example>"), AttributeValue.of("true"));
            FakeMail asHerself = marked(submittedBy("alice@a.example", "alice@a.example"), AttributeValue.of("true"));

            assertThat(rule(asTheCeo)).isEqualTo(Rule.FROM_NOT_AUTHENTICATED_USER);
            assertThat(rule(asHerself)).isEqualTo(Rule.AUTHENTICATED_AUTHOR);
        }
    }
}
