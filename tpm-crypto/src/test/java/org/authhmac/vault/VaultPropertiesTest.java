package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Typed reading of the vault properties: every accepted spelling, every bound, and the property named on a bad value. */
class VaultPropertiesTest {
    @TempDir
    Path dir;

    private VaultProperties props(String... nameValues) {
        Properties p = new Properties();
        for (int i = 0; i < nameValues.length; i += 2) {
            p.setProperty(nameValues[i], nameValues[i + 1]);
        }
        return new VaultProperties(p, dir);
    }

    @Test
    void aSwitchReadsTrueYesOnAndFalseNoOffInAnyCaseAndItsDefaultWhenUnset() {
        for (String yes : new String[] {"true", "YES", "On"}) {
            assertThat(props("tpm.tcpNoDelay", yes).bool("tpm.tcpNoDelay", false)).as(yes).isTrue();
        }
        for (String no : new String[] {"false", "No", "OFF"}) {
            assertThat(props("tpm.tcpNoDelay", no).bool("tpm.tcpNoDelay", true)).as(no).isFalse();
        }
        assertThat(props().bool("tpm.tcpNoDelay", true)).isTrue();
        assertThat(props().bool("tpm.tcpNoDelay", false)).isFalse();
        assertThat(props("tpm.tcpNoDelay", " ").bool("tpm.tcpNoDelay", true)).isTrue();
    }

    @Test
    void aNumberIsAcceptedFromItsMinimumToItsMaximumAndRefusedOneBeyondEither() {
        assertThat(props("tpm.port", "1").integer("tpm.port", 7, 1, 65_534)).isEqualTo(1);
        assertThat(props("tpm.port", "65534").integer("tpm.port", 7, 1, 65_534)).isEqualTo(65_534);
        assertThat(props().integer("tpm.port", 7, 1, 65_534)).isEqualTo(7);
        assertThatThrownBy(() -> props("tpm.port", "0").integer("tpm.port", 7, 1, 65_534))
                .isInstanceOf(VaultConfigException.class).hasMessage("tpm.port: must be between 1 and 65534, not 0");
        assertThatThrownBy(() -> props("tpm.port", "65535").integer("tpm.port", 7, 1, 65_534))
                .isInstanceOf(VaultConfigException.class).hasMessage("tpm.port: must be between 1 and 65534, not 65535");
    }

    @Test
    void aSecretIsReadInlineOrFromItsFileButNeverFromBoth() throws Exception {
        Files.writeString(dir.resolve("pin.txt"), "  1234 \n");

        assertThat(props("pkcs11.pin", "5678").secret("pkcs11.pin", "pkcs11.pinFile")).containsExactly('5', '6', '7', '8');
        assertThat(props("pkcs11.pinFile", "pin.txt").secret("pkcs11.pin", "pkcs11.pinFile")).containsExactly('1', '2', '3', '4');
        assertThatThrownBy(() -> props("pkcs11.pin", "5678", "pkcs11.pinFile", "pin.txt").secret("pkcs11.pin", "pkcs11.pinFile"))
                .isInstanceOf(VaultConfigException.class).hasMessageContaining("pkcs11.pinFile: set either pkcs11.pin or pkcs11.pinFile, not both");
        assertThatThrownBy(() -> props().secret("pkcs11.pin", "pkcs11.pinFile"))
                .isInstanceOf(VaultConfigException.class).hasMessage("pkcs11.pinFile: is required (or pkcs11.pin)");
        assertThatThrownBy(() -> props("pkcs11.pinFile", "missing.txt").secret("pkcs11.pin", "pkcs11.pinFile"))
                .isInstanceOf(VaultConfigException.class).hasMessageStartingWith("pkcs11.pinFile: cannot read ");
    }
}
