package org.authhmac.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * Makes X-Auth-HMAC header fields for a raw RFC 5322 message, one per {@link SignRequest}. The message is read
 * once: the header block into memory (bounded), the body streamed into SHA-256. Thread-safe.
 */
public final class Signer {
    /** RFC 5322 §3.6 allows each of these at most once; a verifier rejects a second one as duplicate-header. */
    /** Fields RFC 5322 §3.6 and RFC 2045 allow once; a second instance fails the message whether or not it is signed. */
    static final List<String> SINGLETON_HEADERS =
            List.of("from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
                    "mime-version", "content-type", "content-transfer-encoding");
    static final String[] SINGLETON_NAMES = SINGLETON_HEADERS.toArray(String[]::new);
    /** Index of "from" in SINGLETON_HEADERS, and so in every counted-names array that starts with them. */
    private static final int FROM_AT = 0;
    /** Base64 of an HMAC-SHA256, padded. */
    private static final int MAC_BASE64_CHARS = 44;

    private final SignerSettings settings;
    private final SecureRandom random;
    /** Every name signing counts (From, the singletons, the signed ones), so that one pass over the fields counts all. */
    private final String[] counted;
    private final int[] singletonAt;
    private final int[] oversignedAt;
    private final int[] ifPresentAt;

    public Signer(SignerSettings settings) {
        this(settings, new SecureRandom());
    }

    public Signer(SignerSettings settings, SecureRandom random) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.random = Objects.requireNonNull(random, "random");
        List<String> names = new ArrayList<>(SINGLETON_HEADERS);
        for (String n : settings.oversignedHeaders()) {
            if (!names.contains(n)) {
                names.add(n);
            }
        }
        for (String n : settings.signedIfPresentHeaders()) {
            if (!names.contains(n)) {
                names.add(n);
            }
        }
        this.counted = names.toArray(String[]::new);
        this.singletonAt = SINGLETON_HEADERS.stream().mapToInt(names::indexOf).toArray();
        this.oversignedAt = settings.oversignedHeaders().stream().mapToInt(names::indexOf).toArray();
        this.ifPresentAt = settings.signedIfPresentHeaders().stream().mapToInt(names::indexOf).toArray();
    }

    public SignerSettings settings() {
        return settings;
    }

    /**
     * Returns complete header field lines ("X-Auth-HMAC: v=1; ...") without trailing CRLF, in request order.
     * The caller prepends them to the message unchanged.
     *
     * @throws MalformedMessageException the message cannot be signed (no or several From, a duplicated
     *         singleton header, a header block over the bound, a line that is not a header field)
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
        int[] counts = count(fields, counted);
        int froms = counts[FROM_AT];
        if (froms != 1) {
            throw new MalformedMessageException("cannot sign: the message has " + froms
                    + " From header fields, exactly one is required");
        }
        for (int k = 0; k < singletonAt.length; k++) {
            int n = counts[singletonAt[k]];
            if (n > 1) {
                throw new MalformedMessageException("cannot sign: " + n + " '" + SINGLETON_HEADERS.get(k)
                        + "' header fields; RFC 5322 allows one and verifiers reject the message as duplicate-header");
            }
        }
        String bodyHash = Base64.getEncoder().encodeToString(msg.bodyHash(settings.bodyCanonicalization()));
        List<String> h = signedHeaderList(counts);
        if (h.size() > SignatureHeader.MAX_SIGNED_HEADERS) {
            throw new MalformedMessageException("cannot sign: h= would name " + h.size() + " header fields, verifiers accept at most "
                    + SignatureHeader.MAX_SIGNED_HEADERS);
        }
        String c = settings.headerCanonicalization().token() + "/" + settings.bodyCanonicalization().token();

        List<String> lines = new ArrayList<>(prepared.size());
        for (Prepared p : prepared) {
            String nonce = p.nonce != null ? p.nonce : newNonce();
            SignatureHeader header = new SignatureHeader(SignatureHeader.VERSION, SignatureHeader.ALGORITHM, p.domain,
                    p.keyId, p.time, settings.periodSeconds(), c, h, bodyHash, p.recipient, nonce, null);
            String unsigned = settings.headerName() + ": " + header.format();
            if (unsigned.length() + MAC_BASE64_CHARS > SignatureHeader.MAX_FIELD_OCTETS) {
                throw new MalformedMessageException("cannot sign: the signature header field would have "
                        + (unsigned.length() + MAC_BASE64_CHARS) + " octets, verifiers accept at most " + SignatureHeader.MAX_FIELD_OCTETS);
            }
            PeriodKey key = keys.periodKey(header.kdfContext());
            byte[] mac = key.newMac().doFinal(MacInput.build(msg.fields(), h, settings.headerCanonicalization(), unsigned));
            lines.add(unsigned + Base64.getEncoder().encodeToString(mac));
        }
        return lines;
    }

    private record Prepared(String keyId, String domain, String recipient, long time, String nonce) {
    }

    private Prepared prepare(SignRequest r) {
        if (!SignatureHeader.isKeyId(r.keyId())) {
            throw new IllegalArgumentException("key id must be 1..64 characters of [A-Za-z0-9._-]: " + TagList.printable(r.keyId()));
        }
        if (r.time().getEpochSecond() < 0) {
            throw new IllegalArgumentException("signing time before 1970");
        }
        return new Prepared(r.keyId(), Recipients.domain(r.domain()), Recipients.binding(r.recipient()),
                r.time().getEpochSecond(), r.fixedNonce());
    }

    /** Oversigned names appear (occurrences + 1) times, so that a later added instance breaks the MAC. */
    private List<String> signedHeaderList(int[] counts) {
        List<String> h = new ArrayList<>();
        List<String> oversigned = settings.oversignedHeaders();
        for (int k = 0; k < oversignedAt.length; k++) {
            String name = oversigned.get(k);
            int n = counts[oversignedAt[k]] + 1;
            for (int i = 0; i < n; i++) {
                h.add(name);
            }
        }
        List<String> ifPresent = settings.signedIfPresentHeaders();
        for (int k = 0; k < ifPresentAt.length; k++) {
            String name = ifPresent.get(k);
            if (oversigned.contains(name)) {
                continue;
            }
            int n = counts[ifPresentAt[k]];
            for (int i = 0; i < n; i++) {
                h.add(name);
            }
        }
        return h;
    }

    /** How many fields carry each of {@code lowerNames}, in one pass over the fields ({@link FieldNames#count}). */
    static int[] count(List<HeaderField> fields, String[] lowerNames) {
        return FieldNames.count(fields, lowerNames);
    }

    private String newNonce() {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
