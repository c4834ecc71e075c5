package org.authhmac.vault.tpm2;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import tss.TpmDevice;

/**
 * The TPM simulator TCP protocol (as spoken by swtpm and the Microsoft simulator) on the command port only.
 * Written here rather than using TSS.Java's TpmDeviceTcp because that one sends each command in four small writes
 * without TCP_NODELAY (Nagle plus delayed ACK: ~40 ms a command), has no read timeout, and spins forever when the
 * emulator closes the socket. Here a command is one write, TCP_NODELAY is on by default, reads time out, and a closed
 * connection becomes a {@link TpmTransportException} so that the vault reconnects.
 */
public final class TcpTpmDevice extends TpmDevice {
    private static final int SEND_COMMAND = 8;
    private static final int SESSION_END = 20;

    private final String host;
    private final int port;
    private final boolean tcpNoDelay;
    private final int timeoutMillis;
    private Socket socket;
    private DataInputStream in;
    private OutputStream out;
    private IOException lastConnectError;

    public TcpTpmDevice(String host, int port, boolean tcpNoDelay, int timeoutMillis) {
        this.host = host;
        this.port = port;
        this.tcpNoDelay = tcpNoDelay;
        this.timeoutMillis = timeoutMillis;
        this.TpmInfo = TpmSocketConn;
    }

    @Override
    public boolean connect() {
        close();
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(tcpNoDelay);
            s.setSoTimeout(timeoutMillis);
            s.connect(new InetSocketAddress(host, port), timeoutMillis);
            socket = s;
            in = new DataInputStream(s.getInputStream());
            out = s.getOutputStream();
            lastConnectError = null;
            return true;
        } catch (IOException e) {
            lastConnectError = e;
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing to release
            }
            return false;
        }
    }

    /** Why the last {@link #connect()} failed, for the health signal and logs. */
    public IOException lastConnectError() {
        return lastConnectError;
    }

    @Override
    public void dispatchCommand(byte[] command) {
        if (socket == null) {
            throw new TpmTransportException("not connected to the TPM at " + host + ":" + port, null);
        }
        ByteBuffer frame = ByteBuffer.allocate(4 + 1 + 4 + command.length);
        frame.putInt(SEND_COMMAND).put((byte) 0).putInt(command.length).put(command);
        try {
            out.write(frame.array());
            out.flush();
        } catch (IOException e) {
            throw broken("sending a command", e);
        }
    }

    @Override
    public byte[] getResponse() {
        if (socket == null) {
            throw new TpmTransportException("not connected to the TPM at " + host + ":" + port, null);
        }
        try {
            int length = in.readInt();
            if (length < 10 || length > 65_536) {
                throw new IOException("implausible response length " + length);
            }
            byte[] response = new byte[length];
            in.readFully(response);
            in.readInt(); // the simulator protocol's trailing acknowledgement
            return response;
        } catch (EOFException e) {
            throw broken("reading a response (connection closed)", e);
        } catch (IOException e) {
            throw broken("reading a response", e);
        }
    }

    @Override
    public boolean responseReady() {
        try {
            return socket != null && in.available() > 0;
        } catch (IOException e) {
            throw broken("polling", e);
        }
    }

    private TpmTransportException broken(String doing, IOException e) {
        close();
        return new TpmTransportException("TPM at " + host + ":" + port + " failed while " + doing + ": " + e.getMessage(), e);
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                if (!socket.isClosed()) {
                    out.write(ByteBuffer.allocate(4).putInt(SESSION_END).array());
                    out.flush();
                }
            } catch (IOException ignored) {
                // the peer may already be gone
            }
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
            socket = null;
            in = null;
            out = null;
        }
    }

    @Override
    public String toString() {
        return "tcp:" + host + ":" + port + (tcpNoDelay ? "" : " (Nagle on)");
    }
}
