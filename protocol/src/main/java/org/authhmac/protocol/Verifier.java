package org.authhmac.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Checks X-Auth-HMAC signatures on a raw RFC 5322 message, in the order docs/PROTOCOL.md "Verification"
 * prescribes. It never throws for anything in the message: every outcome is a {@link Verdict}, and when it
 * cannot decide it answers temperror, never pass. Thread-safe if its PeriodKeys and ReplayCache are.
 */
public final class Verifier {
    private final VerifierSettings settings;
    private final PeriodKeys keys;
    private final ReplayCache replayCache;
    private final String headerNameLower;

    public Verifier(VerifierSettings settings, PeriodKeys keys, ReplayCache replayCache) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.keys = Objects.requireNonNull(keys, "keys");
        this.replayCache = Objects.requireNonNull(replayCache, "replayCache");
        this.headerNameLower = settings.headerName().toLowerCase(Locale.ROOT);
    }

    public VerifierSettings settings() {
        return settings;
    }

    /**
     * @param acceptedAt when the receiving server accepted the message (SMTP end of DATA), not the processing time
     * @param recipient  the envelope recipient (local@domain, or {@code <local@domain>}) or, for a domain-level check,
     *                   the domain
     * @throws IllegalArgumentException the recipient is neither (before the message is read)
     */
    public Verdict verify(InputStream message, Instant acceptedAt, String recipient) {
        Objects.requireNonNull(recipient, "recipient");
        return verify(message, acceptedAt, List.of(recipient)).get(recipient);
    }

    /**
     * One verdict per recipient (in the given order, keyed by the strings given); the message is read and its body
     * hashed once.
     *
     * @throws IllegalArgumentException a recipient is neither a domain nor local@domain (before the message is read)
     */
    public Map<String, Verdict> verify(InputStream message, Instant acceptedAt, Collection<String> recipients) {
        Objects.requireNonNull(message, "message");
        return verify(() -> RawMessage.read(message, settings.maxHeaderBytes()), acceptedAt, recipients);
    }

    /**
     * The same for a message already in memory, {@code message[off, off + len)}: header fields and body are read
     * in place, without the stream's copies (what the validating matcher holds anyway). The array must not change
     * during the call.
     */
    public Map<String, Verdict> verify(byte[] message, int off, int len, Instant acceptedAt, Collection<String> recipients) {
        Objects.requireNonNull(message, "message");
        Objects.checkFromIndexSize(off, len, message.length);
        return verify(() -> RawMessage.read(message, off, len, settings.maxHeaderBytes()), acceptedAt, recipients);
    }

    private interface MessageReader {
        RawMessage read() throws IOException;
    }

    private Map<String, Verdict> verify(MessageReader message, Instant acceptedAt, Collection<String> recipients) {
        Objects.requireNonNull(acceptedAt, "acceptedAt");
        Objects.requireNonNull(recipients, "recipients");
        List<Recipient> rcpts = new ArrayList<>(recipients.size());
        for (String r : recipients) {
            // Before any work: a recipient nothing can bind is the caller's error, not a verdict on the message.
            rcpts.add(recipient(Objects.requireNonNull(r, "recipient")));
        }
        try {
            return verifyMessage(message.read(), acceptedAt, recipients, rcpts);
        } catch (MalformedMessageException e) {
            return all(recipients, new Verdict.PermError(Reason.MALFORMED, Optional.empty(), "malformed message: " + e.getMessage()));
        } catch (IOException e) {
            return all(recipients, new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.empty(),
                    "could not read the message: " + e.getClass().getSimpleName()));
        } catch (RuntimeException e) {
            // Fail closed: a verifier that cannot decide says temperror.
            return all(recipients, new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.empty(),
                    "verifier error: " + e.getClass().getSimpleName()));
        }
    }

    /** One signature header field and what has been decided about it so far. */
    private static final class Candidate {
        final HeaderField field;
        TagList tags;
        SignatureHeader header;
        /** The names of h=, numbered by the message's {@link FieldCounts} (-1: no field carries it). */
        int[] signedIds;
        /** A verdict reached before any recipient is considered (parse, policy, window). */
        Verdict early;
        /** A verdict from key, MAC or body hash; null after success. */
        Verdict crypto;
        boolean cryptoDone;

        Candidate(HeaderField field) {
            this.field = field;
        }
    }

    private record Recipient(String given, String domain, String mailbox) {
        boolean matches(SignatureHeader h) {
            String want = h.bindsMailbox() ? mailbox : domain;
            return want != null && want.equals(h.recipient());
        }

        /** The mailbox that receives, not the address as typed (docs/PROTOCOL.md 11); only for a recipient r= binds. */
        String replayId(String subAddressSeparator) {
            if (mailbox != null) {
                // Already lower case with a dot-atom local part: only sub-address detail may remain to remove.
                int at = mailbox.lastIndexOf('@');
                int detail = subAddressSeparator.isEmpty() ? -1 : mailbox.indexOf(subAddressSeparator);
                if (detail < 0 || detail >= at) {
                    return mailbox;
                }
            }
            return ReplayIds.of(given, subAddressSeparator);
        }
    }

    /** One recipient's replay check of one signature; recipients with the same replay id share its verdict. */
    private record ReplayKey(ReplayCache.SignatureId signature, String replayId) {
    }

    private Map<String, Verdict> verifyMessage(RawMessage msg, Instant acceptedAt, Collection<String> recipients,
                                               List<Recipient> rcpts) throws IOException {
        // One pass over the fields groups them by name; every per-message check below reads that.
        FieldCounts counts = FieldCounts.of(msg.fields());
        if (counts.count(headerNameLower) == 0) {
            return all(recipients, new Verdict.None());
        }
        List<Candidate> candidates = new ArrayList<>();
        // Top-most first; fields beyond maxHeaders are never looked at, so they cannot cost work.
        for (int i : counts.topMost(headerNameLower, settings.maxHeaders())) {
            candidates.add(new Candidate(msg.fields().get(i)));
        }
        MessageFacts facts = new MessageFacts(msg.fields(), counts);
        for (Candidate c : candidates) {
            precheck(c, acceptedAt, facts);
        }

        for (String name : Signer.SINGLETON_HEADERS) {
            int n = counts.count(name);
            if (n > 1) {
                Optional<SignatureHeader> first = candidates.stream().filter(c -> c.header != null).map(c -> c.header).findFirst();
                return all(recipients, new Verdict.Fail(Reason.DUPLICATE_HEADER, first,
                        n + " '" + name + "' header fields; RFC 5322 allows one"));
            }
        }

        // Body hashes are computed once per body canonicalization that a still-viable signature needs.
        Map<Canonicalization, BodyCanonicalizer> bodyCanons = new EnumMap<>(Canonicalization.class);
        for (Candidate c : candidates) {
            if (c.early == null && rcpts.stream().anyMatch(r -> r.matches(c.header))) {
                bodyCanons.computeIfAbsent(c.header.bodyCanonicalization(), BodyCanonicalizer::new);
            }
        }
        Map<Canonicalization, byte[]> bodyHashes = new EnumMap<>(Canonicalization.class);
        if (!bodyCanons.isEmpty()) {
            msg.feedBody(bodyCanons.values());
            bodyCanons.forEach((canon, bc) -> bodyHashes.put(canon, bc.finish()));
        }

        Map<ReplayKey, Verdict> replayChecked = new HashMap<>();
        Map<String, Verdict> out = new LinkedHashMap<>();
        for (Recipient r : rcpts) {
            out.put(r.given(), verdictFor(r, candidates, facts, bodyHashes, replayChecked));
        }
        return out;
    }

    private Verdict verdictFor(Recipient r, List<Candidate> candidates, MessageFacts facts,
                               Map<Canonicalization, byte[]> bodyHashes, Map<ReplayKey, Verdict> replayChecked) {
        List<Verdict> verdicts = new ArrayList<>();
        List<Boolean> addressedHere = new ArrayList<>();
        for (Candidate c : candidates) {
            Verdict v;
            boolean matches = c.header != null && r.matches(c.header);
            if (c.early != null) {
                v = c.early;
            } else if (!matches) {
                v = fail(Reason.WRONG_RECIPIENT, c.header, "r=" + c.header.recipient() + " does not bind this recipient");
            } else {
                if (!c.cryptoDone) {
                    c.crypto = cryptoCheck(c, facts, bodyHashes);
                    c.cryptoDone = true;
                }
                v = c.crypto != null ? c.crypto : replayCheck(c.header, r, replayChecked);
            }
            if (v instanceof Verdict.Pass) {
                return v;
            }
            verdicts.add(v);
            addressedHere.add(matches);
        }
        // No pass. A temperror wins: a retry may pass. Then the first signature made for this recipient.
        for (Verdict v : verdicts) {
            if (v instanceof Verdict.TempError) {
                return v;
            }
        }
        for (int i = 0; i < verdicts.size(); i++) {
            if (addressedHere.get(i)) {
                return verdicts.get(i);
            }
        }
        return verdicts.get(0);
    }

    /**
     * Parse, algorithm policy, time window, period length, coverage and From alignment: all before any key is
     * derived, so forged t or p cost no key work.
     */
    private void precheck(Candidate c, Instant acceptedAt, MessageFacts facts) {
        try {
            c.tags = SignatureHeader.tagList(c.field);
            c.header = HeaderVersions.parse(c.tags, settings.acceptedVersions());
        } catch (SignatureFormatException e) {
            c.early = new Verdict.PermError(e.reason(), Optional.empty(), e.getMessage());
            return;
        }
        SignatureHeader h = c.header;
        if (!settings.allowedAlgorithms().contains(h.algorithm())) {
            c.early = new Verdict.PermError(Reason.UNSUPPORTED_ALGORITHM, Optional.of(h), "algorithm not allowed: " + h.algorithm());
            return;
        }
        long accepted = acceptedAt.getEpochSecond();
        long t = h.time();
        int p = h.periodSeconds();
        if (t - accepted > settings.maxFutureSkew().toSeconds()) {
            c.early = fail(Reason.FUTURE, h, "t is " + (t - accepted) + " s after acceptance, more than the allowed skew");
            return;
        }
        long periodsBack = Math.floorDiv(accepted, p) - Math.floorDiv(t, p);
        if (periodsBack > settings.previousPeriods()) {
            c.early = fail(Reason.EXPIRED, h, "signed " + periodsBack + " periods before acceptance");
            return;
        }
        if (accepted - t > settings.maxAgeFor(p).toSeconds()) {
            c.early = fail(Reason.EXPIRED, h, "signed " + (accepted - t) + " s before acceptance, more than the maximum age");
            return;
        }
        if (p != settings.periodSeconds()) {
            // No key exists for another period length here: refused before the key source derives one.
            c.early = new Verdict.PermError(Reason.UNKNOWN_KEY, Optional.of(h),
                    "p=" + p + " is not the configured period length " + settings.periodSeconds());
            return;
        }
        c.signedIds = facts.counts().find(h.signedHeaders());
        c.early = coverageAndAuthor(c, facts);
    }

    /**
     * What the message says beyond the signed bytes: a field h= does not cover (added after signing: unsigned-header),
     * and, for a domain-bound signature, a From field that does not name one mailbox in d= (from-mismatch). Null when
     * both hold.
     */
    private Verdict coverageAndAuthor(Candidate c, MessageFacts facts) {
        SignatureHeader h = c.header;
        String uncovered = facts.counts().uncovered(c.signedIds, headerNameLower);
        if (uncovered != null) {
            return fail(Reason.UNSIGNED_HEADER, h, "a '" + TagList.printable(uncovered)
                    + "' field is not covered by h= (added after signing)");
        }
        if (h.bindsMailbox()) {
            // Made by the receiving server for its own user's mailbox: the author is whoever wrote to that user.
            return null;
        }
        Optional<String> author = facts.authorDomain();
        if (author.isEmpty()) {
            return fail(Reason.FROM_MISMATCH, h, "the From field is not one mailbox with a plain domain (PROTOCOL.md 9.2)");
        }
        if (!author.get().equals(h.domain())) {
            return fail(Reason.FROM_MISMATCH, h, "the From domain " + author.get() + " is not d=" + h.domain());
        }
        return null;
    }

    /** Per-message readings the per-signature checks share: the fields grouped by name, and the author domain. */
    private static final class MessageFacts {
        private final List<HeaderField> fields;
        private final FieldCounts counts;
        private Optional<String> authorDomain;
        private MacInput.Canonicalized canonicalized;

        MessageFacts(List<HeaderField> fields, FieldCounts counts) {
            this.fields = fields;
            this.counts = counts;
        }

        List<HeaderField> fields() {
            return fields;
        }

        FieldCounts counts() {
            return counts;
        }

        /** The relaxed forms of fields made for the signatures evaluated so far, shared by the next ones. */
        MacInput.Canonicalized canonicalized() {
            if (canonicalized == null) {
                canonicalized = new MacInput.Canonicalized(fields.size());
            }
            return canonicalized;
        }

        /** Empty also when there is no From field; several are a duplicate-header for the whole message. */
        Optional<String> authorDomain() {
            if (authorDomain == null) {
                int from = counts.first("from");
                authorDomain = from < 0 ? Optional.empty() : AuthorDomain.of(fields.get(from));
            }
            return authorDomain;
        }
    }

    /** Key, MAC, body hash; null when all three hold. */
    private Verdict cryptoCheck(Candidate c, MessageFacts facts, Map<Canonicalization, byte[]> bodyHashes) {
        SignatureHeader h = c.header;
        PeriodKey key;
        try {
            key = keys.periodKey(h.kdfContext());
        } catch (UnknownKeyException e) {
            return new Verdict.PermError(Reason.UNKNOWN_KEY, Optional.of(h), "unknown key id " + h.keyId());
        } catch (KeyUnavailableException e) {
            return new Verdict.TempError(Reason.KEY_UNAVAILABLE, Optional.of(h), "key source unavailable: " + e.getMessage());
        } catch (RuntimeException e) {
            return new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.of(h), "key source failed: " + e.getClass().getSimpleName());
        }
        // parse required b=, so the tag is there.
        byte[] emptied = withEmptyBBytes(c.field, c.tags.get("b"));
        HeaderField f = c.field;
        byte[] expected = MacInput.mac(key.newMac(), facts.fields(), facts.counts().pick(c.signedIds),
                h.headerCanonicalization(), emptied, f.colon() - f.start(), f.nameEnd() - f.start(), facts.canonicalized());
        boolean macVerified = MessageDigest.isEqual(expected, Base64.getDecoder().decode(h.mac()));
        keys.macChecked(key, macVerified);
        if (!macVerified) {
            return fail(Reason.BAD_MAC, h, "MAC does not match");
        }
        // The MAC covers bh=, so a mismatch here means the body changed after signing.
        if (!MessageDigest.isEqual(bodyHashes.get(h.bodyCanonicalization()), Base64.getDecoder().decode(h.bodyHash()))) {
            return fail(Reason.BODY_CHANGED, h, "body hash does not match");
        }
        return null;
    }

    /**
     * Scope recipient: the signature passes for at most rc= distinct replay ids, each once. Scope signature: it
     * passes once, for every recipient of that one verification.
     */
    private Verdict replayCheck(SignatureHeader h, Recipient r, Map<ReplayKey, Verdict> checked) {
        boolean perRecipient = settings.replayScope() == ReplayScope.RECIPIENT;
        String replayId = perRecipient ? r.replayId(settings.subAddressSeparator()) : "";
        int maxRecipients = perRecipient ? h.recipientCount() : 1;
        ReplayKey key = new ReplayKey(new ReplayCache.SignatureId(h.domain(), h.keyId(), h.nonce()), replayId);
        Verdict known = checked.get(key);
        if (known != null) {
            // Recipients of one verification that share a replay id (or, scope signature, all of them) share one sighting.
            return known;
        }
        Instant expiresAt = Instant.ofEpochSecond(h.time()).plus(settings.maxAgeFor(h.periodSeconds()));
        Verdict v;
        try {
            v = switch (replayCache.record(key.signature(), replayId, maxRecipients, expiresAt)) {
                case FRESH -> new Verdict.Pass(h);
                case REPLAY -> fail(Reason.REPLAY, h, "nonce already seen for key id " + h.keyId());
                case RECIPIENT_LIMIT -> fail(Reason.REPLAY, h, "already passed for rc=" + maxRecipients + " recipients");
            };
        } catch (ReplayCacheException e) {
            v = new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.of(h), "replay cache: " + e.getMessage());
        } catch (RuntimeException e) {
            v = new Verdict.TempError(Reason.INTERNAL_ERROR, Optional.of(h), "replay cache failed: " + e.getClass().getSimpleName());
        }
        checked.put(key, v);
        return v;
    }

    /** The signature field as the MAC saw it: the b= value (with its surrounding whitespace) removed. */
    static String withEmptyB(HeaderField field) throws SignatureFormatException {
        TagList.Tag b = SignatureHeader.tagList(field).get("b");
        if (b == null) {
            throw new SignatureFormatException(Reason.MALFORMED, "missing tag b=");
        }
        return new String(withEmptyBBytes(field, b), StandardCharsets.ISO_8859_1);
    }

    /**
     * The same as the field's raw bytes, with the b= tag of its value already parsed: cut straight from the bytes the
     * message was read into (the name part, and so its colon and end, is unchanged).
     */
    private static byte[] withEmptyBBytes(HeaderField field, TagList.Tag b) {
        byte[] src = field.bytes();
        int valueStart = field.colon() + 1;
        int cutFrom = valueStart + b.valueStart();
        int cutTo = valueStart + b.valueEnd();
        byte[] out = new byte[field.length() - (cutTo - cutFrom)];
        int head = cutFrom - field.start();
        System.arraycopy(src, field.start(), out, 0, head);
        System.arraycopy(src, cutTo, out, head, field.end() - cutTo);
        return out;
    }

    /**
     * An envelope recipient: a domain, or local@domain, optionally in one pair of angle brackets (the RFC 5321 path
     * form). Anything else is an IllegalArgumentException naming it: a verdict for a recipient that nothing can bind
     * would silently say wrong-recipient for every signature.
     */
    private static Recipient recipient(String given) {
        String path = given.trim();
        if (path.length() >= 2 && path.charAt(0) == '<' && path.charAt(path.length() - 1) == '>') {
            path = path.substring(1, path.length() - 1);
        }
        int at = path.lastIndexOf('@');
        String domain;
        try {
            if (at == 0) {
                throw new IllegalArgumentException("empty local part");
            }
            domain = Recipients.domainOf(path);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a recipient (a domain, or local@domain): '" + TagList.printable(given) + "'");
        }
        String mailbox = null;
        if (at > 0) {
            try {
                mailbox = Recipients.binding(path);
            } catch (IllegalArgumentException e) {
                // A mailbox r= cannot name it, but a domain binding still can.
            }
        }
        return new Recipient(given, domain, mailbox);
    }

    private static Verdict fail(Reason reason, SignatureHeader h, String detail) {
        return new Verdict.Fail(reason, Optional.ofNullable(h), detail);
    }

    private static Map<String, Verdict> all(Collection<String> recipients, Verdict v) {
        Map<String, Verdict> out = new LinkedHashMap<>();
        for (String r : recipients) {
            out.put(r, v);
        }
        return out;
    }
}
