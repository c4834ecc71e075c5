package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Review: the worst From fields within PartnerClaim's bounds for today's UTF-7 decoder and adjacent-word joining. */
class FromScanCpuAttackTest {
    private static long millis(String from) {
        PartnerClaim.of(List.of(from), Optional.empty(), Set.of("a.example"));
        long t = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            PartnerClaim.of(List.of(from), Optional.empty(), Set.of("a.example"));
        }
        long ms = (System.nanoTime() - t) / 5_000_000;
        System.out.println("FromScanCpuAttackTest " + from.length() + " chars: " + ms + " ms");
        return ms;
    }

    @Test
    void longUtf7RunsAndManyAdjacentWordsStayCheap() {
        String run = "=?utf-7?q?+" + "AEAA".repeat(60) + "?=";
        StringBuilder adjacent = new StringBuilder();
        for (int i = 0; i < 32; i++) {
            adjacent.append(run).append(' ');
        }
        String oneLongWord = "=?utf-7?b?" + "K0FFQUFF".repeat(1000) + "?= <x@evil.example>";
        String spaces = "=?utf-8?q?a?=" + " ".repeat(8000) + "=?utf-8?q?b?=";
        String plusses = "=?utf-7?q?" + "+".repeat(8100) + "?=";
        String lookaheads = "?= =?x?q?".repeat(30) + "@".repeat(200) + "y".repeat(5000);
        String latin = (adjacent + "<x@evil.example>").replace("utf-7", "utf-8");
        String noSpace = (adjacent + "<x@evil.example>").replace("?= =?", "?=x=?");
        String punycode = ("=?punycode?q?-" + "a".repeat(240) + "?=").repeat(32);
        String punycodeFront = "=?punycode?q?" + "a".repeat(4000) + "-" + "ba".repeat(2000) + "?=";
        // base64, so that the backslashes do not count as delimiters and the field is decoded, not refused unread
        String names = "=?unicode_escape?b?" + Base64.getEncoder().encodeToString("\\N{".repeat(2000).getBytes(StandardCharsets.ISO_8859_1)) + "?=";
        assertThat(PartnerClaim.of(List.of(names), Optional.empty(), Set.of("a.example")).basis())
                .isNotEqualTo(PartnerClaim.Basis.FROM_OVER_BOUND);
        for (String from : List.of(adjacent + "<x@evil.example>", latin, noSpace, oneLongWord, spaces, plusses, lookaheads,
                punycode, punycodeFront, names)) {
            assertThat(from.length()).isLessThanOrEqualTo(PartnerClaim.MAX_FIELD_CHARS);
            assertThat(millis(from)).as(from.substring(0, 40)).isLessThan(500);
        }
    }
}
