package org.authhmac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HeaderVersionsTest {
    private static final String VALID = "v=1; a=hmac-sha256; d=a.example; s=k1; t=1763776800; p=900; c=relaxed/relaxed;"
            + " r=b.example; n=Vb3kq9x0TtyZ2mQ8pL1aUw; h=from:to; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"
            + " b=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    @Test
    void versionOneIsWhatSignersWriteAndVerifiersAcceptByDefault() {
        assertThat(HeaderVersions.SIGNING.version()).isEqualTo(1);
        assertThat(HeaderVersions.DEFAULT_ACCEPTED).containsExactly(1);
        assertThat(VerifierSettings.defaults().acceptedVersions()).containsExactly(1);
        assertThat(HeaderVersions.of(1)).isInstanceOf(HeaderFormatV1.class);
    }

    @Test
    void versionOneDerivesUnderItsOwnLabel() {
        byte[] fixed = Kdf.fixedInput(new KdfContext(1, "k1", "a.example", 900, 7));
        String label = "X-Auth-HMAC v1 period key";

        assertThat(HeaderVersions.of(1).kdfLabel()).isEqualTo(label);
        assertThat(new String(fixed, 4, label.length(), StandardCharsets.US_ASCII)).isEqualTo(label);
        assertThat(new KdfContext("k1", "a.example", 900, 7)).isEqualTo(new KdfContext(1, "k1", "a.example", 900, 7));
    }

    @Test
    void aVerifierCanBeToldTheVersionsItAcceptsAndKeepsItsOtherSettings() {
        VerifierSettings settings = VerifierSettings.defaults().withPreviousPeriods(3).withAcceptedVersions(Set.of(1));

        assertThat(settings.acceptedVersions()).containsExactly(1);
        assertThat(settings.previousPeriods()).isEqualTo(3);
        assertThat(settings.withMaxHeaders(7).acceptedVersions()).containsExactly(1);
    }

    @Test
    void anUnknownVersionHasNoFormatNoKeyContextAndNoPlaceInTheSettings() {
        assertThatThrownBy(() -> HeaderVersions.of(2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown header version 2");
        assertThatThrownBy(() -> new KdfContext(2, "k1", "a.example", 900, 7)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> VerifierSettings.defaults().withAcceptedVersions(Set.of(1, 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("acceptedVersions: ");
        assertThatThrownBy(() -> VerifierSettings.defaults().withAcceptedVersions(Set.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("acceptedVersions");
    }

    @Test
    void aVersionTheVerifierDoesNotAcceptIsUnsupportedEvenWhenKnown() throws Exception {
        TagList tags = SignatureHeader.tagList(VALID);

        assertThat(HeaderVersions.parse(tags, Set.of(1)).version()).isEqualTo(1);
        assertThatThrownBy(() -> HeaderVersions.parse(tags, Set.of()))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_VERSION));
    }

    @ParameterizedTest(name = "v={0}")
    @CsvSource({"2", "01", "+1", "1.0"})
    void anyOtherVersionTextIsUnsupported(String v) {
        assertThatThrownBy(() -> SignatureHeader.parse(VALID.replace("v=1;", "v=" + v + ";")))
                .isInstanceOfSatisfying(SignatureFormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_VERSION));
    }

    @Test
    void formatIsTheVersionsFormat() throws Exception {
        SignatureHeader h = SignatureHeader.parse(VALID);

        assertThat(h.format()).isEqualTo(HeaderVersions.of(1).format(h)).startsWith("v=1; a=hmac-sha256;");
    }
}
