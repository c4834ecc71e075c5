package org.authhmac.protocol.fuzz;

import java.io.ByteArrayInputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.authhmac.protocol.Canonicalization;
import org.authhmac.protocol.InMemoryReplayCache;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.SignRequest;
import org.authhmac.protocol.Signer;
import org.authhmac.protocol.SignerSettings;
import org.authhmac.protocol.StaticPeriodKeys;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.Verifier;
import org.authhmac.protocol.VerifierSettings;

/**
 * Key, clock, signer and verifier shared by the fuzz, property and hostile-message tests. The key matches the
 * one in the protocol's own tests and in the seed corpus, so that signed seeds verify.
 */
public final class FuzzFixtures {
    public static final byte[] PRIMARY = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    public static final String KEY_ID = "k1";
    public static final String SIGNING_DOMAIN = "a.example";
    public static final String RECIPIENT = "bob@b.example";
    /** A period boundary for p = 900. */
    public static final Instant SIGNED_AT = Instant.ofEpochSecond(1_763_776_800L);
    public static final Instant ACCEPTED_AT = SIGNED_AT.plusSeconds(5);
    public static final String NONCE = "Vb3kq9x0TtyZ2mQ8pL1aUw";

    private static final MethodHandle RELAXED_HEADER;

    static {
        try {
            // HeaderCanonicalizer is package-private on purpose (it is not API); these tests live in their own
            // package, so they reach it by a private lookup rather than widening the production class.
            Class<?> c = Class.forName("org.authhmac.protocol.HeaderCanonicalizer");
            RELAXED_HEADER = MethodHandles.privateLookupIn(c, MethodHandles.lookup())
                    .findStatic(c, "relaxed", MethodType.methodType(String.class, String.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private FuzzFixtures() {
    }

    public static PeriodKeys keys() {
        return StaticPeriodKeys.of(KEY_ID, PRIMARY);
    }

    /** A verifier with default policy and a fresh replay cache, so that runs do not influence each other. */
    public static Verifier verifier() {
        return verifier(VerifierSettings.defaults());
    }

    public static Verifier verifier(VerifierSettings settings) {
        return new Verifier(settings, keys(), new InMemoryReplayCache(10_000, Clock.fixed(ACCEPTED_AT, ZoneOffset.UTC)));
    }

    public static Signer signer(Canonicalization header, Canonicalization body) {
        return new Signer(SignerSettings.defaults().withCanonicalization(header, body));
    }

    public static SignRequest request() {
        return new SignRequest(KEY_ID, SIGNING_DOMAIN, "b.example", SIGNED_AT).withFixedNonce(NONCE);
    }

    /** The message with the signature field lines (each followed by CRLF) put on top. */
    public static byte[] signed(Signer signer, byte[] message) throws Exception {
        List<String> lines = signer.sign(new ByteArrayInputStream(message), List.of(request()), keys());
        List<byte[]> parts = new ArrayList<>();
        int size = message.length;
        for (String l : lines) {
            byte[] b = (l + "\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            parts.add(b);
            size += b.length;
        }
        byte[] out = new byte[size];
        int pos = 0;
        for (byte[] b : parts) {
            System.arraycopy(b, 0, out, pos, b.length);
            pos += b.length;
        }
        System.arraycopy(message, 0, out, pos, message.length);
        return out;
    }

    public static Verdict verify(byte[] message) {
        return verifier().verify(new ByteArrayInputStream(message), ACCEPTED_AT, RECIPIENT);
    }

    /** RFC 6376 §3.4.2 relaxed header canonicalization of one raw field (name, colon, value, no final CRLF). */
    public static String relaxedHeader(String rawField) {
        try {
            return (String) RELAXED_HEADER.invokeExact(rawField);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
