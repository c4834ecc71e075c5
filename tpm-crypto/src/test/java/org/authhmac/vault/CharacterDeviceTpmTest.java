package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.authhmac.vault.tpm2.CharacterDeviceTpm;
import org.authhmac.vault.tpm2.TpmTransportException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The character-device transport's framing, against a regular file standing in for /dev/tpmrm0: what follows the
 * written command in the file is what the "device" answers.
 */
class CharacterDeviceTpmTest {
    /** A TPM2_GetRandom(8) command; the content does not matter to the transport. */
    private static final byte[] COMMAND = {(byte) 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8};

    @TempDir
    Path dir;

    /** A stand-in device that answers {@code responseBytes} bytes to the command. */
    private Path deviceAnswering(int responseBytes) throws Exception {
        return Files.write(dir.resolve("tpmrm0"), new byte[COMMAND.length + responseBytes]);
    }

    @Test
    void aMissingDeviceIsAFailedConnectWithItsCauseAndIsNotCreated() {
        CharacterDeviceTpm device = new CharacterDeviceTpm(dir.resolve("tpmrm9").toString());

        assertThat(device.connect()).isFalse();
        assertThat(device.lastConnectError()).hasMessageContaining("tpmrm9");
        assertThat(dir.resolve("tpmrm9")).as("not created as a regular file").doesNotExist();
        assertThatThrownBy(() -> device.dispatchCommand(COMMAND)).isInstanceOf(TpmTransportException.class)
                .hasMessageContaining("is not open");
        assertThat(device).hasToString(dir.resolve("tpmrm9").toString());
    }

    @Test
    void aResponseOfATpmHeaderOrMoreIsReadyOnceAndThenTaken() throws Exception {
        Path path = deviceAnswering(10);
        CharacterDeviceTpm device = new CharacterDeviceTpm(path.toString());
        assertThat(device.connect()).isTrue();
        assertThat(device.responseReady()).isFalse();

        device.dispatchCommand(COMMAND);

        assertThat(device.responseReady()).isTrue();
        assertThat(device.getResponse()).hasSize(10);
        assertThat(device.responseReady()).isFalse();
        assertThatThrownBy(device::getResponse).isInstanceOf(TpmTransportException.class).hasMessageContaining("no response pending");
        device.close();
        assertThat(OwnerOnlyFilesTest.openDescriptorsOf(path)).as("closed").isZero();
    }

    @Test
    void aResponseShorterThanATpmHeaderClosesTheDevice() throws Exception {
        CharacterDeviceTpm device = new CharacterDeviceTpm(deviceAnswering(9).toString());
        assertThat(device.connect()).isTrue();

        assertThatThrownBy(() -> device.dispatchCommand(COMMAND)).isInstanceOf(TpmTransportException.class)
                .hasMessageContaining("short response (9 bytes)");
        assertThatThrownBy(() -> device.dispatchCommand(COMMAND)).isInstanceOf(TpmTransportException.class)
                .hasMessageContaining("is not open");
    }

    @Test
    void reconnectingClosesThePreviousHandle() throws Exception {
        Path path = deviceAnswering(10);
        CharacterDeviceTpm device = new CharacterDeviceTpm(path.toString());

        assertThat(device.connect()).isTrue();
        assertThat(device.connect()).isTrue();

        assertThat(OwnerOnlyFilesTest.openDescriptorsOf(path)).isOne();
        device.close();
        assertThat(OwnerOnlyFilesTest.openDescriptorsOf(path)).isZero();
    }
}
