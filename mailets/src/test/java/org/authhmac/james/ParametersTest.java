package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.mailet.MailetException;
import org.junit.jupiter.api.Test;

class ParametersTest {
    enum One { ONLY }

    enum Two { RECIPIENT, SIGNATURE }

    enum Three { QUARANTINE, MARK, DELETE }

    @Test
    void choiceReadsAConstantInAnyCaseAroundSpaces() throws Exception {
        assertThat(Parameters.choice("action", " Mark ", Three.class, Three.QUARANTINE)).isEqualTo(Three.MARK);
    }

    @Test
    void choiceAbsentOrBlankIsTheDefault() throws Exception {
        assertThat(Parameters.choice("action", null, Three.class, Three.DELETE)).isEqualTo(Three.DELETE);
        assertThat(Parameters.choice("action", "  ", Three.class, Three.DELETE)).isEqualTo(Three.DELETE);
    }

    @Test
    void unknownChoiceNamesTheParameterAndEveryConstantInOrder() {
        assertThatThrownBy(() -> Parameters.choice("action", " burn ", Three.class, Three.QUARANTINE))
                .isInstanceOf(MailetException.class)
                .hasMessage("auth-hmac: invalid parameter 'action': expected quarantine, mark or delete, got 'burn'");
        assertThatThrownBy(() -> Parameters.choice("replayScope", "message", Two.class, Two.RECIPIENT))
                .hasMessage("auth-hmac: invalid parameter 'replayScope': expected recipient or signature, got 'message'");
        assertThatThrownBy(() -> Parameters.choice("mode", "other", One.class, One.ONLY))
                .hasMessage("auth-hmac: invalid parameter 'mode': expected only, got 'other'");
    }

    @Test
    void theProcessorsAMailetSendsMailToLeaveOutAbsentOnesRepeatsAndGhost() {
        assertThat(Parameters.processingStates("auth-hmac-hold", null, "ghost", "auth-hmac-hold", "transport"))
                .extracting(org.apache.mailet.ProcessingState::getValue).containsExactly("auth-hmac-hold", "transport");
    }

    @Test
    void aBooleanParameterReadsTheWordsTheVaultPropertiesRead() throws Exception {
        assertThat(Parameters.bool("notifyRecipients", "on", false)).isTrue();
        assertThat(Parameters.bool("convertTo7Bit", "Off", true)).isFalse();
        assertThat(Parameters.bool("convertTo7Bit", null, true)).isTrue();
        assertThatThrownBy(() -> Parameters.bool("notifyRecipients", "ture", false))
                .hasMessage("auth-hmac: invalid parameter 'notifyRecipients': expected true or false, got 'ture'");
    }
}
