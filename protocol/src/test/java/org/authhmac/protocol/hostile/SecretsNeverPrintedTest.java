package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.authhmac.protocol.Kdf;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.SignatureHeader;
import org.authhmac.protocol.Verdict;
import org.authhmac.protocol.fuzz.FuzzFixtures;
import org.junit.jupiter.api.Test;

/**
 * The protocol half of the secrets check (the e2e half greps the servers' files): nothing the protocol
 * prints (verdicts with their details and parsed headers, key objects) contains the primary or a period key
 * in hex, base64 or base64url, whatever message it was given.
 */
class SecretsNeverPrintedTest {

    @Test
    void noVerdictForAnySeedOrHostileMessageContainsAKey() throws Exception {
        List<String> printed = new ArrayList<>();
        for (byte[] message : corpus()) {
            Verdict v = FuzzFixtures.verify(message);
            printed.add(v.toString());
            printed.add(v.detail());
        }
        PeriodKeys keys = FuzzFixtures.keys();
        KdfContext ctx = periodOfTheSeeds();
        printed.add(keys.toString());
        printed.add(keys.periodKey(ctx).toString());

        List<String> forms = secretForms(ctx);
        assertThat(printed).hasSizeGreaterThan(40);
        for (String p : printed) {
            String lower = p.toLowerCase(Locale.ROOT);
            for (String form : forms) {
                assertThat(lower).as("printed text contains a key").doesNotContain(form.toLowerCase(Locale.ROOT));
            }
        }
    }

    /** The check can fail: a string that holds the period key in base64 is caught. */
    @Test
    void theCheckRecognisesAPeriodKeyInBase64() {
        KdfContext ctx = periodOfTheSeeds();
        String leaked = "detail: key=" + Base64.getEncoder().encodeToString(Kdf.derive(FuzzFixtures.PRIMARY, ctx));

        assertThat(secretForms(ctx)).anyMatch(leaked::contains);
    }

    private static KdfContext periodOfTheSeeds() {
        long t = FuzzFixtures.SIGNED_AT.getEpochSecond();
        return new KdfContext(FuzzFixtures.KEY_ID, FuzzFixtures.SIGNING_DOMAIN, SignatureHeader.DEFAULT_PERIOD_SECONDS,
                KdfContext.periodOf(t, SignatureHeader.DEFAULT_PERIOD_SECONDS));
    }

    /** Hex, base64 and base64url of the primary and of K_p, cut to 16 characters so that a partial print counts too. */
    private static List<String> secretForms(KdfContext ctx) {
        List<String> out = new ArrayList<>();
        for (byte[] key : List.of(FuzzFixtures.PRIMARY, Kdf.derive(FuzzFixtures.PRIMARY, ctx))) {
            for (String form : List.of(HexFormat.of().formatHex(key), Base64.getEncoder().encodeToString(key),
                    Base64.getUrlEncoder().withoutPadding().encodeToString(key))) {
                out.add(form.substring(0, 16));
                out.add(form.substring(form.length() / 2, form.length() / 2 + 16));
            }
        }
        return out;
    }

    private static List<byte[]> corpus() throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (String target : List.of("verifier", "canonicalization")) {
            Path dir = Path.of(SecretsNeverPrintedTest.class.getResource("/fuzz/" + target).toURI());
            try (Stream<Path> files = Files.list(dir)) {
                files.sorted().forEach(p -> {
                    try {
                        out.add(Files.readAllBytes(p));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
        String signed = HostileMessagesTest.latin1(FuzzFixtures.signed(HostileMessagesTest.RELAXED,
                HostileMessagesTest.bytes(HostileMessagesTest.MESSAGE)));
        for (String damaged : List.of(signed, signed.replace("Hello", "Jello"), signed.replace("Quarterly", "Monthly"),
                signed.replace("s=k1", "s=unknown"), signed.replace("v=1", "v=9"), signed.replace("; b=", "; b=junk"))) {
            out.add(HostileMessagesTest.bytes(damaged));
        }
        return out;
    }
}
