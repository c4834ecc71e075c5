package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.authhmac.vault.tpm2.TcpTpmDevice;
import org.authhmac.vault.tpm2.TpmTransportException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The simulator protocol's response framing: a peer on the TPM port that is not a TPM (or a broken one) announces a
 * response length no TPM sends; the device refuses it before allocating or reading it, and drops the connection.
 * swtpm never sends such a response, so the peer here is a socket that speaks the framing only.
 */
@Timeout(30)
class TcpTpmDeviceTest {
    /** A TPM2_GetRandom(8) command; the content does not matter to the framing. */
    private static final byte[] COMMAND = {(byte) 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8};

    /** Accepts one connection, reads one framed command and answers with the given length and body. */
    private static CompletableFuture<Void> peer(ServerSocket server, int announcedLength, int bodyBytes) {
        return CompletableFuture.runAsync(() -> {
            try (Socket s = server.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                in.readInt(); // TPM_SEND_COMMAND
                in.readByte(); // locality
                in.readFully(new byte[in.readInt()]);
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                out.writeInt(announcedLength);
                out.write(new byte[bodyBytes]);
                out.writeInt(0);
                out.flush();
                s.getInputStream().read(); // until the device hangs up
            } catch (java.io.IOException e) {
                // the device may hang up before it reads what was sent: that is what a refusal looks like
            }
        });
    }

    private static TcpTpmDevice connectedTo(ServerSocket server) {
        TcpTpmDevice device = new TcpTpmDevice("127.0.0.1", server.getLocalPort(), true, 5000);
        assertThat(device.connect()).isTrue();
        return device;
    }

    @Test
    void refusesAResponseLongerThanAnyTpmSendsEvenWhenThePeerSendsItWhole() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> peer = peer(server, 65_537, 65_537);
            TcpTpmDevice device = connectedTo(server);
            device.dispatchCommand(COMMAND);

            assertThatThrownBy(device::getResponse).isInstanceOf(TpmTransportException.class)
                    .hasMessageContaining("implausible response length 65537");
            assertThatThrownBy(() -> device.dispatchCommand(COMMAND)).as("the connection is dropped")
                    .isInstanceOf(TpmTransportException.class).hasMessageContaining("not connected");
            peer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void refusesAHugeAnnouncedLengthWithoutWaitingForItsBody() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> peer = peer(server, Integer.MAX_VALUE, 0);
            TcpTpmDevice device = connectedTo(server);
            device.dispatchCommand(COMMAND);

            assertThatThrownBy(device::getResponse).isInstanceOf(TpmTransportException.class)
                    .hasMessageContaining("implausible response length " + Integer.MAX_VALUE);
            peer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void refusesAResponseShorterThanATpmHeader() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> peer = peer(server, 9, 9);
            TcpTpmDevice device = connectedTo(server);
            device.dispatchCommand(COMMAND);

            assertThatThrownBy(device::getResponse).isInstanceOf(TpmTransportException.class)
                    .hasMessageContaining("implausible response length 9");
            peer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void acceptsAResponseOfTheLargestPlausibleLength() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> peer = peer(server, 65_536, 65_536);
            TcpTpmDevice device = connectedTo(server);
            device.dispatchCommand(COMMAND);

            assertThat(device.getResponse()).hasSize(65_536);
            device.close();
            peer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPortNobodyListensOnIsAFailedConnectWithItsCause() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        TcpTpmDevice device = new TcpTpmDevice("127.0.0.1", port, true, 5000);

        assertThat(device.connect()).isFalse();
        assertThat(device.lastConnectError()).isInstanceOf(java.net.ConnectException.class);
        assertThat(device.responseReady()).isFalse();
        assertThatThrownBy(() -> device.dispatchCommand(COMMAND)).isInstanceOf(TpmTransportException.class)
                .hasMessageContaining("not connected to the TPM at 127.0.0.1:" + port);
    }

    @Test
    void closingOrReconnectingEndsTheSessionSoTheSimulatorServesTheNextConnection() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 2, InetAddress.getLoopbackAddress())) {
            TcpTpmDevice device = connectedTo(server);
            try (Socket first = server.accept()) {
                assertThat(device.connect()).as("a reconnect").isTrue();
                DataInputStream in = new DataInputStream(first.getInputStream());
                assertThat(in.readInt()).as("TPM_SESSION_END").isEqualTo(20);
                assertThat(in.read()).as("then the first connection is closed").isEqualTo(-1);
            }
            try (Socket second = server.accept()) {
                device.close();
                DataInputStream in = new DataInputStream(second.getInputStream());
                assertThat(in.readInt()).as("TPM_SESSION_END").isEqualTo(20);
                assertThat(in.read()).isEqualTo(-1);
            }
        }
    }

    @Test
    void aResponseIsReadyOnlyOnceThePeerHasSentIt() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> peer = peer(server, 10, 10);
            TcpTpmDevice device = connectedTo(server);
            assertThat(device.responseReady()).as("nothing asked yet").isFalse();

            device.dispatchCommand(COMMAND);
            while (!device.responseReady()) {
                Thread.onSpinWait(); // the class-level timeout bounds this
            }

            assertThat(device.getResponse()).hasSize(10);
            device.close();
            peer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void describesItselfByAddressAndSaysWhenNagleIsOn() {
        assertThat(new TcpTpmDevice("tpm.example", 2321, true, 5000)).hasToString("tcp:tpm.example:2321");
        assertThat(new TcpTpmDevice("tpm.example", 2321, false, 5000)).hasToString("tcp:tpm.example:2321 (Nagle on)");
    }
}
