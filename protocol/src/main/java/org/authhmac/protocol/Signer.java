package org.authhmac.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Makes X-Auth-HMAC header fields for a raw RFC 5322 message, one per {@link SignRequest}. The message is read
 * once: the header block into memory (bounded), the body streamed into SHA-256. Thread-safe.
 */
public final class Signer {
    /** Fields RFC 5322 §3.6 and RFC 2045 allow once; a second instance fails the message whether or not it is signed. */
    static final List<String> SINGLETON_HEADERS =
            List.of("from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
                    "mime-version", "content-type", "content-transfer-encoding");
    /** Base64 of an HMAC-SHA256, padded. */
    private static final int MAC_BASE64_CHARS = 44;

    private final SignerSettings settings;
    private final SecureRandom random;
    private final String headerNameLower;

    public Signer(SignerSettings settings) {
        this(settings, new SecureRandom());
    }

    public Signer(SignerSettings settings, SecureRandom random) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.random = Objects.requireNonNull(random, "random");
        this.headerNameLower = settings.headerName().toLowerCase(Locale.ROOT);
    }

    public SignerSettings settings() {
        return settings;
    }

    /**
     * Returns complete header field lines ("X-Auth-HMAC: v=1; ...") without trailing CRLF, in request order.
     * The caller prepends them to the message unchanged.
     *
     * @throws MalformedMessageException the message cannot be signed (no or several From, a duplicated
     *         singleton header, a header block over the bound, a line that is not a header field, a From field whose
     *         author domain is not d= of a domain-bound request, more fields than h= may list, a signature field
     *         that would exceed its bound)
     * @throws IllegalArgumentException a request names a key id, domain or recipient that cannot go on the wire
     */
    public List<String> sign(InputStream message, List<SignRequest> requests, PeriodKeys keys)
            throws IOException, UnknownKeyException, KeyUnavailableException {
        Objects.requireNonNull(message, "message");
        List<Prepared> prepared = prepare(requests, keys);
        return sign(RawMessage.read(message, settings.maxHeaderBytes()), prepared, keys);
    }

    /**
     * The same for a message already in memory, {@code message[off, off + len)}: header fields and body are read
     * in place, without the stream's copies (what the signing mailets hold anyway). The array must not change
     * during the call.
     */
    public List<String> sign(byte[] message, int off, int len, List<SignRequest> requests, PeriodKeys keys)
            throws IOException, UnknownKeyException, KeyUnavailableException {
        Objects.requireNonNull(message, "message");
        List<Prepared> prepared = prepare(requests, keys);
        return sign(RawMessage.read(message, off, len, settings.maxHeaderBytes()), prepared, keys);
    }

    private List<Prepared> prepare(List<SignRequest> requests, PeriodKeys keys) {
        Objects.requireNonNull(requests, "requests");
        Objects.requireNonNull(keys, "keys");
        List<Prepared> prepared = new ArrayList<>(requests.size());
        for (SignRequest r : requests) {
            prepared.add(prepare(r));
        }
        return prepared;
    }

    private List<String> sign(RawMessage msg, List<Prepared> prepared, PeriodKeys keys)
            throws IOException, UnknownKeyException, KeyUnavailableException {
        List<HeaderField> fields = msg.fields();
        FieldCounts counts = FieldCounts.of(fields);
        int froms = counts.count("from");
        if (froms != 1) {
            throw new MalformedMessageException("cannot sign: the message has " + froms
                    + " From header fields, exactly one is required");
        }
        for (String name : SINGLETON_HEADERS) {
            int n = counts.count(name);
            if (n > 1) {
                throw new MalformedMessageException("cannot sign: " + n + " '" + name
                        + "' header fields; RFC 5322 allows one and verifiers reject the message as duplicate-header");
            }
        }
        checkAuthor(fields, counts, prepared);
        List<String> h = signedHeaderList(counts);
        if (h.size() > SignatureHeader.MAX_SIGNED_HEADERS) {
            throw new MalformedMessageException("cannot sign: h= would name " + h.size() + " header fields, verifiers accept at most "
                    + SignatureHeader.MAX_SIGNED_HEADERS);
        }
        String bodyHash = Base64.getEncoder().encodeToString(msg.bodyHash(settings.bodyCanonicalization()));
        String c = CanonicalizationPolicy.of(settings.headerCanonicalization(), settings.bodyCanonicalization()).tag();
        int[] picked = counts.pick(h);

        List<String> lines = new ArrayList<>(prepared.size());
        for (Prepared p : prepared) {
            String nonce = p.nonce != null ? p.nonce : newNonce();
            SignatureHeader header = new SignatureHeader(HeaderVersions.SIGNING.version(), SignatureHeader.ALGORITHM, p.domain,
                    p.keyId, p.time, settings.periodSeconds(), c, h, bodyHash, p.recipient, nonce, null, p.recipientCount,
                    p.serverVerdict, p.partnerDomain);
            String unsigned = settings.headerName() + ": " + header.format();
            if (unsigned.length() + MAC_BASE64_CHARS > SignatureHeader.MAX_FIELD_OCTETS) {
                throw new MalformedMessageException("cannot sign: the signature header field would have "
                        + (unsigned.length() + MAC_BASE64_CHARS) + " octets, verifiers accept at most " + SignatureHeader.MAX_FIELD_OCTETS);
            }
            PeriodKey key = keys.periodKey(header.kdfContext());
            byte[] mac = key.newMac().doFinal(MacInput.build(fields, picked, settings.headerCanonicalization(), unsigned));
            lines.add(unsigned + Base64.getEncoder().encodeToString(mac));
        }
        long withSignatures = msg.headerOctets();
        for (String line : lines) {
            withSignatures += line.length() + 2;
        }
        if (withSignatures > settings.maxHeaderBytes()) {
            // Verifiers bound the header block as it arrives, our fields included: they would call it malformed.
            throw new MalformedMessageException("cannot sign: with its signature fields the header block would have "
                    + withSignatures + " octets, verifiers accept at most " + settings.maxHeaderBytes());
        }
        return lines;
    }

    /**
     * A domain-bound signature says "d= wrote this": the From field must name one mailbox in d=, read as verifiers
     * read it (AuthorDomain), or every verifier answers from-mismatch. Mailbox-bound requests are exempt.
     */
    private static void checkAuthor(List<HeaderField> fields, FieldCounts counts, List<Prepared> prepared)
            throws MalformedMessageException {
        Optional<String> author = null;
        for (Prepared p : prepared) {
            if (p.recipient.indexOf('@') >= 0) {
                continue;
            }
            if (author == null) {
                author = AuthorDomain.of(fields.get(counts.first("from")));
            }
            if (author.isEmpty()) {
                throw new MalformedMessageException("cannot sign for d=" + p.domain + ": the From field is not a single"
                        + " mailbox with a plain domain as verifiers read it (no group, one address, PROTOCOL.md 9.2)");
            }
            if (!author.get().equals(p.domain)) {
                throw new MalformedMessageException("cannot sign for d=" + p.domain + ": the From field names the domain "
                        + author.get() + ", and verifiers answer from-mismatch unless it is d=");
            }
        }
    }

    private record Prepared(String keyId, String domain, String recipient, long time, String nonce, int recipientCount,
                            String serverVerdict, String partnerDomain) {
    }

    private Prepared prepare(SignRequest r) {
        if (!SignatureHeader.isKeyId(r.keyId())) {
            throw new IllegalArgumentException("key id must be 1..64 characters of [A-Za-z0-9._-]: " + TagList.printable(r.keyId()));
        }
        if (r.time().getEpochSecond() < 0) {
            throw new IllegalArgumentException("signing time before 1970");
        }
        String recipient = Recipients.binding(r.recipient());
        if (r.serverVerdict() != null && recipient.indexOf('@') < 0) {
            throw new IllegalArgumentException("sv= (the server's verdict) goes only into a mailbox-bound signature, not r=" + recipient);
        }
        return new Prepared(r.keyId(), Recipients.domain(r.domain()), recipient, r.time().getEpochSecond(), r.fixedNonce(),
                r.recipientCount(), r.serverVerdict(), r.partnerDomain() == null ? null : Recipients.domain(r.partnerDomain()));
    }

    /**
     * Oversigned names appear (occurrences + 1) times, so that a later added instance breaks the MAC; then every
     * other field present, as often as it occurs, except the ignore list: verifiers fail a message with a field h=
     * does not cover (PROTOCOL.md 5.2, 5.3).
     */
    private List<String> signedHeaderList(FieldCounts counts) throws MalformedMessageException {
        List<String> h = new ArrayList<>();
        List<String> oversigned = settings.oversignedHeaders();
        for (String name : oversigned) {
            for (int i = counts.count(name) + 1; i > 0; i--) {
                h.add(name);
            }
        }
        Set<String> listed = new HashSet<>(oversigned);
        for (String name : settings.signedIfPresentHeaders()) {
            if (listed.add(name)) {
                for (int i = counts.count(name); i > 0; i--) {
                    h.add(name);
                }
            }
        }
        for (String name : counts.names()) {
            if (listed.contains(name) || FieldCounts.ignored(name, headerNameLower)) {
                continue;
            }
            if (name.indexOf(';') >= 0) {
                throw new MalformedMessageException("cannot sign: the field name '" + TagList.printable(name)
                        + "' contains ';', which h= cannot hold, and verifiers fail a field h= does not list");
            }
            for (int i = counts.count(name); i > 0; i--) {
                h.add(name);
            }
            if (h.size() > SignatureHeader.MAX_SIGNED_HEADERS) {
                break;
            }
        }
        if (h.size() > SignatureHeader.MAX_SIGNED_HEADERS) {
            throw new MalformedMessageException("cannot sign: the message has more header fields than the "
                    + SignatureHeader.MAX_SIGNED_HEADERS + " names h= may list");
        }
        return h;
    }

    private String newNonce() {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
