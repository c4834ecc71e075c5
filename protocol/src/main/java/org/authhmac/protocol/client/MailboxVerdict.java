package org.authhmac.protocol.client;

import java.util.Objects;
import java.util.Optional;
import org.authhmac.protocol.AuthResult;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.WireToken;

/**
 * What a mail client shows for one message of its mailbox (docs/CLIENTS.md, "What a mailbox signature attests"):
 * the {@link Status}, made of two things only, the verdict on the mailbox signature the user's server added at
 * delivery ({@link #signature()}) and, when that signature is valid, the server's own verdict it carries in sv= and
 * pd= ({@link #serverVerdict()}, {@link #partnerDomain()}). Nothing else in the message counts: an
 * Authentication-Results or X-Auth-HMAC-Status field is text anyone can add, and is never read.
 *
 * @param signature     the verdict on the mailbox signature (pass: the user's server stored the message as it is)
 * @param serverVerdict sv= of that signature when it passed; empty when it did not pass or carries no sv=
 * @param partnerDomain pd= when sv=pass: the partner domain whose signature the server verified
 */
public record MailboxVerdict(Verdict signature, Optional<ServerVerdict> serverVerdict, Optional<String> partnerDomain) {

    /** What the client shows, one value per distinct case. Only {@link #PARTNER_VERIFIED} is a pass. */
    public enum Status implements WireToken {
        /** Delivered by your server, which verified the sender's partner signature (pd= names the partner). */
        PARTNER_VERIFIED,
        /** Delivered by your server, which verified no sender (sv=none, or a signature without sv=). */
        SENDER_UNVERIFIED,
        /** Delivered by your server, which found the partner signature failing (sv=fail or permerror) and marked it. */
        PARTNER_FAILED,
        /** Held by your server and sent on by an administrator (sv=released). Not verified. */
        RELEASED,
        /** Written by your server itself: a notice about held mail (sv=notice). */
        SERVER_NOTICE,
        /**
         * No valid mailbox signature: not stored by your server as it is (appended, copied from another mailbox,
         * edited in the store, or delivered before the key existed). Suspect.
         */
        NO_VALID_SIGNATURE,
        /** The mailbox signature cannot be checked now (the replay memory is full); check again later. */
        TEMPERROR;

        public static Status fromToken(String token) {
            return WireToken.of(values(), token, false, () -> "not a mailbox status: " + token);
        }
    }

    public MailboxVerdict {
        Objects.requireNonNull(signature, "signature");
        Objects.requireNonNull(serverVerdict, "serverVerdict");
        Objects.requireNonNull(partnerDomain, "partnerDomain");
        if (serverVerdict.isPresent() && signature.result() != AuthResult.PASS) {
            throw new IllegalArgumentException("a server verdict is read only from a mailbox signature that passed");
        }
        if (partnerDomain.isPresent() != (serverVerdict.orElse(null) == ServerVerdict.PASS)) {
            throw new IllegalArgumentException("a partner domain comes exactly with the server verdict pass");
        }
    }

    /**
     * Reads the server's verdict from a verified mailbox signature. A signature that did not pass, or that is not
     * bound to a mailbox (r=local@domain), carries no verdict the client may use.
     */
    public static MailboxVerdict of(Verdict signature) {
        if (signature instanceof Verdict.Pass pass && pass.header().bindsMailbox() && pass.header().serverVerdict() != null) {
            SignatureHeader h = pass.header();
            ServerVerdict sv = ServerVerdict.fromToken(h.serverVerdict());
            return new MailboxVerdict(signature, Optional.of(sv),
                    sv == ServerVerdict.PASS ? Optional.of(h.partnerDomain()) : Optional.empty());
        }
        return new MailboxVerdict(signature, Optional.empty(), Optional.empty());
    }

    public Status status() {
        if (signature.result() == AuthResult.TEMPERROR) {
            return Status.TEMPERROR;
        }
        if (!(signature instanceof Verdict.Pass pass) || !pass.header().bindsMailbox()) {
            // a domain-bound signature is a partner's, not the user's server's delivery signature
            return Status.NO_VALID_SIGNATURE;
        }
        return switch (serverVerdict.orElse(ServerVerdict.NONE)) {
            case PASS -> Status.PARTNER_VERIFIED;
            case NONE -> Status.SENDER_UNVERIFIED;
            case FAIL, PERMERROR -> Status.PARTNER_FAILED;
            case RELEASED -> Status.RELEASED;
            case NOTICE -> Status.SERVER_NOTICE;
        };
    }

    /** True only for mail the user's server delivered after verifying the sender's partner signature. */
    public boolean partnerVerified() {
        return status() == Status.PARTNER_VERIFIED;
    }

    /** One sentence for the user (docs/CLIENTS.md lists them). */
    public String shown() {
        return switch (status()) {
            case PARTNER_VERIFIED -> "delivered by your server, sender verified from partner " + partnerDomain.orElseThrow();
            case SENDER_UNVERIFIED -> serverVerdict.isPresent()
                    ? "delivered by your server, sender not verified"
                    : "delivered by your server, sender not verified (the signature records no server verdict)";
            case PARTNER_FAILED -> "delivered by your server although the sender's partner signature failed ("
                    + serverVerdict.orElseThrow().token() + "): treat it as a forgery";
            case RELEASED -> "held by your server, then released by an administrator or on your own reply: sender not verified";
            case SERVER_NOTICE -> "a notice from your server; what it quotes from other mail is unverified";
            case NO_VALID_SIGNATURE -> "not delivered by your server as it is (" + signature.result().token() + ", "
                    + signature.reason().token() + "): suspect";
            case TEMPERROR -> "cannot be checked now (" + signature.reason().token() + "): try again later";
        };
    }
}
