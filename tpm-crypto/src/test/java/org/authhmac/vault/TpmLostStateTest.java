package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.authhmac.testing.tpm.Swtpm;
import org.authhmac.vault.tpm2.TcpTpmDevice;
import org.authhmac.vault.tpm2.TpmBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tss.Tpm;
import tss.tpm.GetCapabilityResponse;
import tss.tpm.TPML_HANDLE;
import tss.tpm.TPM_CAP;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_HT;

/**
 * The TPM forgets our objects while the connection stays up (another client on a TPM without a resource manager
 * flushed them, or the TPM was reset): the backend restores what it needs and answers the same call.
 */
class TpmLostStateTest {
    @TempDir
    Path dir;
    private Swtpm swtpm;
    private final List<TcpTpmDevice> connections = new CopyOnWriteArrayList<>();
    private TpmBackend backend;

    @BeforeEach
    void start() {
        swtpm = Swtpm.start();
        backend = new TpmBackend(() -> {
            TcpTpmDevice d = new TcpTpmDevice(swtpm.host(), swtpm.port(), true, 2000);
            connections.add(d);
            return d;
        }, "swtpm", dir.resolve("blobs"), true);
    }

    @AfterEach
    void stop() {
        backend.close();
        swtpm.close();
    }

    private static byte[] hmac(byte[] key, byte[] data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }

    @Test
    void objectsFlushedByAnotherClientAreReloadedAndTheSameCallAnswers() throws Exception {
        // given a key loaded and used on the backend's connection
        String reference = backend.store("k1", TestVaults.PRIMARY.clone());
        byte[] first = "period 1".getBytes(StandardCharsets.US_ASCII);
        assertThat(backend.hmacSha256("k1", reference, first)).isEqualTo(hmac(TestVaults.PRIMARY, first));

        // when another client on the same connection flushes every transient object (storage key and HMAC key)
        Tpm other = new Tpm();
        other._setDevice(connections.get(0));
        GetCapabilityResponse caps = other.GetCapability(TPM_CAP.HANDLES, TPM_HT.TRANSIENT.toInt() << 24, 64);
        TPM_HANDLE[] handles = ((TPML_HANDLE) caps.capabilityData).handle;
        for (TPM_HANDLE h : handles) {
            other.FlushContext(h);
        }
        assertThat(handles).hasSize(2);

        // then the next derivation answers with the TPM's HMAC, after reloading on the connection it had
        byte[] second = "period 2".getBytes(StandardCharsets.US_ASCII);
        assertThat(backend.hmacSha256("k1", reference, second)).isEqualTo(hmac(TestVaults.PRIMARY, second));
        assertThat(connections).as("no reconnection: the lost objects were reloaded").hasSize(1);
        assertThat(backend.transientObjectCount()).isEqualTo(2);
    }

    @Test
    void aTpmReinitialisedUnderAnOpenConnectionIsStartedAgainAndAnswers() throws Exception {
        // given a key loaded and used on the backend's connection
        String reference = backend.store("k1", TestVaults.PRIMARY.clone());
        byte[] first = "period 1".getBytes(StandardCharsets.US_ASCII);
        assertThat(backend.hmacSha256("k1", reference, first)).isEqualTo(hmac(TestVaults.PRIMARY, first));

        // when the TPM is reset under the open connection (swtpm's CMD_INIT on its control port): it forgot every
        // object and answers TPM_RC_INITIALIZE until it is started again
        try (Socket ctrl = new Socket(swtpm.host(), swtpm.port() + 1)) {
            DataOutputStream out = new DataOutputStream(ctrl.getOutputStream());
            out.writeInt(2); // CMD_INIT
            out.writeInt(0); // no flags
            out.flush();
            assertThat(new DataInputStream(ctrl.getInputStream()).readInt()).as("CMD_INIT result").isZero();
        }

        // then the next derivation answers (the backend started the TPM again), not every derivation from now on failing
        byte[] second = "period 2".getBytes(StandardCharsets.US_ASCII);
        assertThat(backend.hmacSha256("k1", reference, second)).isEqualTo(hmac(TestVaults.PRIMARY, second));
    }
}
