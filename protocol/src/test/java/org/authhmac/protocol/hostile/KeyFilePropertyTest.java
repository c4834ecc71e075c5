package org.authhmac.protocol.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.authhmac.protocol.client.MailboxKey;
import org.junit.jupiter.api.Test;

/**
 * A mail client's key file (MailboxKey.parse), damaged in every way a download, an editor or an attacker can:
 * the only outcomes are a key or IllegalArgumentException (its documented failure), and neither the message
 * nor the key's toString ever contains the secret. Seeded: -Dproperty.seed=N, -Dproperty.cases=N.
 */
class KeyFilePropertyTest {
    static final long SEED = Long.getLong("property.seed", 20261122L);
    static final int CASES = Integer.getInteger("property.cases", 5_000) * 4;
    static final byte[] SECRET = HexFormat.of().parseHex("8f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0");
    static final String SECRET_B64URL = Base64.getUrlEncoder().withoutPadding().encodeToString(SECRET);
    static final String FILE = "# auth-hmac key file\nversion=1\nkey-id=user-k1\nmailbox=Bob@B.example\nsecret=" + SECRET_B64URL + "\n";

    @Test
    void anyDamagedKeyFileGivesAKeyOrAnIllegalArgumentExceptionThatNeverShowsTheSecret() {
        SplittableRandom r = new SplittableRandom(SEED);
        int keys = 0;
        int rejected = 0;
        for (int i = 0; i < CASES; i++) {
            String damaged = damage(FILE, r);
            String shown;
            try {
                shown = MailboxKey.parse(damaged).toString();
                keys++;
            } catch (IllegalArgumentException e) {
                shown = String.valueOf(e.getMessage());
                rejected++;
            }
            for (String part : secretParts()) {
                assertThat(shown).as("seed %d case %d: %s", SEED, i, damaged).doesNotContain(part);
            }
        }
        System.out.println("key files: " + CASES + " damaged, " + keys + " keys, " + rejected + " rejected");
        assertThat(keys).as("some damage leaves a usable file").isPositive();
        assertThat(rejected).isPositive();
    }

    /** 12-character windows of the secret in the forms a message could print it. */
    static java.util.List<String> secretParts() {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (String form : java.util.List.of(SECRET_B64URL, Base64.getEncoder().encodeToString(SECRET), HexFormat.of().formatHex(SECRET))) {
            for (int i = 0; i + 12 <= form.length(); i += 6) {
                out.add(form.substring(i, i + 12));
            }
        }
        return out;
    }

    static String damage(String file, SplittableRandom r) {
        byte[] b = file.getBytes(StandardCharsets.ISO_8859_1);
        StringBuilder sb = new StringBuilder(new String(b, StandardCharsets.ISO_8859_1));
        int edits = 1 + r.nextInt(4);
        String[] inserts = {"=", "\\", "\\u", "\\u00", "\n", "\r", " ", ":", "#", "!", "\0", "\u00ff", "secret=", "version=2",
                "mailbox=", "keyset=user:", "key-id=", "\\\n"};
        for (int e = 0; e < edits && !sb.isEmpty(); e++) {
            int at = r.nextInt(sb.length() + 1);
            switch (r.nextInt(4)) {
                case 0 -> sb.insert(at, inserts[r.nextInt(inserts.length)]);
                case 1 -> {
                    if (at < sb.length()) {
                        sb.deleteCharAt(at);
                    }
                }
                case 2 -> {
                    if (at < sb.length()) {
                        sb.setCharAt(at, (char) r.nextInt(256));
                    }
                }
                default -> sb.setLength(Math.max(0, Math.min(sb.length(), at)));
            }
        }
        return sb.toString();
    }
}
