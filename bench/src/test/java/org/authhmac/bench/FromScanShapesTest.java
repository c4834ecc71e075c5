package org.authhmac.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.authhmac.james.matchers.FromClaims;
import org.junit.jupiter.api.Test;

class FromScanShapesTest {

    @Test
    void everyHostileFromFieldIsWithinTheBoundsSoTheReadingsReadItInFull() {
        Map<String, String> shapes = FromScanShapes.all();
        assertThat(shapes).hasSize(11);
        shapes.forEach((name, from) -> {
            assertThat(from.length()).as(name).isLessThanOrEqualTo(FromClaims.MAX_FIELD_CHARS);
            assertThat(FromClaims.basis(from, "a.example")).as(name).isNotEqualTo("FROM_OVER_BOUND");
        });
    }

    @Test
    void theOrdinaryFromFieldNamesThePartnerAndTheHostileOnesDoNotPassForIt() {
        assertThat(FromClaims.basis(FromScanShapes.BENIGN, "a.example")).isEqualTo("FROM_NAMES_PARTNER");
        assertThat(FromClaims.basis(FromScanShapes.BENIGN, "c.example")).isEqualTo("NOT_CLAIMED");
    }
}
